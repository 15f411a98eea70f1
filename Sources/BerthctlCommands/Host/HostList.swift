import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost

/// `berthctl host ls`: the hosts with their resolved settings.
struct HostList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the fleet's hosts with their resolved settings (defaults merged in).",
        discussion: """
            Example:
              berthctl host ls
              berthctl host ls --json | jq '.[].name'
            """
    )

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let loaded = try repository.repository.loadValid()
        Output.warnings(loaded.diagnostics)
        let hosts = loaded.spec.hosts.compactMap { loaded.spec.resolve(host: $0.name) }
        if output.json {
            try Output.json(hosts)
            return
        }
        let rows = hosts.map { h -> [String] in
            let addresses: String
            switch h.addresses {
            case .auto: addresses = "auto"
            case .explicit(let list): addresses = list.isEmpty ? "-" : list.map(\.description).joined(separator: ",")
            }
            return [h.name, addresses, h.listeners.map(\.description).joined(separator: ","),
                    h.clients.isEmpty ? "-" : h.clients.joined(separator: ","), h.restartPolicy.rawValue + (h.insecure ? " INSECURE" : "") + (h.retired ? " RETIRED" : "")]
        }
        Output.print(Output.table(["HOST", "ADDRESSES", "LISTENERS", "CLIENTS", "RESTART"], rows))
    }
}
