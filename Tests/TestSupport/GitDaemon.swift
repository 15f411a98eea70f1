import Foundation

/// `git daemon` serving a directory's repositories on 127.0.0.1 over `git://`, pushes allowed:
/// a real Git transport for tests of many agents publishing at once. Stopped by ``stop()`` or,
/// at the latest, when the value is released, so a failing test leaves no daemon behind.
public final class GitDaemon: @unchecked Sendable {
    public let port: Int
    private var pid: pid_t

    /// Starts the daemon on a free port and waits until it answers.
    public init(serving base: String) async throws {
        var lastError = "no attempt"
        for _ in 0..<5 {
            let port = try Self.freePort()
            // No connection limit: git daemon's default (32) drops the newest connections from one
            // address, which would measure the limit rather than the transport.
            let pid = try Self.spawn(["/usr/bin/git", "daemon", "--reuseaddr", "--listen=127.0.0.1", "--port=\(port)", "--base-path=\(base)",
                                      "--export-all", "--enable=receive-pack", "--max-connections=0", "--informative-errors", base])
            for _ in 0..<50 {
                // A generous timeout: the reply comes at once, but this process can be scheduled
                // late on a loaded machine, and a short timeout then fires first (a CI run failed
                // so at 5 s with the daemon's answer already printed).
                let probe = try await CLI.run("/usr/bin/git", ["ls-remote", "git://127.0.0.1:\(port)/"], timeout: .seconds(60))
                // Any answer from a daemon (even "no such repository") means it listens.
                if !probe.stderr.contains("unable to connect") {
                    self.port = port
                    self.pid = pid
                    return
                }
                lastError = probe.stderr
                try await Task.sleep(for: .milliseconds(100))
            }
            Self.end(pid)
        }
        throw CLI.Failure(description: "git daemon did not start: \(lastError)")
    }

    public func url(_ repository: String) -> String { "git://127.0.0.1:\(port)/\(repository)" }

    public func stop() {
        guard pid > 0 else { return }
        Self.end(pid)
        pid = 0
    }

    deinit { stop() }

    /// posix_spawn with default signal handling and an empty signal mask, and no Foundation
    /// `Process`: threads of a Swift test process block SIGTERM (a child spawned from one would
    /// inherit that and never stop), and `Process.waitUntilExit` can wait forever when called
    /// from a task.
    static func spawn(_ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGPIPE, SIGINT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard status == 0 else { throw CLI.Failure(description: "posix_spawn \(arguments[0]): \(status)") }
        return pid
    }

    /// SIGTERM, then reaps it (git daemon exits at once; its connections are children that end on their own).
    static func end(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// A port nothing listens on now: bound to port 0, read back, released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLI.Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CLI.Failure(description: "bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
