import BerthCore
import Foundation

/// A program to run, described as a value: what, with which arguments, environment and limits.
public struct Command: Sendable, Hashable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]
    /// Variables added to (or replacing those of) the agent's own environment.
    public var environment: [String: String]
    public var workingDirectory: String?
    public var input: [UInt8]?
    /// How long it may run before it is killed with everything it started; nil waits for it.
    /// Every command the agent runs has one (`systemctl`, `journalctl`, `git`, `ssh-keygen`).
    public var timeout: Duration?
    /// Bytes of stdout (and of stderr) kept; the rest is cut, so a runaway child cannot exhaust
    /// the agent's memory.
    public var outputLimit: Int

    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String] = [:], workingDirectory: String? = nil,
                input: [UInt8]? = nil, timeout: Duration? = nil, outputLimit: Int = 16 << 20) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.input = input
        self.timeout = timeout
        self.outputLimit = outputLimit
    }

    public var description: String { ([executable] + arguments).joined(separator: " ") }
}

/// How a command ended.
public struct CommandResult: Sendable, Equatable {
    /// The exit status, or 128 + the signal that ended it, as shells report it; 127 when the
    /// executable was not found.
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(status: Int32, stdout: [UInt8] = [], stderr: [UInt8] = []) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { status == 0 }
    public var output: String { String(decoding: stdout, as: UTF8.self) }
    public var errorOutput: String { String(decoding: stderr, as: UTF8.self) }

    /// The last lines of stderr, joined for a one-line message.
    public var errorSummary: String {
        errorOutput.split(separator: "\n").suffix(3).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " / ")
    }
}

/// Runs commands. One real implementation (``SubprocessRunner``) and recording fakes for tests;
/// everything that calls systemctl, git, journalctl or ssh-keygen goes through this role.
public protocol CommandRunner: Sendable {
    /// Runs the command to its end. Throws `BerthError(.commandTimedOut)` when its timeout
    /// passes (the command and its process group are killed first); a non-zero exit is a result.
    func run(_ command: Command) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs and throws `BerthError(.commandFailed)` naming the command when it exits non-zero.
    @discardableResult
    public func check(_ command: Command) async throws -> CommandResult {
        let result = try await run(command)
        guard result.succeeded else {
            let detail = result.errorSummary
            throw BerthError(.commandFailed, "`\(command)` exited \(result.status)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return result
    }
}
