import BerthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The exclusive lock that makes passes one at a time (`/run/berth/agent.lock`).
/// Held by an open file descriptor with `flock`, so it is released if the agent dies.
public final class AgentLock: @unchecked Sendable {
    private var fd: Int32 = -1
    public let path: String

    public init(path: String) { self.path = path }

    /// Takes the lock, waiting up to `timeout` seconds for a pass in progress to finish.
    public func acquire(timeout: TimeInterval) throws {
        try AtomicFile.makeDirectories((path as NSString).deletingLastPathComponent, mode: 0o700)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("open the lock \(path)") }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw AtomicFile.posixError("lock \(path)") }
            if Date() >= deadline {
                close(fd)
                fd = -1
                throw BerthError(.locked, "another berth-agent pass holds \(path); waited \(Int(timeout)) s")
            }
            usleep(100_000)
        }
    }

    public func release() {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
