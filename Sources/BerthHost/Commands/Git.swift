import BerthCore
import Foundation

/// The real `git`, driven through a ``CommandRunner``.
public struct Git: Sendable {
    public var runner: any CommandRunner
    public var executable: String
    /// Seconds after which a git command is killed: a fetch or push to a remote that stops
    /// answering must not hold the agent's lock (and every later pass) forever.
    public var timeout: Double?

    public init(runner: any CommandRunner = ProcessRunner(), executable: String = "git", timeout: Double? = 300) {
        self.runner = runner
        self.executable = executable
        self.timeout = timeout
    }

    func command(_ dir: String, _ args: [String]) -> Command {
        // A fixed identity and no user config: the agent runs as root on hosts with no git setup.
        Command(executable, ["-C", dir] + args, environment: [
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": ProcessInfo.processInfo.environment["GIT_AUTHOR_NAME"] ?? "berth",
            "GIT_AUTHOR_EMAIL": ProcessInfo.processInfo.environment["GIT_AUTHOR_EMAIL"] ?? "berth@localhost",
            "GIT_COMMITTER_NAME": ProcessInfo.processInfo.environment["GIT_COMMITTER_NAME"] ?? "berth",
            "GIT_COMMITTER_EMAIL": ProcessInfo.processInfo.environment["GIT_COMMITTER_EMAIL"] ?? "berth@localhost",
        ], timeout: timeout)
    }

    @discardableResult
    public func run(_ dir: String, _ args: String...) async throws -> String {
        try await runner.check(command(dir, args)).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func run(_ dir: String, arguments: [String]) async throws -> CommandResult {
        try await runner.run(command(dir, arguments))
    }

    public func isInsideWorkTree(_ dir: String) async -> Bool {
        (try? await runner.run(command(dir, ["rev-parse", "--is-inside-work-tree"])).succeeded) ?? false
    }

    /// The commit checked out in `dir`, or nil when it is not a repository or has no commit yet.
    public func head(_ dir: String) async -> String? {
        guard let result = try? await runner.run(command(dir, ["rev-parse", "--verify", "-q", "HEAD"])), result.succeeded else { return nil }
        let rev = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return rev.isEmpty ? nil : rev
    }

    /// The revision a fleet checkout stands at, as drop-in headers and reports name it:
    /// the commit, with `+dirty` when `fleet.yaml` or the certificates differ from it.
    public func revision(of dir: String) async -> String {
        guard let head = await head(dir) else { return "unversioned" }
        // --no-optional-locks: a read-only look. Without it, status refreshes the index and takes
        // index.lock to write it back, and a `git pull` that the operator's tooling runs in the same
        // checkout at that moment fails with "index.lock: File exists".
        let status = try? await runner.run(command(dir, ["--no-optional-locks", "status", "--porcelain", "--untracked-files=no", "--", "."]))
        let dirty = !(status?.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true)
        return dirty ? "\(head)+dirty" : head
    }
}
