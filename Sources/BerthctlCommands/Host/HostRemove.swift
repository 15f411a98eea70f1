import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl host rm`: take a host out of the fleet.
struct HostRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a host from fleet.yaml (and its certificate from certs/).",
        discussion: """
            The host's agent then finds itself absent from the fleet and reports invalid-state; it
            does not tear down the host's configuration.

            Example:
              berthctl host rm web-2
            """
    )

    @Argument(help: "The host to remove.")
    var name: String

    @OptionGroup var repository: RepositoryOptions

    func run() async throws {
        let repo = repository.repository
        _ = try repo.update { text in
            var editor = FleetEditor(text)
            try editor.removeHost(name)
            return editor.text
        }
        var removed = ["fleet.yaml entry"]
        let cert = repo.path(FleetLayout.serverCertificate(name))
        if FileManager.default.fileExists(atPath: cert) {
            try AtomicFile.remove(cert)
            removed.append(FleetLayout.serverCertificate(name))
        }
        Output.print("removed host \(name): \(removed.joined(separator: ", "))")
    }
}
