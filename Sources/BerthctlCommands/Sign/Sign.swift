import ArgumentParser
import BerthAgent
import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// `berthctl sign`: sign hosts' pending CSRs with the fleet CA, after checking their SANs.
struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign hosts' pending CSRs with the fleet CA and write certs/HOST.pem.",
        discussion: """
            The CSR comes from --csr FILE (one host), or from the host's status report: DIR/HOST.json
            with --reports DIR, else the refs/berth/status/HOST ref that agents with --report-git
            push (fetched from the repository's origin). Every SAN the CSR asks for must be
            covered by the host's addresses in fleet.yaml; otherwise sign says which and writes
            nothing. Compare the printed SHA-256 fingerprint with the one the agent logs.

            Example:
              berthctl sign --all                       # CSRs from refs/berth/status/*
              berthctl sign web-1 --reports /srv/berth-reports
              berthctl sign web-1 --csr web-1.csr --ca-key /secure/prod-ca-key.pem
              berthctl sign build-3 --reports /srv/berth-reports --yes
            """
    )

    @Argument(help: "Hosts to sign for.")
    var hosts: [String] = []

    @Flag(help: "Sign every host whose report has a pending CSR.")
    var all = false

    @Option(help: ArgumentHelp("A CSR file (PEM) to sign instead of the host's report; one host only.", valueName: "file"))
    var csr: String?

    @Flag(help: "Confirm names that need confirmation (addresses: auto hosts).")
    var yes = false

    @Option(help: ArgumentHelp("The CA private key (default ~/.config/berth/FLEET/ca-key.pem).", valueName: "path"))
    var caKey: String?

    @Option(help: ArgumentHelp("Shared report directory holding HOST.json status reports (default: the repository's status refs).", valueName: "dir"))
    var reports: String?

    @OptionGroup var repository: RepositoryOptions

    func validate() throws {
        if all && !hosts.isEmpty { throw ValidationError("give host names or --all, not both") }
        if !all && hosts.isEmpty { throw ValidationError("name at least one host, or pass --all") }
        if csr != nil && (all || hosts.count != 1) { throw ValidationError("--csr signs exactly one host; name it: berthctl sign HOST --csr FILE") }
    }

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.loadValid()
        Output.warnings(loaded.diagnostics)
        let fleet = loaded.spec.fleet

        let keyPath = CAKeyLocation.resolve(caKey, fleet: fleet)
        guard let keyData = FileManager.default.contents(atPath: keyPath) else {
            throw BerthError(.notFound, "CA key \(keyPath) does not exist; pass --ca-key PATH with the key `berthctl init` wrote")
        }
        let caPEM = try repo.read(loaded.spec.ca)
        let ca: FleetCA
        do {
            ca = try FleetCA(certificatePEM: caPEM, privateKeyPEM: String(decoding: keyData, as: UTF8.self))
        } catch {
            throw BerthError(.keyMismatch, "CA key \(keyPath) does not load or does not match \(repo.path(loaded.spec.ca)); pass --ca-key with this fleet's CA key", underlying: error)
        }

        // The same report sources `berthctl status` reads.
        let reportsDir = reports.map(RepositoryOptions.absolute)
        let source = reportsDir ?? "the refs/berth/status/* refs of \(repo.root)"
        var found: [String: ReconcileReport] = [:]
        if csr == nil { found = await ReportSource.load(directory: reportsDir, repository: repo.root, git: Git()) }
        var targets = hosts
        if all {
            targets = loaded.spec.hosts.map(\.name).filter { found[$0]?.pendingCSR != nil }
            if targets.isEmpty {
                Output.print("no host has a pending CSR in \(source)")
                return
            }
        }

        var failures: [any Error] = []
        for name in targets {
            do {
                try signOne(name, loaded: loaded, ca: ca, report: found[name], source: source)
            } catch {
                failures.append(error)
            }
        }
        if !failures.isEmpty { throw AggregateError(failures) }
    }

    private func signOne(_ name: String, loaded: LoadedFleet, ca: FleetCA, report: ReconcileReport?, source: String) throws {
        let host = try loaded.resolve(host: name)
        let csrPEM: String
        if let csr {
            let path = RepositoryOptions.absolute(csr)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BerthError(.notFound, "\(name): CSR file \(path) does not exist; pass the CSR the host made with --csr FILE")
            }
            csrPEM = String(decoding: data, as: UTF8.self)
        } else {
            guard let report else {
                throw BerthError(.notFound, "\(name): no report in \(source); is the agent on \(name) running with --report-dir or --report-git? (or pass --csr FILE)")
            }
            guard let pem = report.pendingCSR?.pem else {
                throw BerthError(.notFound, "\(name): its report in \(source) has no pending CSR; the agent on \(name) has not asked for a certificate (its state is \(report.state.rawValue))")
            }
            csrPEM = pem
        }

        let fingerprint: String
        let coverage: SANCoverage
        do {
            fingerprint = try Fingerprint.sha256(ofCSRPEM: csrPEM)
            coverage = try SANPolicy.evaluate(csrPEM: csrPEM, host: host, confirmed: yes)
        } catch {
            throw BerthError(.invalidCSR, "\(name): the CSR is not a valid certificate request; have the agent on \(name) make a new one", underlying: error)
        }
        Output.print("\(name): CSR sha256 \(fingerprint)")
        if case .notCovered(let reasons) = coverage {
            for reason in reasons { Output.error("\(name): \(reason)") }
            throw BerthError(.policy, "\(name): CSR refused, \(reasons.count) name\(reasons.count == 1 ? "" : "s") not covered by hosts.\(name).addresses; nothing was written")
        }
        let certificate = try ca.issueServerCertificate(csrPEM: csrPEM, days: host.serverCertDays, now: Date())
        let path = loaded.repository.path("certs/\(name).pem")
        try AtomicFile.write(certificate, to: path, mode: 0o644)
        Output.print("\(name): signed for \(host.serverCertDays) days, wrote \(path); commit and push so the agent installs it")
    }
}
