import BerthCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The agent's log handler: one line per event on standard error, with its fields as
/// `key=value` after the message (`host=web-1 revision=3f2a9c1e0b7d state=rolled-back`).
///
/// Under systemd, when standard error is the journal (``JournalStream``), each line starts with
/// its syslog priority, `<3>` for an error down to `<7>` for debug, which journald strips and
/// keeps as the entry's priority: `journalctl -p warning -u berth-agent` then shows warnings
/// and worse. Elsewhere a line starts with a UTC timestamp and the level, for a person or a file.
/// No libsystemd: the prefix is journald's documented protocol for a stream (`SyslogLevelPrefix=`,
/// on by default), and the agent stays one static binary.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    /// Whether lines carry the priority prefix (standard error is the journal).
    public let journal: Bool
    let write: @Sendable (String) -> Void

    /// A handler writing to standard error, prefixed when standard error is the journal.
    public init(journal: Bool = JournalStream.standardErrorIsJournal) {
        self.init(journal: journal) { line in JournalLogHandler.writeStandardError(line) }
    }

    /// A handler writing its lines to `write` (tests).
    public init(journal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.journal = journal
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        write(Self.line(level: event.level, message: event.message.description, fields: fields, journal: journal, now: Date()))
    }

    // MARK: The line

    /// syslog's priorities (RFC 5424), as journald stores them.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }

    /// Fields a person greps for come first, in this order; the others follow sorted.
    static let leadingFields = ["host", "revision", "applied", "state"]

    /// One line, ending in a newline: control characters in the message and the values are
    /// escaped (``TerminalText``), so an event is never split and never rewrites a terminal.
    public static func line(level: Logger.Level, message: String, fields: Logger.Metadata, journal: Bool, now: Date) -> String {
        var line = journal ? "<\(priority(level))>" : "\(UTCTime.format(now)) \(level.rawValue): "
        line += TerminalText.line(message)
        let keys = leadingFields.filter { fields[$0] != nil } + fields.keys.filter { !leadingFields.contains($0) }.sorted()
        for key in keys {
            line += " \(key)=\(quoted(TerminalText.line(fields[key]!.description)))"
        }
        return line + "\n"
    }

    /// A value as is when it is one word; otherwise in double quotes with `"` and `\` escaped.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" }
        if plain { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// One `write(2)` per line, so lines of concurrent tasks never interleave.
    static func writeStandardError(_ line: String) {
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Whether a descriptor is connected to the journal.
///
/// systemd sets `JOURNAL_STREAM=DEVICE:INODE` for a service whose standard output or error is
/// the journal. A child that inherits the variable but not the descriptor (a shell started from
/// a service, output redirected to a file) must not prefix its lines, so the variable counts only
/// when it names the descriptor itself (systemd.exec(5), "JOURNAL_STREAM").
public enum JournalStream {
    public static let standardErrorIsJournal = isJournal(fd: 2)

    public static func isJournal(fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        return UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }
}
