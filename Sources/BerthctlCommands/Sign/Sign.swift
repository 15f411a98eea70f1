import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// `berthctl sign`: sign hosts' pending CSRs with the fleet CA, when something vouches for them.
struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign hosts' pending CSRs with the fleet CA and write certs/HOST.pem.",
        discussion: """
            The CSR comes from the host's signed status report (--reports DIR, else the
            refs/berth/status/HOST refs, from --report-repo or the repository's origin), or from
            --csr FILE. It is signed only when something vouches for it:
              - the report is signed by the host's current certificate (a renewal, new addresses);
              - its join-token MAC matches the token `berthctl host add`/`host token` issued
                (a first certificate; the token works once);
              - --fingerprint equals the CSR fingerprint `berth-agent status` prints on the host.
            A report whose signature does not verify is never signed for, with --all or not.
            Every SAN must be covered by the host's addresses in fleet.yaml.

            Example:
              berthctl sign --all
              berthctl sign web-1 --reports /srv/berth-reports
              berthctl sign web-1 --fingerprint SHA256:3F:A0:...
              berthctl sign web-1 --csr web-1.csr --fingerprint SHA256:3F:A0:...
            """
    )

    @Argument(help: "Hosts to sign for.")
    var hosts: [String] = []

    @Flag(help: "Sign every host whose report has a pending CSR that something vouches for.")
    var all = false

    @Option(help: ArgumentHelp("A CSR file (PEM) to sign instead of the host's report; one host, with --fingerprint.", valueName: "file"))
    var csr: String?

    @Option(help: ArgumentHelp("The CSR's SHA-256 fingerprint as `berth-agent status` prints it on the host.", valueName: "sha256"))
    var fingerprint: String?

    @Flag(help: "Confirm names that need confirmation (addresses: auto hosts).")
    var yes = false

    @Option(help: ArgumentHelp("The CA private key (default ~/.config/berth/FLEET/ca-key.pem).", valueName: "path"))
    var caKey: String?

    @OptionGroup var reportOptions: ReportOptions
    @OptionGroup var repository: RepositoryOptions

    func validate() throws {
        if all && !hosts.isEmpty { throw ValidationError("give host names or --all, not both") }
        if !all && hosts.isEmpty { throw ValidationError("name at least one host, or pass --all") }
        if csr != nil && (all || hosts.count != 1) { throw ValidationError("--csr signs exactly one host; name it: berthctl sign HOST --csr FILE --fingerprint SHA256") }
        if csr != nil && fingerprint == nil { throw ValidationError("--csr needs --fingerprint: compare the CSR fingerprint `berth-agent status` prints on the host") }
        if fingerprint != nil && (all || hosts.count != 1) { throw ValidationError("--fingerprint vouches for one host's CSR; name that host") }
    }

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.loadValid()
        Output.warnings(loaded.diagnostics)
        let fleet = loaded.spec.fleet

        let keyPath = CAKeyLocation.resolve(caKey, fleet: fleet)
        guard let keyText = try BoundedFile.readText(keyPath, limit: BoundedFile.pemLimit) else {
            throw BerthError(.notFound, "CA key \(keyPath) does not exist; pass --ca-key PATH with the key `berthctl init` wrote")
        }
        let caPEM = try repo.readPEM(loaded.spec.ca)
        let ca: FleetCA
        do {
            ca = try FleetCA(certificatePEM: caPEM, privateKeyPEM: keyText)
        } catch {
            throw BerthError(.keyMismatch, "CA key \(keyPath) does not load or does not match \(repo.path(loaded.spec.ca)); pass --ca-key with this fleet's CA key", underlying: error)
        }

        let source = reportOptions.describe(repository: repo.root)
        var found: [String: CheckedReport] = [:]
        if csr == nil {
            let names = all ? loaded.spec.hosts.map(\.name) : hosts
            // --all acts only on reports that carry a CSR: only those need their signature checked.
            let all = self.all
            let (reports, note) = await FleetReports(repository: repo).load(from: reportOptions.location, hosts: names) { !all || $0.report?.pendingCSR != nil }
            if let note { Output.error("warning: \(note)") }
            found = reports
        }
        var targets = hosts
        if all {
            targets = loaded.spec.hosts.filter { !$0.retired && found[$0.name]?.report?.pendingCSR != nil }.map(\.name)
            if targets.isEmpty {
                Output.print("no host has a pending CSR in \(source)")
                return
            }
        }

        let signer = CertificateSigner(loaded: loaded, ca: ca, tokens: JoinTokenStore(fleet: fleet), confirmed: yes, now: Date())
        var failures: [any Error] = []
        for name in targets {
            do {
                let request = try self.request(name, loaded: loaded, report: found[name], source: source)
                Output.print("\(name): CSR sha256 \((try? Fingerprint.sha256(ofCSRPEM: request.csrPEM)) ?? "?")")
                let issued = try signer.sign(request)
                Output.print("\(name): signed for \(issued.days) days (vouched for by \(issued.voucher.rawValue)), wrote \(issued.path); commit and push so the agent installs it")
            } catch {
                failures.append(error)
            }
        }
        if !failures.isEmpty { throw AggregateError(failures) }
    }

    private func request(_ name: String, loaded: LoadedFleet, report: CheckedReport?, source: String) throws -> CertificateSigner.Request {
        if try loaded.resolve(host: name).retired {
            throw BerthError(.policy, "\(name) is retired (fleet.yaml says retired: true): it serves no TLS and gets no certificate; delete that line to take it back into service")
        }
        if let csr {
            let path = RepositoryOptions.absolute(csr)
            guard let text = try BoundedFile.readText(path, limit: BoundedFile.pemLimit) else {
                throw BerthError(.notFound, "\(name): CSR file \(path) does not exist; pass the CSR the host made with --csr FILE")
            }
            return CertificateSigner.Request(host: name, csrPEM: text, report: nil, fingerprint: fingerprint)
        }
        guard let report else {
            throw BerthError(.notFound, "\(name): no report in \(source); is the agent on \(name) running with reportDir: or reportGit:? (or pass --csr FILE --fingerprint SHA256)")
        }
        guard let pem = report.report?.pendingCSR?.pem else {
            let state = report.report?.state.rawValue ?? report.fetched.problem ?? "unreadable"
            throw BerthError(.notFound, "\(name): its report in \(source) has no pending CSR; the agent on \(name) has not asked for a certificate (its state: \(TerminalText.line(state)))")
        }
        return CertificateSigner.Request(host: name, csrPEM: pem, report: report, fingerprint: fingerprint)
    }
}
