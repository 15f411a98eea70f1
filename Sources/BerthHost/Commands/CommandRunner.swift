import Foundation

/// A program to run, described as a value: what, with which arguments and environment.
public struct Command: Sendable, Hashable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String?
    public var input: [UInt8]?

    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String] = [:], workingDirectory: String? = nil, input: [UInt8]? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.input = input
    }

    public var description: String { ([executable] + arguments).joined(separator: " ") }
}

/// How a command ended.
public struct CommandResult: Sendable, Equatable {
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
}

/// Runs commands. One real implementation and a recording fake for tests; everything that
/// calls systemctl, git, journalctl or docker goes through this role.
public protocol CommandRunner: Sendable {
    func run(_ command: Command) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs and throws a one-line error naming the command when it exits non-zero.
    @discardableResult
    public func check(_ command: Command) async throws -> CommandResult {
        let result = try await run(command)
        guard result.succeeded else {
            let detail = result.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            throw BerthCommandError(command: command, result: result, detail: detail)
        }
        return result
    }
}

/// A command that exited non-zero, with what it printed.
public struct BerthCommandError: Error, CustomStringConvertible, Sendable {
    public var command: Command
    public var result: CommandResult
    public var detail: String
    public var description: String {
        "`\(command)` exited \(result.status)" + (detail.isEmpty ? "" : ": \(detail.split(separator: "\n").suffix(3).joined(separator: " / "))")
    }
}

/// Runs commands as child processes. `PATH` is searched when the executable has no slash.
public struct ProcessRunner: CommandRunner {
    public init() {}

    public func run(_ command: Command) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runSync(command) })
            }
        }
    }

    public func runSync(_ command: Command) throws -> CommandResult {
        let process = Process()
        if command.executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: command.executable)
            process.arguments = command.arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [command.executable] + command.arguments
        }
        if !command.environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(command.environment) { $1 }
        }
        if let dir = command.workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: dir) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = command.input == nil ? FileHandle.nullDevice : input
        try process.run()
        if let bytes = command.input {
            try? input.fileHandleForWriting.write(contentsOf: Data(bytes))
            try? input.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: Array(outData), stderr: Array(errData))
    }
}
