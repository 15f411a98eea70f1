import Foundation

/// Where a host's past reports are kept in a shared report directory: `DIR/history/HOST/`, one
/// `SEQ-TIME.json` with its `SEQ-TIME.json.sig` per entry, the newest `reportHistory` of them.
///
/// The sequence number comes first, so names sort in the order the agent wrote them whatever the
/// wall clock did; the time beside it lets a reader skip old entries without opening them. Neither
/// is believed: a reader orders and dates entries by what the signed report says.
public enum ReportHistoryLayout {
    public static let directory = "history"

    /// `history/HOST`, relative to the report directory.
    public static func hostDirectory(_ host: String) -> String { "\(directory)/\(host)" }

    /// One entry's name: `0000000042-20260301T120000Z.json`.
    public static func entryName(sequence: Int, time: Date) -> String {
        let f = UTCTime.fields(of: time)
        func pad(_ n: Int, _ width: Int = 2) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(sequence, 10))-\(pad(f.year, 4))\(pad(f.month))\(pad(f.day))T\(pad(f.hour))\(pad(f.minute))\(pad(f.second))Z.json"
    }

    /// The sequence number and time an entry's name says; nil for any other name (the `.sig`
    /// beside it, a temporary file, something that is not Berth's).
    public static func parse(_ name: String) -> (sequence: Int, time: Date)? {
        let b = Array(name.utf8)
        guard b.count == 32, name.hasSuffix("Z.json"), b[10] == UInt8(ascii: "-"), b[19] == UInt8(ascii: "T"),
              (0..<10).allSatisfy({ b[$0] >= 0x30 && b[$0] <= 0x39 }),
              (11..<26).allSatisfy({ $0 == 19 || (b[$0] >= 0x30 && b[$0] <= 0x39) })
        else { return nil }
        func text(_ range: Range<Int>) -> String { String(decoding: b[range], as: UTF8.self) }
        guard let sequence = Int(text(0..<10)),
              let time = UTCTime.parse("\(text(11..<15))-\(text(15..<17))-\(text(17..<19))T\(text(20..<22)):\(text(22..<24)):\(text(24..<26))Z")
        else { return nil }
        return (sequence, time)
    }
}

extension ReconcileReport {
    /// What a history entry stands for: the state, the revisions, which drift was found (kind and
    /// object, not the changing wording), the source's trust and staleness, the quarantine, the
    /// certificate in service and the pending CSR. A pass whose key equals the last one's and that
    /// did nothing is a repeat: it refreshes the current report but adds no history entry, so the
    /// last N entries reach back over N changes rather than N five-minute timer ticks.
    public var historyKey: String {
        var parts = [state.rawValue, desiredRevision ?? "-", appliedRevision ?? "-",
                     source.stale ? "stale" : "fresh", source.trust?.rawValue ?? "-",
                     quarantine?.revision ?? "-", serverCertificate?.sha256 ?? "-", pendingCSR?.sha256 ?? "-"]
        parts += drift.map { "\($0.kind.rawValue) \($0.object)" }.sorted()
        return ContentID.sha256Hex(Array(parts.joined(separator: "\n").utf8))
    }

    /// Whether this report is a history entry of its own after a report whose key was `previousKey`:
    /// it changed something, or its key differs.
    public func isHistoryEvent(after previousKey: String?) -> Bool {
        !actions.isEmpty || historyKey != previousKey
    }
}
