import BerthHost
import Foundation

/// A clock whose `sleep` returns at once, moving its time forward: a wait of 60 s passes in
/// microseconds, and a test reads how much fake time went by.
public final class ImmediateClock: Clock, @unchecked Sendable {
    public struct Instant: InstantProtocol {
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)

    public init() {}

    public var now: Instant { lock.withLock { current } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        lock.withLock { if deadline > current { current = deadline } }
        await Task.yield()
    }

    /// Moves time forward, as work that takes time would.
    public func advance(by duration: Duration) {
        lock.withLock { current = current.advanced(by: duration) }
    }

    /// Fake time since the clock was made.
    public var elapsed: Duration { now.offset }
}

/// A boot clock a test steps by hand, with the start times of the fake processes it "runs".
public final class FakeBootClock: BootClock, @unchecked Sendable {
    private let lock = NSLock()
    private var nanoseconds: UInt64 = 1_000_000_000
    private var starts: [Int: BootInstant] = [:]
    public var bootID = "fake-boot"

    public init() {}

    public func now() -> BootInstant {
        lock.withLock {
            nanoseconds += 1_000_000  // every look is a millisecond later: instants never tie
            return BootInstant(bootID: bootID, nanoseconds: nanoseconds)
        }
    }

    public func processStart(pid: Int) -> BootInstant? { lock.withLock { starts[pid] } }

    /// Records that `pid` starts now.
    public func start(pid: Int) {
        let instant = now()
        lock.withLock { starts[pid] = instant }
    }
}
