import BerthCore
import Foundation
import Testing

@Suite("UTC timestamps without ICU")
struct UTCTimeTests {
    /// Dates across leap days, century rules, the epoch and both sides of it.
    static let samples: [TimeInterval] = [
        0, -1, 86_399, 86_400, 951_782_400 /* 2000-02-29 */, 4_107_542_399 /* 2100-02-28T23:59:59 */,
        1_709_164_800 /* 2024-02-29 */, 1_772_366_400, 253_402_300_799 /* 9999-12-31T23:59:59 */,
        -2_208_988_800 /* 1900-01-01 */, -62_135_596_800 /* 0001-01-01 */,
    ]

    @Test("format agrees with Foundation's ISO 8601 style and calendar, to the second")
    func agreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        let random = (0..<2000).map { _ in TimeInterval(Int.random(in: -2_000_000_000...8_000_000_000, using: &generator)) + 0.75 }
        for t in Self.samples.filter({ $0 >= -2_208_988_800 }) + random {
            let date = Date(timeIntervalSince1970: t)
            #expect(UTCTime.format(date) == date.formatted(.iso8601), "at \(t)")
            let f = UTCTime.fields(of: date)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
            let ours: [Int] = [f.year, f.month, f.day, f.hour, f.minute, f.second, f.weekday]
            let foundations: [Int] = [c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, c.weekday!]
            #expect(ours == foundations, "at \(t)")
        }
    }

    @Test("parse reads back what format writes, and offsets and fractions")
    func roundTrip() throws {
        for t in Self.samples {
            let date = Date(timeIntervalSince1970: t)
            #expect(UTCTime.parse(UTCTime.format(date)) == date, "at \(t)")
        }
        #expect(UTCTime.parse("2026-03-01T12:00:00Z") == Date(timeIntervalSince1970: 1_772_366_400))
        #expect(UTCTime.parse("2026-03-01T13:30:00+01:30") == Date(timeIntervalSince1970: 1_772_366_400))
        #expect(UTCTime.parse("2026-03-01T10:00:00-02:00") == Date(timeIntervalSince1970: 1_772_366_400))
        #expect(UTCTime.parse("2026-03-01T12:00:00.250Z") == Date(timeIntervalSince1970: 1_772_366_400.25))
        #expect(UTCTime.format(Date(timeIntervalSince1970: 1_772_366_400.999)) == "2026-03-01T12:00:00Z")
    }

    @Test("parse refuses what is not a timestamp", arguments: [
        "", "2026-03-01", "2026-03-01T12:00:00", "2026-03-01 12:00:00Z", "2026-02-29T12:00:00Z", "2026-13-01T12:00:00Z",
        "2026-03-01T24:00:00Z", "2026-03-01T12:60:00Z", "2026-03-01T12:00:00.Z", "2026-03-01T12:00:00Zjunk",
        "2026-03-01T12:00:00+0100", "２026-03-01T12:00:00Z", "2026-03-01T12:00:00+1:00",
    ])
    func refuses(_ text: String) {
        #expect(UTCTime.parse(text) == nil)
    }

    @Test("reports' JSON dates use the same format")
    func json() throws {
        struct Stamp: Codable, Equatable { var at: Date }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .berthUTC
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .berthUTC
        let stamp = Stamp(at: Date(timeIntervalSince1970: 1_772_366_400))
        let data = try encoder.encode(stamp)
        #expect(String(decoding: data, as: UTF8.self) == #"{"at":"2026-03-01T12:00:00Z"}"#)
        #expect(try decoder.decode(Stamp.self, from: data) == stamp)
        #expect(throws: DecodingError.self) { try decoder.decode(Stamp.self, from: Data(#"{"at":"yesterday"}"#.utf8)) }
    }
}
