import Foundation

/// When `dockerd` may be restarted for a change: how much disruption an operator accepts.
public enum RestartPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Restart whenever a change needs it.
    case always
    /// Restart when it disrupts nothing: live-restore is on, no container runs, or inside the window.
    case whenSafe = "when-safe"
    /// Never restart; report `pending-restart` and let an operator do it.
    case manual
}

/// A weekly maintenance window such as `Sun 02:00-04:00 UTC`, `Mon-Fri 22:00-02:00`, `daily 03:00-04:00`.
///
/// Days are `daily`, one day, a range (`Mon-Fri`) or a list (`Sat,Sun`); times are 24-hour
/// `HH:MM`; a window whose end is before its start runs past midnight into the next day.
/// Only UTC is accepted: a fleet spans time zones and a window must mean one instant everywhere.
public struct RestartWindow: Sendable, Hashable, TextCodable {
    /// Weekdays the window opens on; 1 = Sunday … 7 = Saturday (Foundation's numbering).
    public var days: Set<Int>
    /// Minutes after midnight UTC.
    public var start: Int
    public var end: Int
    public var text: String

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    public static let example = "Sun 02:00-04:00 UTC"

    /// Parses the window or says what is wrong.
    public init?(_ text: String) {
        guard case .success(let window) = Self.parse(text) else { return nil }
        self = window
    }

    public static func parse(_ text: String) -> Result<RestartWindow, ValueSyntaxError> {
        var words = text.split(separator: " ").map(String.init)
        let hint = "write a window like \"\(example)\", \"Mon-Fri 22:00-02:00 UTC\" or \"daily 03:00-04:00 UTC\""
        if let last = words.last, last.uppercased() == last, last.first?.isLetter == true {
            guard last == "UTC" else {
                return .failure(.init("time zone \"\(last)\" is not supported, only UTC; \(hint)"))
            }
            words.removeLast()
        }
        guard words.count == 1 || words.count == 2 else {
            return .failure(.init("\"\(text)\" is not a window; \(hint)"))
        }
        var days = Set(1...7)
        if words.count == 2 {
            guard let parsed = parseDays(words[0]) else {
                return .failure(.init("\"\(words[0])\" is not a day spec; use daily, Sun, Mon-Fri or Sat,Sun; \(hint)"))
            }
            days = parsed
        }
        let times = words[words.count - 1].split(separator: "-", omittingEmptySubsequences: false)
        guard times.count == 2, let start = parseTime(times[0]), let end = parseTime(times[1]) else {
            return .failure(.init("\"\(words[words.count - 1])\" is not a time range HH:MM-HH:MM; \(hint)"))
        }
        guard start != end else {
            return .failure(.init("\"\(text)\" opens and closes at the same minute; \(hint)"))
        }
        return .success(RestartWindow(days: days, start: start, end: end, text: text))
    }

    private static func parseDays(_ spec: String) -> Set<Int>? {
        let lower = spec.lowercased()
        if lower == "daily" { return Set(1...7) }
        func day(_ name: Substring) -> Int? {
            dayNames.firstIndex(of: String(name.prefix(3))).flatMap { name.count == 3 ? $0 + 1 : nil }
        }
        var result = Set<Int>()
        for part in lower.split(separator: ",", omittingEmptySubsequences: false) {
            let range = part.split(separator: "-", omittingEmptySubsequences: false)
            if range.count == 1, let d = day(range[0]) {
                result.insert(d)
            } else if range.count == 2, let a = day(range[0]), let b = day(range[1]) {
                var d = a
                while true {
                    result.insert(d)
                    if d == b { break }
                    d = d % 7 + 1
                }
            } else {
                return nil
            }
        }
        return result
    }

    private static func parseTime(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m)
        else { return nil }
        return h * 60 + m
    }

    /// Whether `date` falls inside the window.
    public func contains(_ date: Date) -> Bool {
        let parts = UTCTime.fields(of: date)
        let weekday = parts.weekday
        let minute = parts.hour * 60 + parts.minute
        if start < end {
            return days.contains(weekday) && minute >= start && minute < end
        }
        // Runs past midnight: the evening part belongs to today, the morning part to yesterday's window.
        let yesterday = (weekday + 5) % 7 + 1
        return (days.contains(weekday) && minute >= start) || (days.contains(yesterday) && minute < end)
    }

    public var description: String { text }

    public init(days: Set<Int>, start: Int, end: Int, text: String) {
        self.days = days
        self.start = start
        self.end = end
        self.text = text
    }
}
