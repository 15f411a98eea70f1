import BerthHost
import Foundation
import Testing

@Suite("the boot clock")
struct BootClockTests {
    @Test("a process started just now is placed within a tick or two of now on the boot clock")
    func precise() async throws {
        let clock = SystemBootClock()
        let before = clock.now()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["5"]
        try child.run()
        defer { child.terminate() }
        let started = try #require(clock.processStart(pid: Int(child.processIdentifier)))
        #expect(started.bootID == before.bootID)
        // Clock ticks are 10 ms; allow for them and for scheduling.
        let gap = Int64(started.nanoseconds) - Int64(before.nanoseconds)
        #expect(abs(gap) < 100_000_000, "\(started) vs \(before)")
    }

    @Test("no such process has no start time")
    func missing() {
        #expect(SystemBootClock().processStart(pid: 0) == nil)
        #expect(SystemBootClock().processStart(pid: Int(Int32.max)) == nil)
    }
}
