import BerthHost
import Foundation

/// Runs the built `berthctl` and `berth-agent` binaries as a user would: black-box tests.
public enum CLI {
    /// The package root, found from this file's path.
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Directory of the built executables: `$BERTH_BIN_DIR`, else the debug build folder.
    public static var binDir: String {
        if let dir = ProcessInfo.processInfo.environment["BERTH_BIN_DIR"] { return dir }
        for candidate in [".build/debug", ".build/x86_64-unknown-linux-gnu/debug", ".build/aarch64-unknown-linux-gnu/debug"] {
            let dir = "\(packageRoot)/\(candidate)"
            if FileManager.default.isExecutableFile(atPath: "\(dir)/berthctl") { return dir }
        }
        return "\(packageRoot)/.build/debug"
    }

    public struct Result: Sendable, CustomStringConvertible {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// Runs a tool with arguments; `environment` adds to this process's environment (with
    /// `BERTH_REPO` cleared so a developer's setting cannot leak in). A tool still running after
    /// `timeout` seconds is killed and the test fails with what it printed, rather than hanging.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], cwd: String? = nil, environment: [String: String] = [:], input: String? = nil,
                           timeout: Duration = .seconds(600)) async throws -> Result {
        let command = Command(tool.hasPrefix("/") ? tool : "\(binDir)/\(tool)", arguments,
                              environment: ["BERTH_REPO": ""].merging(environment) { $1 },
                              workingDirectory: cwd, input: input.map { Array($0.utf8) }, timeout: timeout)
        let result = try await SubprocessRunner().run(command)
        return Result(status: result.status, stdout: result.output, stderr: result.errorOutput)
    }

    /// ``run(_:_:cwd:environment:input:timeout:)`` under GNU time, with the CPU time the tool used
    /// (user + system) and its real time, both taken by GNU time as the tool ends: CPU time is what
    /// reading forever or spinning would burn and what a loaded machine does not inflate; the real
    /// time does not include this process's own wait to be scheduled again (its cooperative pool can
    /// be starved for seconds by tests that block it). A tool that blocks is ended by `timeout`.
    public static func runTimed(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                                timeout: Duration) async throws -> (result: Result, cpuSeconds: Double, wallSeconds: Double) {
        let usage = NSTemporaryDirectory() + "berth-rusage-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: usage) }
        let result = try await run("/usr/bin/time", ["-f", "%e %U %S", "-o", usage, tool.hasPrefix("/") ? tool : "\(binDir)/\(tool)"] + arguments,
                                   environment: environment, timeout: timeout)
        // The last line: GNU time puts "Command exited with non-zero status N" before it.
        let last = try String(contentsOfFile: usage, encoding: .utf8).split(separator: "\n").last ?? ""
        let times = last.split(separator: " ").compactMap { Double($0) }
        guard times.count == 3 else { throw Failure(description: "GNU time wrote no usage for \(tool): \(last)") }
        return (result, times[1] + times[2], times[0])
    }

    /// A fixed Git identity for commits made by tests (and agents they start), whatever the machine's config.
    public static let gitIdentity = ["GIT_AUTHOR_NAME": "ops", "GIT_AUTHOR_EMAIL": "ops@example.com",
                                     "GIT_COMMITTER_NAME": "ops", "GIT_COMMITTER_EMAIL": "ops@example.com"]

    /// `git -C dir args…` with ``gitIdentity``; its trimmed stdout, or an error with everything it printed.
    @discardableResult
    public static func git(_ dir: String, _ args: String...) async throws -> String {
        try await git(dir, arguments: args)
    }

    @discardableResult
    public static func git(_ dir: String, arguments args: [String]) async throws -> String {
        let result = try await run("/usr/bin/git", ["-C", dir] + args, environment: gitIdentity)
        guard result.status == 0 else { throw Failure(description: "git \(args.joined(separator: " ")) in \(dir): \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Makes `dir` a repository on `main` with everything in it committed; returns that commit.
    @discardableResult
    public static func gitCommitAll(_ dir: String, _ message: String) async throws -> String {
        try await git(dir, "init", "-q", "-b", "main")
        try await git(dir, "add", "-A")
        try await git(dir, "commit", "-qm", message)
        return try await git(dir, "rev-parse", "HEAD")
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
}
