import Foundation

/// A program to run, described as a value: what, with which arguments and environment.
public struct Command: Sendable, Hashable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String?
    public var input: [UInt8]?
    /// Seconds after which the command is killed and ``CommandTimeout`` thrown; `nil` waits.
    public var timeout: Double?

    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String] = [:], workingDirectory: String? = nil, input: [UInt8]? = nil, timeout: Double? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.input = input
        self.timeout = timeout
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
///
/// Output is captured in unlinked temporary files, not pipes, and the runner waits for the
/// child's exit, not for end-of-file: a child that leaves a process behind holding its stdout
/// (a daemonizing tool, a test host's `systemd-nspawn`) would otherwise keep the caller waiting
/// for as long as that process lives. A timeout kills the child itself, not what it started.
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
        let out = try CaptureFile(), err = try CaptureFile()
        process.standardOutput = out.handle
        process.standardError = err.handle
        if let bytes = command.input {
            let input = try CaptureFile()
            try input.handle.write(contentsOf: Data(bytes))
            _ = lseek(input.handle.fileDescriptor, 0, SEEK_SET)
            process.standardInput = input.handle
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if let timeout = command.timeout {
            if exited.wait(timeout: .now() + timeout) == .timedOut {
                // TERM first, so the child can clean up; KILL if it will not go.
                kill(process.processIdentifier, SIGTERM)
                if exited.wait(timeout: .now() + 3) == .timedOut {
                    kill(process.processIdentifier, SIGKILL)
                    exited.wait()
                }
                throw CommandTimeout(command: command, seconds: timeout, stdout: out.contents(), stderr: err.contents())
            }
        } else {
            exited.wait()
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: out.contents(), stderr: err.contents())
    }
}

/// A command that did not finish within ``Command/timeout`` and was killed.
public struct CommandTimeout: Error, CustomStringConvertible, Sendable {
    public var command: Command
    public var seconds: Double
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var description: String {
        "`\(command)` did not finish within \(Int(seconds)) s and was killed"
            + "\n--- stdout\n\(String(decoding: stdout, as: UTF8.self))\n--- stderr\n\(String(decoding: stderr, as: UTF8.self))"
    }
}

/// An anonymous temporary file (created and unlinked at once, close-on-exec) that a child
/// writes into; read back from the start after the child has exited.
private final class CaptureFile {
    let handle: FileHandle

    /// A full or read-only /tmp must not stop the agent from running `systemctl`: the tmpfs
    /// directories every systemd host has come next.
    static let directories = [ProcessInfo.processInfo.environment["TMPDIR"], "/tmp", "/dev/shm", "/run"].compactMap { $0 }.filter { !$0.isEmpty }

    init() throws {
        var lastError = EIO
        for dir in Self.directories {
            var template = Array("\(dir)/berth-capture.XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { lastError = errno; continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            return
        }
        throw POSIXError(POSIXErrorCode(rawValue: lastError) ?? .EIO)
    }

    func contents() -> [UInt8] {
        var bytes: [UInt8] = []
        var offset: off_t = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(handle.fileDescriptor, $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
            offset += off_t(n)
        }
        return bytes
    }
}
