import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// `berthctl client new`: a key and a self-signed client certificate made on this machine.
struct ClientNew: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Make a client key and certificate locally, and authorize the client.",
        discussion: """
            Writes ca.pem (the fleet CA), cert.pem and key.pem (0600) into the client directory
            (default ~/.config/berth/FLEET/clients/NAME, or $BERTH_CONFIG_HOME/FLEET/clients/NAME),
            the layout DOCKER_CERT_PATH expects. Only the public certificate enters the repository,
            as clients/NAME.pem. The client is appended to defaults.clients, or with --host to
            each named host's clients list.

            Example:
              berthctl client new alice
              berthctl client new ci --host build-1 --host build-2 --days 90
              berthctl client new bob --out ~/docker-certs/prod
            """
    )

    @Argument(help: "Client name: \(ResourceName.rule).")
    var name: String

    @Option(help: ArgumentHelp("Directory for ca.pem, cert.pem and key.pem (default ~/.config/berth/FLEET/clients/NAME).", valueName: "dir"))
    var out: String?

    @Option(help: "Certificate validity in days.")
    var days: Int = 365

    @Option(name: .customLong("host"), help: ArgumentHelp("Authorize on this host only (repeatable); default: fleet-wide.", valueName: "host"))
    var hosts: [String] = []

    @Option(help: "Key algorithm: ecdsa (P-256) or rsa (3072 bits).")
    var keyType: KeyType = .ecdsa

    @OptionGroup var repository: RepositoryOptions

    func validate() throws {
        try ClientName.validate(name)
        if days < 1 { throw ValidationError("--days must be at least 1") }
    }

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.loadValid()
        Output.warnings(loaded.diagnostics)
        try ClientEdits(repository: repo).precheck(name, hosts: hosts, loaded: loaded)
        let dir = out.map(RepositoryOptions.absolute) ?? ClientDirectory.resolve(fleet: loaded.spec.fleet, client: name)
        try CAKeyLocation.refuseInside(repository: repo.root, keyPath: dir + "/key.pem")
        if FileManager.default.fileExists(atPath: dir + "/key.pem") {
            throw BerthError(.conflict, "\(dir)/key.pem already exists; pass --out with a new directory, or remove the old client directory if it is no longer used")
        }
        let caPEM = try repo.read(loaded.spec.ca)
        let identity = try ClientCertificate.create(name: name, days: days, keyType: keyType, now: Date())
        let updated = try ClientEdits(repository: repo).authorize(name, certificatePEM: identity.certificatePEM, hosts: hosts)
        try AtomicFile.write(identity.privateKeyPEM, to: dir + "/key.pem", mode: 0o600, directoryMode: 0o700)
        try AtomicFile.write(identity.certificatePEM, to: dir + "/cert.pem", mode: 0o644, directoryMode: 0o700)
        try AtomicFile.write(caPEM, to: dir + "/ca.pem", mode: 0o644, directoryMode: 0o700)
        let fingerprint = (try? Fingerprint.sha256(ofCertificatePEM: identity.certificatePEM)) ?? "?"
        Output.print("""
            created client \(name): \(dir)/{ca.pem,cert.pem,key.pem} (key 0600, outside the repository)
              certificate: \(repo.path(FleetLayout.clientCertificate(name))) sha256 \(fingerprint)
              \(ClientEdits.describe(name, hosts: hosts, loaded: updated))
            next: commit and push; then `eval $(berthctl env HOST --client \(name))`
            """)
    }
}

/// Where a client's Docker certificate directory lives on the operator's machine.
enum ClientDirectory {
    static func resolve(fleet: String, client: String) -> String {
        OperatorConfig.clientDirectory(fleet: fleet, client: client)
    }

    /// The directory, checked to hold what Docker needs.
    static func existing(fleet: String, client: String) throws -> String {
        let dir = resolve(fleet: fleet, client: client)
        for file in ["ca.pem", "cert.pem", "key.pem"] where !FileManager.default.fileExists(atPath: "\(dir)/\(file)") {
            throw BerthError(.notFound, "\(dir)/\(file) does not exist; make the client with `berthctl client new \(client)` on this machine, or pick another with --client NAME")
        }
        return dir
    }
}
