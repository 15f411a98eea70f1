import BerthHost
import Foundation
import Testing

@Suite("process start times")
struct ProcessStartTests {
    @Test("a process started just now is dated within a tick or two of now, not up to a second off")
    func precise() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["5"]
        let before = Date()
        try child.run()
        defer { child.terminate() }
        let started = try #require(ProcessStart.date(pid: Int(child.processIdentifier)))
        // Clock ticks are 10 ms; allow for them and for scheduling, but far less than btime's second.
        #expect(abs(started.timeIntervalSince(before)) < 0.1, "\(started) vs \(before)")
    }

    @Test("no such process has no start time")
    func missing() {
        #expect(ProcessStart.date(pid: 0) == nil)
        #expect(ProcessStart.date(pid: Int(Int32.max)) == nil)
    }
}
