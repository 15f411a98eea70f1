import ArgumentParser
import BerthCore
import BerthHost
import Foundation

/// `berthctl client revoke`: remove a client's certificate and every mention of it.
struct ClientRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Remove clients/NAME.pem and NAME from every clients list in fleet.yaml.",
        discussion: """
            After commit and push, each host's agent rebuilds clients.pem without the client and
            restarts dockerd, and the client can no longer connect.

            Example:
              berthctl client revoke alice
              berthctl client revoke ci --repo ~/fleet
            """
    )

    @Argument(help: "Client name.")
    var name: String

    @OptionGroup var repository: RepositoryOptions

    func validate() throws { try ClientAuthorization.validateName(name) }

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.load()
        guard let spec = loaded.document.spec else { _ = try repo.loadValid(); return }
        let certPath = repo.path("clients/\(name).pem")
        let inDefaults = spec.defaults.clients?.contains(name) ?? false
        let hosts = spec.hosts.filter { $0.settings.clients?.contains(name) ?? false }.map(\.name)
        let hasFile = FileManager.default.fileExists(atPath: certPath)
        if !inDefaults && hosts.isEmpty && !hasFile {
            throw BerthError(.notFound, "client \"\(name)\" is neither in clients/ nor in \(repo.specPath); `berthctl client ls` lists the clients")
        }
        if inDefaults || !hosts.isEmpty {
            _ = try repo.update { text in
                var editor = FleetEditor(text)
                if inDefaults {
                    try editor.setList("defaults.clients", to: (spec.defaults.clients ?? []).filter { $0 != name })
                }
                for host in spec.hosts where hosts.contains(host.name) {
                    try editor.setList("hosts.\(host.name).clients", to: (host.settings.clients ?? []).filter { $0 != name })
                }
                return editor.text
            }
        }
        if hasFile { try AtomicFile.remove(certPath) }
        var places = inDefaults ? ["defaults.clients"] : []
        places += hosts.map { "hosts.\($0).clients" }
        Output.print("revoked client \(name)" + (hasFile ? ": removed \(certPath)" : "")
            + (places.isEmpty ? "" : "; removed from \(places.joined(separator: ", "))"))
        Output.print("next: commit and push; hosts drop \(name) from clients.pem on their next pass")
    }
}
