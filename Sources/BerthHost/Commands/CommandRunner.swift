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

/// Runs commands as child processes, with `posix_spawn` and `waitpid`. `PATH` (the child's) is
/// searched when the executable has no slash; a command not found there ends with status 127.
///
/// Not Foundation's `Process`: on Linux it learns that a child ended when a socket the child
/// inherited closes, so a child that leaves a process behind (git's ssh, a test host's
/// `systemd-nspawn`) is "running" for as long as that process lives. Here the runner waits for
/// the child itself. Output goes to unlinked temporary files, not pipes, for the same reason.
/// The child leads its own process group, with default signal handling, so a timeout ends it
/// and everything it started (TERM, then KILL 3 s later).
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
        let merged = ProcessInfo.processInfo.environment.merging(command.environment) { $1 }
        let program: String
        let argv: [String]
        if let dir = command.workingDirectory {
            // env changes directory, then searches PATH from there, as a shell would
            // (glibc's posix_spawn_file_actions_addchdir_np is not visible to Swift).
            program = "/usr/bin/env"
            argv = ["/usr/bin/env", "-C", dir, command.executable] + command.arguments
        } else if let executable = Self.resolve(command.executable, path: merged["PATH"]) {
            program = executable
            argv = [command.executable] + command.arguments
        } else {
            // What a shell or `env` answers for a command it cannot find.
            return CommandResult(status: 127, stderr: Array("\(command.executable): not found in PATH\n".utf8))
        }
        let environment = merged.map { "\($0.key)=\($0.value)" }

        let out = try CaptureFile(), err = try CaptureFile()
        var input: CaptureFile?
        if let bytes = command.input {
            let file = try CaptureFile()
            try file.handle.write(contentsOf: Data(bytes))
            input = file
        }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if devNull >= 0 { close(devNull) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input {
            // The child reads from the start: its own open file description, not our offset.
            posix_spawn_file_actions_addopen(&actions, 0, "/proc/self/fd/\(input.handle.fileDescriptor)", O_RDONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, devNull, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, out.handle.fileDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, err.handle.fileDescriptor, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), none = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD] { sigaddset(&defaults, signal) }
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        var pid: pid_t = 0
        let spawned = withCStrings(argv) { cArgv in
            withCStrings(environment) { cEnv in posix_spawn(&pid, program, &actions, &attributes, cArgv, cEnv) }
        }
        guard spawned == 0 else {
            throw BerthCommandError(command: command, result: CommandResult(status: 127), detail: String(cString: strerror(spawned)))
        }

        let exited = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status: Int32 = 0
        let child = pid
        Thread.detachNewThread {
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            exited.signal()
        }
        if let timeout = command.timeout, exited.wait(timeout: .now() + timeout) == .timedOut {
            kill(-child, SIGTERM)
            if exited.wait(timeout: .now() + 3) == .timedOut {
                kill(-child, SIGKILL)
                exited.wait()
            }
            kill(-child, SIGKILL)  // whatever the child left behind in its group
            throw CommandTimeout(command: command, seconds: timeout, stdout: out.contents(), stderr: err.contents())
        } else if command.timeout == nil {
            exited.wait()
        }
        // Exit code, or 128 + the signal that ended it, as shells report it.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return CommandResult(status: code, stdout: out.contents(), stderr: err.contents())
    }

    /// The file `execvp` would run: `executable` itself when it has a slash, else the first
    /// executable regular file of that name in the child's `PATH`. Searched here rather than by
    /// exec'ing `/usr/bin/env` first, which cost a pass an extra exec (~1 ms) per command. Unlike
    /// `execvp`, a script without a `#!` line is not handed to `/bin/sh`: spawning it fails.
    static func resolve(_ executable: String, path: String?) -> String? {
        if executable.contains("/") { return executable }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + executable
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Calls `body` with a NULL-terminated C array of the strings, valid only inside it.
    private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
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
