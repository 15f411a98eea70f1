import BerthHost
import Foundation
import Logging
import Testing
import TestSupport

/// Lines a handler wrote, for looking at.
final class LineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []
    var lines: [String] { lock.withLock { collected } }
    func append(_ line: String) { lock.withLock { collected.append(line) } }
}

@Suite("journald log lines")
struct JournalLogHandlerTests {
    func logger(journal: Bool, level: Logger.Level = .debug) -> (Logger, LineSink) {
        let sink = LineSink()
        var logger = Logger(label: "test") { _ in JournalLogHandler(journal: journal) { sink.append($0) } }
        logger.logLevel = level
        logger[metadataKey: "host"] = "web-1"
        return (logger, sink)
    }

    @Test("each level carries syslog's priority in the journal", arguments: [
        (Logger.Level.critical, "<2>"), (.error, "<3>"), (.warning, "<4>"), (.notice, "<5>"), (.info, "<6>"), (.debug, "<7>"), (.trace, "<7>"),
    ])
    func priorities(_ level: Logger.Level, _ prefix: String) {
        var (logger, sink) = logger(journal: true)
        logger.logLevel = .trace
        logger.log(level: level, "rolled back", metadata: ["revision": "3f2a9c1e0b7d", "state": "rolled-back"])
        #expect(sink.lines == ["\(prefix)rolled back host=web-1 revision=3f2a9c1e0b7d state=rolled-back\n"])
    }

    @Test("without the journal: no priority prefix, a UTC timestamp and the level's name instead")
    func terminal() throws {
        let (logger, sink) = logger(journal: false)
        logger.warning("the source is stale", metadata: ["state": "in-sync"])
        let line = try #require(sink.lines.first)
        #expect(!line.hasPrefix("<"))
        #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ warning: the source is stale host=web-1 state=in-sync\n$"#, options: .regularExpression) != nil, "\(line)")
    }

    @Test("below the level nothing is written")
    func level() {
        let (logger, sink) = logger(journal: true, level: .info)
        logger.debug("plan: nothing to change")
        logger.info("in-sync")
        #expect(sink.lines == ["<6>in-sync host=web-1\n"])
    }

    @Test("one event is one line: newlines and control characters escaped, values with spaces or quotes quoted")
    func oneLine() {
        let (logger, sink) = logger(journal: true)
        logger.error("dockerd failed\n<3>forged line\u{1b}[2J", metadata: ["reason": "bind: address \"in use\"", "state": "rolled-back", "a": ""])
        #expect(sink.lines == [#"<3>dockerd failed\x0a<3>forged line\x1b[2J host=web-1 state=rolled-back a="" reason="bind: address \"in use\""\#n"#])
    }

    @Test("fields: host, revision, applied, state first, the others sorted")
    func fieldOrder() {
        let (logger, sink) = logger(journal: true)
        logger.notice("did restart", metadata: ["state": "repaired", "action": "restart", "revision": "abc", "applied": "def", "zone": "z"])
        #expect(sink.lines == ["<5>did restart host=web-1 revision=abc applied=def state=repaired action=restart zone=z\n"])
    }

    @Test("the journal is recognised only when JOURNAL_STREAM names the descriptor itself")
    func detection() throws {
        let dir = try TemporaryDirectory("berth-journal")
        let path = try dir.write("stream", "")
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        var st = stat()
        #expect(fstat(fd, &st) == 0)
        let matching = "\(st.st_dev):\(st.st_ino)"
        #expect(JournalStream.isJournal(fd: fd, environment: ["JOURNAL_STREAM": matching]))
        #expect(!JournalStream.isJournal(fd: fd, environment: [:]), "no JOURNAL_STREAM: not the journal")
        #expect(!JournalStream.isJournal(fd: fd, environment: ["JOURNAL_STREAM": "\(st.st_dev):\(st.st_ino + 1)"]), "inherited, but names another stream")
        #expect(!JournalStream.isJournal(fd: fd, environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(!JournalStream.isJournal(fd: 987, environment: ["JOURNAL_STREAM": matching]), "a closed descriptor")
    }
}
