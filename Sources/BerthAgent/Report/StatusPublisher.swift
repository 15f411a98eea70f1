import BerthCore
import BerthHost
import Foundation
import Logging

/// Pushes a report to `refs/berth/status/HOST` of the report repository (`reportGit`; the
/// repository is `reportRepo`, else the fleet repository).
///
/// One ref per host, so a thousand hosts never contend for one branch: each push replaces only
/// its own ref. Each report is a single parentless commit whose tree holds `HOST.json` and
/// `HOST.json.sig`, force-pushed, so the ref always holds the latest signed report.
public struct StatusPublisher: Sendable {
    public var settings: AgentSettings
    public var runner: any CommandRunner
    public var attempts = 4
    /// Wall time between attempts doubles from this, with jitter (on `clock`).
    public var backoff: Duration = .milliseconds(200)
    public var clock: any Clock<Duration> = ContinuousClock()

    public init(settings: AgentSettings, runner: any CommandRunner) {
        self.settings = settings
        self.runner = runner
    }

    public static func ref(host: String) -> String { "refs/berth/status/\(host)" }

    /// Publishes, retrying with backoff; returns how many retries it took, or throws the error of
    /// the last attempt.
    @discardableResult
    public func publish(_ report: PublishedReport, summary: String) async throws -> Int {
        guard let url = settings.reportRepositoryURL else {
            throw BerthError(.invalidInput, "reportGit needs a repository to push to: set repo: or reportRepo: in agent.yaml")
        }
        // Work in a private scratch repository, so a push never touches the fleet checkout.
        let dir = settings.hostPath(HostLayout.statusRepository)
        let git = settings.git(runner: runner)
        if !FileManager.default.fileExists(atPath: "\(dir)/HEAD") {
            try AtomicFile.makeDirectories(dir, mode: 0o700)
            try await git.run(dir, "init", "-q", "--bare")
        }
        var entries: [String] = []
        let json = try await runner.check(git.command(dir, ["hash-object", "-w", "--stdin"], input: report.json)).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        entries.append("100644 blob \(json)\t\(settings.host).json")
        if let signature = report.signature {
            let sig = try await runner.check(git.command(dir, ["hash-object", "-w", "--stdin"], input: Array(signature.utf8))).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            entries.append("100644 blob \(sig)\t\(settings.host).json.sig")
        }
        let tree = try await runner.check(git.command(dir, ["mktree"], input: Array((entries.joined(separator: "\n") + "\n").utf8))).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try await git.run(dir, "commit-tree", tree, "-m", "berth status \(settings.host): \(summary)")
        var lastError: (any Error)?
        for attempt in 0..<attempts {
            let result = try await git.run(dir, arguments: ["push", "--quiet", "--force", url, "\(commit):\(Self.ref(host: settings.host))"])
            if result.succeeded { return attempt }
            lastError = BerthError(.commandFailed, "git push \(Self.ref(host: settings.host)) to \(url) failed: \(result.errorSummary)")
            if attempt + 1 < attempts {
                let jitter = Duration.milliseconds(Int.random(in: 0...200))
                try? await clock.sleep(for: backoff * (1 << attempt) + jitter)
            }
        }
        throw lastError!
    }

    /// Publishes and logs a failure instead of throwing: a report that cannot be pushed must not
    /// fail the pass that made it.
    public func publishLogged(_ report: PublishedReport, summary: String, logger: Logger) async {
        do {
            try await publish(report, summary: summary)
        } catch {
            logger.error("could not publish the report: \(error)")
        }
    }
}
