import ArgumentParser
import BerthAgent
import BerthCore
import BerthHost
import Foundation

/// `berth-agent publish`: push the last report again, without a pass.
struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Push this host's last report (and its signature) to refs/berth/status/HOST again.",
        discussion: """
            For a report that could not be pushed (the Git server was down), and for measuring the
            publish path alone (bench/fleet-scale.sh). Exits 1 when the push fails.

            Example:
              berth-agent publish --report-repo ssh://git@git.example.com/fleet-status.git
            """
    )

    @OptionGroup var options: AgentOptions

    func run() async throws {
        var settings = try options.settings()
        settings.reportGit = true
        let store = ReportStore(settings: settings)
        guard var published = store.lastPublished(), let report = store.last() else {
            throw BerthError(.notFound, "no report yet in \(store.localPath); run `berth-agent reconcile`")
        }
        published.time = report.time
        let retries = try await StatusPublisher(settings: settings, runner: SubprocessRunner())
            .publish(published, summary: "\(report.state.rawValue) at \(report.desiredRevision ?? "-")", logger: options.environment().logger)
        print("published \(StatusPublisher.ref(host: settings.host)) to \(settings.reportRepositoryURL ?? "?") (retries: \(retries))")
    }
}
