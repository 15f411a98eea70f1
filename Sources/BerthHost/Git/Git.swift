import BerthCore
import Foundation

/// The real `git`, driven through a ``CommandRunner``; every call has ``timeout``.
public struct Git: Sendable {
    public var runner: any CommandRunner
    public var executable: String
    /// A git command still running after this is killed: a fetch or push to a remote that stops
    /// answering must not hold the agent's lock (and every later pass) forever.
    public var timeout: Duration

    public init(runner: any CommandRunner = SubprocessRunner(), executable: String = "git", timeout: Duration = .seconds(300)) {
        self.runner = runner
        self.executable = executable
        self.timeout = timeout
    }

    /// A fixed identity and no prompts: the agent runs as root on hosts with no git setup.
    public static let environment: [String: String] = {
        let own = ProcessInfo.processInfo.environment
        return [
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": own["GIT_AUTHOR_NAME"] ?? "berth",
            "GIT_AUTHOR_EMAIL": own["GIT_AUTHOR_EMAIL"] ?? "berth@localhost",
            "GIT_COMMITTER_NAME": own["GIT_COMMITTER_NAME"] ?? "berth",
            "GIT_COMMITTER_EMAIL": own["GIT_COMMITTER_EMAIL"] ?? "berth@localhost",
        ]
    }()

    public func command(_ dir: String, _ args: [String], input: [UInt8]? = nil, outputLimit: Int = 16 << 20) -> Command {
        Command(executable, ["-C", dir] + args, environment: Self.environment, input: input, timeout: timeout, outputLimit: outputLimit)
    }

    /// Runs and returns the trimmed stdout; throws when git exits non-zero.
    @discardableResult
    public func run(_ dir: String, _ args: String...) async throws -> String {
        try await runner.check(command(dir, args)).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs and returns the result, whatever the exit status.
    public func run(_ dir: String, arguments: [String], input: [UInt8]? = nil, outputLimit: Int = 16 << 20) async throws -> CommandResult {
        try await runner.run(command(dir, arguments, input: input, outputLimit: outputLimit))
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

    /// Whether the work tree differs from HEAD: edits, deletions, and (with `untracked`) files
    /// git does not track, ignored ones included. `--no-optional-locks`: a read-only look that
    /// never takes `index.lock`, so it cannot collide with a `git pull` of the operator's tooling.
    public func hasLocalChanges(_ dir: String, untracked: Bool) async throws -> Bool {
        let args = ["--no-optional-locks", "status", "--porcelain"] + (untracked ? ["--untracked-files=all", "--ignored=matching"] : ["--untracked-files=no"])
        let result = try await runner.check(command(dir, args + ["--", "."]))
        return !result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// The revision a fleet checkout stands at, as drop-in headers and reports name it:
    /// the commit, with `+dirty` when tracked files differ from it.
    public func revision(of dir: String) async -> String {
        guard let head = await head(dir) else { return "unversioned" }
        let dirty = (try? await hasLocalChanges(dir, untracked: false)) ?? false
        return dirty ? "\(head)+dirty" : head
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    public func isAncestor(_ ancestor: String, of descendant: String, in dir: String) async throws -> Bool {
        let result = try await run(dir, arguments: ["merge-base", "--is-ancestor", ancestor, descendant])
        switch result.status {
        case 0: return true
        case 1: return false
        default: throw BerthError(.commandFailed, "git merge-base --is-ancestor \(ancestor.prefix(12)) \(descendant.prefix(12)) in \(dir) failed: \(result.errorSummary)")
        }
    }
}
