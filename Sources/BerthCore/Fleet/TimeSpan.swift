/// A length of time written the way operators write it in `fleet.yaml`: `90s`, `45m`, `12h`, `30d`, `2w`.
///
/// Named `TimeSpan` rather than `Duration` to stay clear of the standard library's clock type.
public struct TimeSpan: Sendable, Hashable, TextCodable, Comparable {
    public var seconds: Int
    /// The text it was written as, kept so reports echo what the operator wrote.
    public var text: String

    public init(seconds: Int) {
        self.seconds = seconds
        if seconds % 604_800 == 0 && seconds > 0 { text = "\(seconds / 604_800)w" }
        else if seconds % 86_400 == 0 && seconds > 0 { text = "\(seconds / 86_400)d" }
        else if seconds % 3_600 == 0 && seconds > 0 { text = "\(seconds / 3_600)h" }
        else if seconds % 60 == 0 && seconds > 0 { text = "\(seconds / 60)m" }
        else { text = "\(seconds)s" }
    }

    public static func days(_ n: Int) -> TimeSpan { TimeSpan(seconds: n * 86_400) }

    public init?(_ text: String) {
        guard let span = Self.parse(text) else { return nil }
        self = span
    }

    /// Parses `<number><unit>` with unit one of s, m, h, d, w.
    public static func parse(_ text: String) -> TimeSpan? {
        guard let unit = text.last, let number = Int(text.dropLast()), number >= 0,
              text.dropLast().allSatisfy(\.isNumber)
        else { return nil }
        let factor: Int
        switch unit {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3_600
        case "d": factor = 86_400
        case "w": factor = 604_800
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor)
        guard !overflow else { return nil }
        var span = TimeSpan(seconds: product)
        span.text = text
        return span
    }

    public var description: String { text }

    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.seconds < rhs.seconds }
    public static func == (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.seconds == rhs.seconds }
    public func hash(into hasher: inout Hasher) { hasher.combine(seconds) }

}
