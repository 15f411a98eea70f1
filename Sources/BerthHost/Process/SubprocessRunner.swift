import BerthCore
import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs commands as child processes with swift-subprocess.
///
/// - Each child leads its own process group, so a timeout (or a cancelled pass) ends it and
///   everything it started: SIGTERM to the group, SIGKILL 3 s later (swift-subprocess's
///   teardown sequence, started by cancelling the task that runs it).
/// - The child inherits no descriptor but its three standard ones (swift-subprocess closes
///   the rest with `close_range`).
/// - Output goes to unlinked temporary files rather than pipes: a child that leaves a process
///   behind holding its stdout (git's ssh, a test host's `systemd-nspawn`) must not keep the
///   runner waiting for an end of file that never comes. The runner waits for the child itself.
/// - `PATH` (the child's) is searched when the executable has no slash; a command not found
///   there ends with status 127, as a shell says.
public struct SubprocessRunner: CommandRunner {
    public init() {}

    public func run(_ command: Command) async throws -> CommandResult {
        var environment: [Environment.Key: String?] = [:]
        for (key, value) in command.environment { environment[Environment.Key(stringLiteral: key)] = value }
        let path = command.environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
        guard let executable = Self.resolve(command.executable, path: path, in: command.workingDirectory) else {
            return CommandResult(status: 127, stderr: Array("\(command.executable): not found in PATH\n".utf8))
        }
        let out = try CaptureFile(), err = try CaptureFile()
        let input = try command.input.map { bytes -> CaptureFile in
            let file = try CaptureFile()
            try file.write(bytes)
            return file
        }
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(3))]
        let configuration = Configuration(
            executable: .path(FilePath(executable)),
            arguments: Arguments(command.arguments),
            environment: .inherit.updating(environment),
            workingDirectory: command.workingDirectory.map { FilePath($0) },
            platformOptions: options)

        let run: @Sendable () async throws -> TerminationStatus = {
            let stdin: FileDescriptorInput = .fileDescriptor(FileDescriptor(rawValue: input?.reopenForReading() ?? open("/dev/null", O_RDONLY | O_CLOEXEC)), closeAfterSpawningProcess: true)
            return try await Subprocess.run(configuration, input: stdin,
                                            output: .fileDescriptor(FileDescriptor(rawValue: out.fd), closeAfterSpawningProcess: false),
                                            error: .fileDescriptor(FileDescriptor(rawValue: err.fd), closeAfterSpawningProcess: false)).terminationStatus
        }
        let status: TerminationStatus
        if let timeout = command.timeout {
            status = try await withThrowingTaskGroup(of: TerminationStatus?.self) { group in
                group.addTask { try await run() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                guard let first else {
                    // Cancelling the run tears the child's group down; wait for that to finish.
                    _ = try? await group.next()
                    throw BerthError(.commandTimedOut, "`\(command)` did not finish within \(Int(timeout.seconds)) s and was killed"
                        + Self.tail(err.contents(limit: command.outputLimit)))
                }
                return first
            }
        } else {
            status = try await run()
        }
        let code: Int32
        switch status {
        case .exited(let value): code = Int32(value)
        case .signaled(let signal): code = 128 + Int32(signal)
        }
        return CommandResult(status: code, stdout: out.contents(limit: command.outputLimit), stderr: err.contents(limit: command.outputLimit))
    }

    static func tail(_ stderr: [UInt8]) -> String {
        let text = String(decoding: stderr, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " / ")
        return text.isEmpty ? "" : "; it printed: \(text)"
    }

    /// The file `execvp` would run: `executable` itself when it has a slash (relative to the
    /// working directory when it does not start with one), else the first executable regular file
    /// of that name in `PATH`.
    static func resolve(_ executable: String, path: String?, in directory: String?) -> String? {
        if executable.hasPrefix("/") { return executable }
        if executable.contains("/") { return (directory ?? FileManager.default.currentDirectoryPath) + "/" + executable }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + executable
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }
}

/// An anonymous temporary file (created and unlinked at once, close-on-exec) that a child
/// writes into; read back from the start after the child has exited.
final class CaptureFile: Sendable {
    let fd: Int32

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
            self.fd = fd
            return
        }
        throw BerthError(.io, "cannot create a temporary file for a command's output in \(Self.directories.joined(separator: ", ")): \(String(cString: strerror(lastError)))")
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + offset, bytes.count - offset, off_t(offset)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BerthError(.io, "cannot write a command's input: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// A new descriptor for the same file, read from the start (the child's own file offset).
    func reopenForReading() -> Int32 {
        open("/proc/self/fd/\(fd)", O_RDONLY | O_CLOEXEC)
    }

    func contents(limit: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var offset: off_t = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            bytes += buffer[0..<min(n, limit - bytes.count)]
            offset += off_t(n)
        }
        return bytes
    }
}
