import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// `berthctl init`: a new fleet repository with its CA.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a fleet repository: fleet.yaml, the fleet CA, clients/, certs/.",
        discussion: """
            The CA's private key is written outside the repository (mode 0600) and never enters it.
            With --signing-key, git is set up to SSH-sign every commit with that key, and the
            repository's `signers` file lists it; hosts then apply only commits it signed.

            Example:
              berthctl init fleet --fleet prod --signing-key ~/.ssh/id_ed25519.pub
              berthctl init fleet --fleet lab --ca-key /secure/lab-ca-key.pem --key-type rsa
            """
    )

    @Argument(help: "Directory for the repository (created if missing).")
    var directory: String = "."

    @Option(help: "Fleet name: \(ResourceName.rule).")
    var fleet: String

    @Option(help: ArgumentHelp("Where to keep the CA private key (default ~/.config/berth/FLEET/ca-key.pem).", valueName: "path"))
    var caKey: String?

    @Option(help: "CA key algorithm: ecdsa (P-256) or rsa (3072 bits).")
    var keyType: KeyType = .ecdsa

    @Option(help: ArgumentHelp("Sign every commit with this SSH key (its .pub file); hosts apply only signed commits.", valueName: "key.pub"))
    var signingKey: String?

    @Option(help: ArgumentHelp("The signer's name in the allowed-signers list (default: git's user.email).", valueName: "name"))
    var principal: String?

    func validate() throws {
        guard ResourceName.isValid(fleet) else {
            throw ValidationError("--fleet \"\(fleet)\" is not a valid name; use \(ResourceName.rule), e.g. \(ResourceName.suggestion(for: fleet))")
        }
    }

    func run() async throws {
        let dir = RepositoryOptions.absolute(directory)
        let repo = FleetRepository(root: dir)
        if FileManager.default.fileExists(atPath: repo.specPath) {
            throw BerthError(.conflict, "\(repo.specPath) already exists; this directory is a fleet repository already")
        }
        let keyPath = CAKeyLocation.resolve(caKey, fleet: fleet)
        try CAKeyLocation.refuseInside(repository: dir, keyPath: keyPath)
        if FileManager.default.fileExists(atPath: keyPath) {
            throw BerthError(.conflict, "\(keyPath) already exists; pass --ca-key with a new path, or remove the old key if it is no longer used")
        }

        let ca = try FleetCA.create(fleet: fleet, keyType: keyType, now: Date())
        try AtomicFile.write(ca.privateKeyPEM, to: keyPath, mode: 0o600, directoryMode: 0o700)
        try AtomicFile.write(FleetTemplate.fleetYAML(fleet: fleet), to: repo.specPath, mode: 0o644)
        try AtomicFile.write(ca.certificatePEM, to: repo.path("ca.pem"), mode: 0o644)
        try AtomicFile.write(FleetTemplate.gitignore, to: repo.path(".gitignore"), mode: 0o644)
        try AtomicFile.write(FleetTemplate.clientsReadme, to: repo.path("clients/README.md"), mode: 0o644)
        try AtomicFile.write(FleetTemplate.certsReadme, to: repo.path("certs/README.md"), mode: 0o644)

        let git = Git()
        if !(await git.isInsideWorkTree(dir)) {
            try await git.run(dir, "init", "-q", "-b", "main")
        }
        Output.print("""
            created fleet "\(fleet)" in \(dir)
              fleet.yaml, ca.pem, clients/, certs/, .gitignore
              CA key: \(keyPath) (0600, outside the repository; back it up)
            """)
        if let signingKey {
            let email = (try? await git.run(dir, "config", "user.email")) ?? ""
            let signer = principal ?? (email.isEmpty ? "operator@\(fleet)" : email)
            let allowed = try await CommitSigning(repository: dir, git: git).configure(publicKeyPath: RepositoryOptions.absolute(signingKey), principal: signer)
            let file = (OperatorConfig.directory(fleet: fleet) as NSString).appendingPathComponent("allowed_signers")
            try AtomicFile.write(allowed, to: file, mode: 0o644, directoryMode: 0o700)
            Output.print("""
              commits are signed with \(signingKey) (gpg.format ssh, commit.gpgsign true); signers lists it as \(signer)
            install on every host, out of band (not from this repository):
              \(file) -> /etc/berth/allowed_signers (root, 0644)
              and in /etc/berth/agent.yaml: allowedSigners: /etc/berth/allowed_signers
            """)
        }
        Output.print("next: berthctl host add NAME --address IP --repo \(dir)")
    }
}

/// Where the CA key lives, and the rule that it never lives in the repository.
enum CAKeyLocation {
    static func resolve(_ option: String?, fleet: String) -> String {
        OperatorConfig.caKey(fleet: fleet, option: option.map(RepositoryOptions.absolute))
    }

    static func refuseInside(repository: String, keyPath: String) throws {
        let repo = (URL(fileURLWithPath: repository).resolvingSymlinksInPath().path as NSString).standardizingPath
        let key = (URL(fileURLWithPath: keyPath).resolvingSymlinksInPath().path as NSString).standardizingPath
        if key == repo || key.hasPrefix(repo + "/") {
            throw BerthError(.privateKeyFound, "--ca-key \(keyPath) is inside the repository \(repository); a private key must never be committed. Keep it elsewhere, e.g. ~/.config/berth/FLEET/ca-key.pem")
        }
    }
}

extension KeyType: ExpressibleByArgument {}

/// The files `berthctl init` writes.
enum FleetTemplate {
    static func fleetYAML(fleet: String) -> String {
        """
        # Desired state of the Berth fleet "\(fleet)". berth-agent applies it to every host below;
        # `berthctl validate` checks it. Reference: the fleet.yaml section of Berth's README.
        apiVersion: \(FleetSpec.apiVersion)
        fleet: \(fleet)
        ca: ca.pem                        # fleet CA certificate (public); its key stays outside the repository
        defaults:
          # dockerd -H values: fd://[NAME], unix:///abs/path, tcp://ADDR:PORT (always mutual TLS)
          listeners: [fd://, tcp://0.0.0.0:2376]
          clients: []                     # names under clients/ allowed to connect (berthctl client new NAME)
          tls:
            serverCertDays: 90            # validity `berthctl sign` gives a host certificate
            renewBefore: 30d              # the agent asks for a new certificate this long before expiry
          restart:
            policy: when-safe             # always | when-safe | manual
            # window: "Sun 02:00-04:00 UTC"   # when-safe also restarts inside this window
          daemon:
            labels: []                    # dockerd --label values, e.g. [env=prod]
        # One entry per Docker host: `berthctl host add web-1 --address 10.0.0.5`.
        # Any key of defaults may be overridden per host.
        hosts: {}

        """
    }

    static let gitignore = """
        # Private keys never enter a Berth fleet repository.
        *-key.pem
        *.key
        key.pem

        """

    static let clientsReadme = """
        # clients/

        One public certificate per client, `NAME.pem`. A client may connect to a host exactly when
        the host's resolved `clients` list in fleet.yaml names it. Add one with
        `berthctl client new NAME` (key made on your machine, only the certificate lands here) or
        `berthctl client add NAME --cert FILE`; revoke with `berthctl client revoke NAME`.

        """

    static let certsReadme = """
        # certs/

        Server certificates issued by `berthctl sign HOST`, one per host, `HOST.pem`. Each host
        made its own key and sent only a CSR; the key never leaves the host.

        """
}
