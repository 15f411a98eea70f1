import BerthCore
import Foundation

/// Where command output goes: data on stdout, warnings and errors on stderr.
public enum Output {
    public static func print(_ text: String) {
        if let capture { return capture.append(text + "\n") }
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    public static func error(_ text: String) {
        if let capture { return capture.append(text + "\n") }
        FileHandle.standardError.write(Data((journalPrefixed(text) + "\n").utf8))
    }

    /// While bound (`Output.$capture.withValue(…)`), what ``print(_:)`` and ``error(_:)`` would
    /// write is collected here instead, in order: `berthctl status --watch` draws each screen
    /// whole, from what one plain `status` would have printed.
    @TaskLocal public static var capture: Capture?

    /// The text collected while ``capture`` was bound.
    public final class Capture: @unchecked Sendable {
        private let lock = NSLock()
        private var buffer = ""

        public init() {}

        public func append(_ text: String) {
            lock.lock()
            buffer += text
            lock.unlock()
        }

        public var text: String {
            lock.lock()
            defer { lock.unlock() }
            return buffer
        }
    }

    public static func warnings(_ diagnostics: [Diagnostic]) {
        for d in diagnostics where d.severity == .warning { error(d.description) }
    }

    public static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .berthUTC
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Left-aligned columns for human tables.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
