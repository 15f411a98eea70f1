import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// `berthctl client add`: pin an existing client certificate.
struct ClientAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an existing client certificate as clients/NAME.pem and authorize it.",
        discussion: """
            The certificate must be a single leaf (not a CA), allow clientAuth and be valid now.
            Its key stays wherever it is; only the certificate enters the repository.

            Example:
              berthctl client add ci --cert ci-cert.pem
              berthctl client add deploy --cert deploy.pem --host web-1 --host web-2
            """
    )

    @Argument(help: "Client name: \(ResourceName.rule).")
    var name: String

    @Option(help: ArgumentHelp("The client's certificate (PEM).", valueName: "file"))
    var cert: String

    @Option(name: .customLong("host"), help: ArgumentHelp("Authorize on this host only (repeatable); default: fleet-wide.", valueName: "host"))
    var hosts: [String] = []

    @OptionGroup var repository: RepositoryOptions

    func validate() throws { try ClientName.validate(name) }

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.loadValid()
        Output.warnings(loaded.diagnostics)
        try ClientEdits(repository: repo).precheck(name, hosts: hosts, loaded: loaded)
        let path = RepositoryOptions.absolute(cert)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BerthError(.notFound, "--cert \(path) does not exist; pass the client's certificate file")
        }
        let pem = String(decoding: data, as: UTF8.self)
        let summary: CertificateSummary
        switch ClientCertificate.check(pem: pem, now: Date()) {
        case .rejected(let rejection):
            throw BerthError(.certificate, "--cert \(path): \(rejection)")
        case .acceptable(let s):
            summary = s
        }
        let updated = try ClientEdits(repository: repo).authorize(name, certificatePEM: pem, hosts: hosts)
        Output.print("""
            added client \(name): \(repo.path(FleetLayout.clientCertificate(name))) (\(summary.displayName), sha256 \(summary.fingerprint), expires \(summary.notAfter.berthTimestamp))
              \(ClientEdits.describe(name, hosts: hosts, loaded: updated))
            next: commit and push; each host's agent rebuilds clients.pem
            """)
    }
}
