import BerthAgent
import BerthCore
import Foundation
import Testing

@Suite("when the next pass is due")
struct PassScheduleTests {
    func report(stale: Bool) -> ReconcileReport {
        ReconcileReport(host: "web-1", agentVersion: "test", time: Date(timeIntervalSince1970: 1_795_000_000),
                        state: stale ? .failed : .inSync, message: "",
                        source: SourceStatus(kind: .git, location: "https://git.example.com/fleet.git", stale: stale),
                        intervalSeconds: 300)
    }

    @Test("a fresh pass waits the interval times the jitter", arguments: [0.9, 1.0, 1.1])
    func regular(_ jitter: Double) {
        var schedule = PassSchedule(interval: .seconds(300))
        #expect(schedule.delay(after: report(stale: false), jitter: jitter) == .seconds(300) * jitter)
        #expect(schedule.backoff == .seconds(5))
    }

    @Test("a stale source retries after 5 s, doubling each time, never beyond the interval")
    func backoff() {
        var schedule = PassSchedule(interval: .seconds(60))
        let waits = (0..<7).map { _ in schedule.delay(after: report(stale: true), jitter: 1.0) }
        #expect(waits == [5, 10, 20, 40, 60, 60, 60].map { Duration.seconds($0) })
        #expect(schedule.backoff == .seconds(60))
    }

    @Test("the stale wait is capped by the jittered interval, so it is never longer than a regular one")
    func backoffCappedByJitter() {
        var schedule = PassSchedule(interval: .seconds(20))
        let waits = (0..<4).map { _ in schedule.delay(after: report(stale: true), jitter: 0.75) }
        #expect(waits == [.seconds(5), .seconds(10), .seconds(15), .seconds(15)])
    }

    @Test("a fresh pass resets the backoff: the next stale pass starts again at 5 s")
    func resetsAfterFreshPass() {
        var schedule = PassSchedule(interval: .seconds(300))
        _ = schedule.delay(after: report(stale: true), jitter: 1.0)
        _ = schedule.delay(after: report(stale: true), jitter: 1.0)
        #expect(schedule.delay(after: report(stale: true), jitter: 1.0) == .seconds(20))
        #expect(schedule.delay(after: report(stale: false), jitter: 1.05) == .seconds(300) * 1.05)
        #expect(schedule.backoff == .seconds(5))
        #expect(schedule.delay(after: report(stale: true), jitter: 1.0) == .seconds(5))
        #expect(schedule.delay(after: report(stale: true), jitter: 1.0) == .seconds(10))
    }

    @Test("an interval shorter than the first retry: a stale pass waits no longer than the interval")
    func shortInterval() {
        var schedule = PassSchedule(interval: .seconds(2))
        #expect(schedule.delay(after: report(stale: true), jitter: 1.0) == .seconds(2))
        #expect(schedule.delay(after: report(stale: true), jitter: 1.0) == .seconds(2))
        #expect(schedule.backoff <= .seconds(2))
    }

    @Test("the first retry can be set")
    func customStart() {
        var schedule = PassSchedule(interval: .seconds(600), retryStart: .seconds(1))
        let waits = (0..<4).map { _ in schedule.delay(after: report(stale: true), jitter: 1.0) }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(8)])
    }
}
