import BerthCore
import Foundation

/// The exclusive lock that makes passes one at a time (`/run/berth/agent.lock`).
/// Held by an open file descriptor with `flock`, so it is released if the agent dies.
public final class AgentLock: Sendable {
    private let fd: Int32
    public let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Takes the lock, waiting up to `timeout` on `clock` for a pass in progress to finish.
    public static func acquire(_ path: String, timeout: Duration, clock: any Clock<Duration>) async throws -> AgentLock {
        try AtomicFile.makeDirectories((path as NSString).deletingLastPathComponent, mode: 0o700)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("open the lock \(path)") }
        let outcome: PollOutcome<Void> = await poll(timeout: timeout, every: .milliseconds(100), clock: clock) {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return .done(()) }
            if errno == EWOULDBLOCK || errno == EINTR { return .retry("another pass holds it") }
            return .stop(String(cString: strerror(errno)))
        }
        switch outcome {
        case .done: return AgentLock(fd: fd, path: path)
        case .timedOut:
            close(fd)
            throw BerthError(.locked, "another berth-agent pass holds \(path); waited \(Int(timeout.seconds)) s")
        case .stopped(let reason):
            close(fd)
            throw BerthError(.io, "cannot lock \(path): \(reason)")
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
