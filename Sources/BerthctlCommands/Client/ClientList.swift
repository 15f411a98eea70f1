import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// `berthctl client ls`: the clients, their certificates and where they may connect.
struct ClientList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List clients: name, certificate fingerprint, expiry and the hosts that authorize them.",
        discussion: """
            Example:
              berthctl client ls
              berthctl client ls --json | jq '.[] | select(.hosts | length == 0) | .name'
            """
    )

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    struct Entry: Encodable {
        var name: String
        var fingerprint: String?
        var notAfter: Date?
        var problem: String?
        var hosts: [String]
    }

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.loadValid()
        Output.warnings(loaded.diagnostics)
        let resolved = loaded.spec.hosts.compactMap { loaded.spec.resolve(host: $0.name) }
        let names = repo.listFiles()
            .filter { $0.hasPrefix("clients/") && $0.hasSuffix(".pem") && !$0.dropFirst("clients/".count).contains("/") }
            .map { String($0.dropFirst("clients/".count).dropLast(".pem".count)) }
            .sorted()
        let entries = names.map { name -> Entry in
            let hosts = resolved.filter { $0.clients.contains(name) }.map(\.name)
            do {
                let summary = try ClientCertificate.summary(pem: try repo.readPEM(FleetLayout.clientCertificate(name)))
                return Entry(name: name, fingerprint: summary.fingerprint, notAfter: summary.notAfter, problem: nil, hosts: hosts)
            } catch {
                return Entry(name: name, fingerprint: nil, notAfter: nil, problem: "\(error)", hosts: hosts)
            }
        }
        if output.json {
            try Output.json(entries)
            return
        }
        let rows = entries.map { e -> [String] in
            [e.name, e.fingerprint ?? "(unreadable)", e.notAfter?.berthTimestamp ?? "-", e.hosts.isEmpty ? "-" : e.hosts.joined(separator: ",")]
        }
        Output.print(Output.table(["CLIENT", "SHA256", "EXPIRES", "HOSTS"], rows))
    }
}
