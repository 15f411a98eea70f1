import BerthCore
import BerthHost
import Foundation
import Logging

/// Pushes a report to `refs/berth/status/HOST` of the fleet repository (`--report-git`).
///
/// One ref per host, so a thousand hosts never contend for one branch: each push replaces only
/// its own ref. Each report is a single parentless commit holding `HOST.json`, force-pushed, so
/// the ref always holds the latest report and never grows a history nobody reads.
public struct StatusPublisher: Sendable {
    public var settings: AgentSettings
    public var runner: any CommandRunner
    public var attempts = 4

    public init(settings: AgentSettings, runner: any CommandRunner) {
        self.settings = settings
        self.runner = runner
    }

    public static func ref(host: String) -> String { "refs/berth/status/\(host)" }

    /// Publishes, retrying with backoff; returns the error of the last attempt if all failed.
    public func publish(_ report: ReconcileReport) async throws {
        guard let url = settings.repoURL else { throw BerthError(.usage, "--report-git needs --repo URL") }
        // Work in a private scratch repository, so a push never touches the fleet checkout.
        let dir = settings.hostPath("\(HostLayout.stateDir)/status-repo")
        let git = settings.git(runner: runner)
        if !FileManager.default.fileExists(atPath: "\(dir)/HEAD") {
            try AtomicFile.makeDirectories(dir, mode: 0o700)
            try await git.run(dir, "init", "-q", "--bare")
        }
        let blob = try await runner.check(Command("git", ["-C", dir, "hash-object", "-w", "--stdin"], input: try report.encoded())).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let tree = try await runner.check(Command("git", ["-C", dir, "mktree"], input: Array("100644 blob \(blob)\t\(settings.host).json\n".utf8))).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try await git.run(dir, "commit-tree", tree, "-m", "berth status \(settings.host): \(report.state.rawValue) at \(report.desiredRevision ?? "-")")
        var lastError: (any Error)?
        for attempt in 0..<attempts {
            let result = try await git.run(dir, arguments: ["push", "--quiet", "--force", url, "\(commit):\(Self.ref(host: settings.host))"])
            if result.succeeded { return }
            lastError = BerthError(.commandFailed, "git push \(Self.ref(host: settings.host)) to \(url) failed: \(result.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines))")
            let delay = UInt64(200_000_000) << UInt64(attempt) + UInt64.random(in: 0...200_000_000)
            try? await Task.sleep(nanoseconds: delay)
        }
        throw lastError!
    }

    public func publishLogged(_ report: ReconcileReport, logger: Logger) async {
        do {
            try await publish(report)
        } catch {
            logger.error("could not publish the report: \(error)")
            FileHandle.standardError.write(Data("berth-agent: could not publish the report: \(error)\n".utf8))
        }
    }
}
