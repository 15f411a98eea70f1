import Foundation

/// Berth's one timestamp format, `2026-03-01T12:00:00Z` (RFC 3339, UTC, whole seconds), and the
/// UTC calendar fields a restart window needs. Plain arithmetic on the proleptic Gregorian
/// calendar (Howard Hinnant's `days_from_civil`): a pass never needs a locale or a time zone
/// database, and Foundation's ISO 8601 and Calendar types load ICU's, about 1 MB of every
/// short-lived agent's memory (see bench/).
public enum UTCTime {
    public struct Fields: Equatable, Sendable {
        public var year, month, day, hour, minute, second: Int
        /// 1 = Sunday ... 7 = Saturday, as Foundation's `Calendar` numbers weekdays.
        public var weekday: Int
    }

    public static func fields(of date: Date) -> Fields {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (y, m, d) = civil(fromDays: days)
        let weekday = floorDivide(days + 4, 7).remainder + 1          // 1970-01-01 was a Thursday
        return Fields(year: y, month: m, day: d, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
                      second: secondOfDay % 60, weekday: weekday)
    }

    /// `2026-03-01T12:00:00Z`; fractions of a second are dropped.
    public static func format(_ date: Date) -> String {
        let f = fields(of: date)
        func pad(_ n: Int, _ width: Int = 2) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(f.year, 4))-\(pad(f.month))-\(pad(f.day))T\(pad(f.hour)):\(pad(f.minute)):\(pad(f.second))Z"
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS`, an optional fraction, then `Z` or `±HH:MM`; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func number(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var n = 0
            for c in b[at..<at + count] {
                guard c >= 0x30, c <= 0x39 else { return nil }
                n = n * 10 + Int(c - 0x30)
            }
            return n
        }
        func byte(_ at: Int, _ c: Character) -> Bool { at < b.count && b[at] == c.asciiValue! }
        guard let year = number(0, 4), byte(4, "-"), let month = number(5, 2), byte(7, "-"), let day = number(8, 2),
              byte(10, "T") || byte(10, "t"), let hour = number(11, 2), byte(13, ":"), let minute = number(14, 2),
              byte(16, ":"), let second = number(17, 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if byte(i, ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard i > start else { return nil }
            fraction = Double("0." + String(decoding: b[start..<i], as: UTF8.self)) ?? 0
        }
        var offset = 0
        if byte(i, "Z") || byte(i, "z") {
            i += 1
        } else if byte(i, "+") || byte(i, "-") {
            guard let oh = number(i + 1, 2), byte(i + 3, ":"), let om = number(i + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (byte(i, "+") ? 1 : -1) * (oh * 3600 + om * 60)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> (quotient: Int, remainder: Int) {
        let q = a >= 0 ? a / b : -((-a + b - 1) / b)
        return (q, a - q * b)
    }

    private static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097).quotient
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400).quotient
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension JSONEncoder.DateEncodingStrategy {
    /// Dates as `UTCTime.format` writes them.
    public static var berthUTC: Self {
        .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(UTCTime.format(date))
        }
    }
}

extension JSONDecoder.DateDecodingStrategy {
    /// Dates as `UTCTime.parse` reads them.
    public static var berthUTC: Self {
        .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = UTCTime.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a UTC timestamp like 2026-03-01T12:00:00Z")
            }
            return date
        }
    }
}

extension Date {
    /// `2026-03-01T12:00:00Z`: how dates appear in Berth's messages, reports and tables.
    public var berthTimestamp: String { UTCTime.format(self) }
}
