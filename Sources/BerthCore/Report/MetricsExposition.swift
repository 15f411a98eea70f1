import Foundation

/// Prometheus's text exposition format (0.0.4), the format node_exporter's textfile collector
/// reads and a Pushgateway accepts: `# HELP` and `# TYPE` lines, then the family's samples.
///
/// Written by hand rather than with swift-prometheus or swift-metrics: those keep a registry of
/// live metrics in a long-running process and render it when scraped, while the agent is a
/// short-lived process that writes one file per pass and keeps its counters on disk between
/// runs. What is left to do is a few dozen lines of text: a registry, its locks and its type
/// lookups would cost each pass more start-up time than the text itself (see docs/operations.md).
///
/// Every family is written whole, once (the format wants a family's samples together). Label
/// values are escaped (`\\`, `\"`, `\n`): host names, revisions and messages come from files.
public struct MetricsExposition: Sendable {
    public enum MetricType: String, Sendable {
        case gauge, counter
    }

    /// One sample: its labels, in order, and its value.
    public struct Sample: Sendable, Equatable {
        public var labels: [(name: String, value: String)]
        public var value: Double

        public init(_ labels: [(name: String, value: String)] = [], _ value: Double) {
            self.labels = labels
            self.value = value
        }

        public static func == (a: Sample, b: Sample) -> Bool {
            a.value == b.value && a.labels.map(\.name) == b.labels.map(\.name) && a.labels.map(\.value) == b.labels.map(\.value)
        }
    }

    public private(set) var text = ""
    private var names: Set<String> = []

    public init() {}

    /// Adds one family. A family without samples is left out (nothing to say, e.g. no certificate yet).
    public mutating func add(_ name: String, _ type: MetricType, help: String, _ samples: [Sample]) {
        precondition(Self.isValidName(name), "metric name \(name)")
        precondition(!names.contains(name), "metric \(name) written twice")
        guard !samples.isEmpty else { return }
        names.insert(name)
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
        for sample in samples {
            text += name
            if !sample.labels.isEmpty {
                text += "{"
                for (i, label) in sample.labels.enumerated() {
                    precondition(Self.isValidLabelName(label.name), "label name \(label.name)")
                    if i > 0 { text += "," }
                    text += label.name + "=\"" + Self.escapeLabelValue(label.value) + "\""
                }
                text += "}"
            }
            text += " " + Self.format(sample.value) + "\n"
        }
    }

    /// One unlabelled sample.
    public mutating func add(_ name: String, _ type: MetricType, help: String, value: Double) {
        add(name, type, help: help, [Sample([], value)])
    }

    /// A family with one sample per case, 1 for the case that holds and 0 for the others
    /// ("one-hot"), so `berth_agent_state{state="rolled-back"} == 1` is an alert rule.
    public mutating func oneHot(_ name: String, help: String, label: String, cases: [String], current: String?, labels: [(name: String, value: String)] = []) {
        add(name, .gauge, help: help, cases.map { Sample(labels + [(label, $0)], $0 == current ? 1 : 0) })
    }

    // MARK: The format's rules

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetter(first) || first == UInt8(ascii: "_") || first == UInt8(ascii: ":") else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for Prometheus itself).
    public static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetter(first) || first == UInt8(ascii: "_"), !name.hasPrefix("__") else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// A label value: backslash, double quote and line feed escaped; everything else is UTF-8 as is.
    public static func escapeLabelValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x5c || $0 == 0x22 || $0 == 0x0a }) else { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// HELP text: backslash and line feed escaped (quotes are fine there).
    public static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Whole numbers without a fraction (`3`, `1767225600`), others in Swift's shortest
    /// round-tripping form, and the format's spellings of the special values.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) }
    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}
