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
        abstract: "Remove a retired host from fleet.yaml (and its certificate from certs/).",
        discussion: """
            Only a host whose last report says retired (`berthctl host retire` first): a host
            simply missing from fleet.yaml is never torn down, so its drop-in, TCP listeners and
            client list would stay. The report is read from --reports DIR or the status refs, as
            `berthctl status` reads it, and must verify. --force removes the host anyway.

            Example:
              berthctl host retire web-2     # commit, push, wait for: berthctl status web-2 -> retired
              berthctl host rm web-2 --reports /srv/berth-reports
            """
    )

    @Argument(help: "The host to remove.")
    var name: String

    @Flag(help: "Remove the host even though it has not reported retired (its agent leaves Berth's files in place).")
    var force = false

    @OptionGroup var reportOptions: ReportOptions
    @OptionGroup var repository: RepositoryOptions

    func run() async throws {
        let repo = repository.repository
        let remove: (String) throws -> String = { text in
            var editor = FleetEditor(text)
            try editor.removeHost(name)
            return editor.text
        }
        // A name that is not in fleet.yaml is said to be so before anything asks for its report.
        _ = try remove(try repo.read(FleetRepository.specFile))
        if !force { try await requireRetired(repo) }
        _ = try repo.update(remove)
        var removed = ["fleet.yaml entry"]
        let cert = repo.path(FleetLayout.serverCertificate(name))
        if FileManager.default.fileExists(atPath: cert) {
            try AtomicFile.remove(cert)
            removed.append(FleetLayout.serverCertificate(name))
        }
        Output.print("removed host \(name): \(removed.joined(separator: ", "))")
    }
}
