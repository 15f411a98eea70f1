import BerthCore
import Foundation
import Testing

@Suite("listener URLs, durations, windows, names")
struct ValueSyntaxTests {
    @Test("listener forms that are accepted", arguments: [
        ("fd://", Listener.fd(name: nil)),
        ("fd://docker.socket", .fd(name: "docker.socket")),
        ("unix:///var/run/docker.sock", .unix(path: "/var/run/docker.sock")),
        ("tcp://0.0.0.0:2376", .tcp(host: "0.0.0.0", port: 2376)),
        ("tcp://[::]:2376", .tcp(host: "::", port: 2376)),
        ("tcp://web-1.example.com:2376", .tcp(host: "web-1.example.com", port: 2376)),
    ])
    func goodListeners(_ text: String, _ expected: Listener) throws {
        let parsed = try Listener.parse(text).get()
        #expect(parsed == expected)
        #expect(parsed.description == text)
    }

    @Test("durations", arguments: [("90s", 90), ("45m", 2700), ("12h", 43200), ("30d", 2_592_000), ("2w", 1_209_600)])
    func durations(_ text: String, _ seconds: Int) {
        #expect(TimeSpan.parse(text)?.seconds == seconds)
    }

    @Test("bad durations", arguments: ["30", "d", "30 d", "-1d", "1y", "3.5h", ""])
    func badDurations(_ text: String) {
        #expect(TimeSpan.parse(text) == nil)
    }

    @Test("a window opens and closes on its days, in UTC")
    func window() throws {
        let window = try RestartWindow.parse("Sun 02:00-04:00 UTC").get()
        // 2026-11-22 is a Sunday.
        let sunday0300 = Date(timeIntervalSince1970: 1_795_316_400)
        #expect(window.contains(sunday0300))
        #expect(!window.contains(sunday0300.addingTimeInterval(3600)))   // 04:00, closed
        #expect(!window.contains(sunday0300.addingTimeInterval(86_400)))  // Monday 03:00
    }

    @Test("a window past midnight belongs to the day it opened")
    func overnightWindow() throws {
        let window = try RestartWindow.parse("Fri 22:00-02:00").get()
        let friday2300 = Date(timeIntervalSince1970: 1_795_215_600)   // 2026-11-20 23:00 UTC, a Friday
        #expect(window.contains(friday2300))
        #expect(window.contains(friday2300.addingTimeInterval(2 * 3600)))    // Saturday 01:00
        #expect(!window.contains(friday2300.addingTimeInterval(4 * 3600)))   // Saturday 03:00
        #expect(!window.contains(friday2300.addingTimeInterval(-86_400 + 7200)))  // Friday 01:00
    }

    @Test("day specs", arguments: [("daily 03:00-04:00", 7), ("Mon-Fri 03:00-04:00", 5), ("Sat,Sun 03:00-04:00 UTC", 2), ("Fri-Mon 03:00-04:00", 4)])
    func daySpecs(_ text: String, _ count: Int) throws {
        #expect(try RestartWindow.parse(text).get().days.count == count)
    }

    @Test("names", arguments: [("web-1", true), ("db.eu-west.3", true), ("Web", false), ("-web", false), ("a..b", false), ("a/b", false), ("..", false), ("", false), ("web_1", false)])
    func names(_ name: String, _ valid: Bool) {
        #expect(ResourceName.isValid(name) == valid)
    }

    @Test("CIDR membership")
    func cidr() throws {
        let block = try #require(CIDR("10.1.0.0/16"))
        #expect(block.contains(IPAddress("10.1.200.3")!))
        #expect(!block.contains(IPAddress("10.2.0.1")!))
        #expect(try #require(CIDR("fd00::/8")).contains(IPAddress("fd12::1")!))
        #expect(CIDR("10.0.0.0/33") == nil)
    }
}
