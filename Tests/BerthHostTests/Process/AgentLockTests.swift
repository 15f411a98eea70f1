import BerthCore
import BerthHost
import Foundation
import Testing
import TestSupport

@Suite("the agent's pass lock")
struct AgentLockTests {
    let root: TemporaryDirectory
    var path: String { root.file("run/berth/agent.lock") }

    init() throws {
        root = try TemporaryDirectory("berth-lock")
    }

    func acquire(timeout: Duration = .seconds(120), clock: ImmediateClock = ImmediateClock()) async throws -> AgentLock {
        try await AgentLock.acquire(path, timeout: timeout, clock: clock)
    }

    @Test("the lock is taken at once when free, making its directory 0700")
    func free() async throws {
        let lock = try await acquire()
        #expect(lock.path == path)
        var st = stat()
        #expect(stat(root.file("run/berth"), &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o700)
    }

    @Test("a second pass waits out its timeout on the clock, in no real time, and fails with `locked`; once the first is gone it gets the lock")
    func contention() async throws {
        do {
            let first = try await acquire()
            let clock = ImmediateClock()
            let path = path
            // On a thread of its own, so the 1,200 fake sleeps do not queue behind other tests.
            let (outcome, took) = await timedOnOwnThread { try await AgentLock.acquire(path, timeout: .seconds(120), clock: clock) }
            switch outcome {
            case .success: Issue.record("the second acquisition got a lock that is held")
            case .failure(let error as BerthError):
                #expect(error.code == .locked)
                #expect(error.message.contains(path), "\(error.message)")
                #expect(error.message.contains("waited 120 s"), "\(error.message)")
            case .failure(let error): Issue.record("expected a BerthError, got \(error)")
            }
            #expect(took < .seconds(10), "the wait took real time (120 s on the clock): \(took)")
            #expect(clock.elapsed >= .seconds(120), "gave up after \(clock.elapsed) of clock time")
            #expect(clock.elapsed < .seconds(121))

            // Still held: a retry fails again.
            await #expect(throws: BerthError.self) { _ = try await acquire(timeout: .seconds(1)) }
            withExtendedLifetime(first) {}
        }
        // The first lock is gone (its deinit released the flock): the lock is free again.
        let again = try await acquire(timeout: .seconds(1))
        #expect(again.path == path)
    }

    @Test("a lock released during the wait is taken before the timeout")
    func releasedDuringWait() async throws {
        let holder = LockHolder(try await acquire())
        let clock = ImmediateClock()
        async let waiter = AgentLock.acquire(path, timeout: .seconds(10_000_000), clock: clock)
        // Let the waiter try a few times, then release.
        for _ in 0..<20 { await Task.yield() }
        holder.release()
        let lock = try await waiter
        #expect(lock.path == path)
        #expect(clock.elapsed < .seconds(10_000_000))
    }

    @Test("a lock path that is a symlink is refused (O_NOFOLLOW), not followed")
    func symlinkRefused() async throws {
        try root.write("elsewhere", "keep\n")
        try FileManager.default.createDirectory(atPath: root.file("run/berth"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: root.file("elsewhere"))
        do {
            _ = try await acquire(timeout: .seconds(1))
            Issue.record("a link was followed")
        } catch let error as BerthError {
            #expect(error.code == .io)
            #expect(error.message.contains("open the lock"), "\(error.message)")
        }
        #expect(try root.read("elsewhere") == "keep\n")
    }
}

/// Holds a lock until told to let it go, across tasks.
private final class LockHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var held: AgentLock?

    init(_ held: AgentLock) { self.held = held }

    func release() { lock.withLock { held = nil } }
}
