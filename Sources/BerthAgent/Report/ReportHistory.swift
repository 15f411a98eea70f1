import BerthCore
import BerthHost
import Foundation

/// A host's past reports in a shared report directory: `DIR/history/HOST/SEQ-TIME.json` and its
/// `.sig`, exactly the bytes and signature `DIR/HOST.json` had, the newest `reportHistory` kept.
///
/// Not every pass is an entry. A pass that did nothing and whose ``ReconcileReport/historyKey``
/// equals the last report's only refreshes `HOST.json`: history holds what changed (state,
/// revisions, drift, certificate, trust) and every pass that acted, so fifty entries reach back
/// over fifty changes rather than over four hours of five-minute timer ticks. The current report
/// is always `HOST.json`; readers add it after the entries.
public struct ReportHistory: Sendable {
    public var settings: AgentSettings

    public init(settings: AgentSettings) { self.settings = settings }

    /// The key of the last report, kept on the host (`/var/lib/berth/report-history.json`).
    struct State: Codable, Equatable {
        var key: String
    }

    var stateStore: StateFile<State> { StateFile(path: settings.hostPath(HostLayout.reportHistoryState)) }

    /// Whether `report` is a history entry of its own, remembering its key for the next pass
    /// (written only when it changed: a quiet pass costs no write).
    public func isEvent(_ report: ReconcileReport) -> Bool {
        let previous = stateStore.read()?.key
        let key = report.historyKey
        if key != previous { try? stateStore.write(State(key: key)) }
        return !report.actions.isEmpty || key != previous
    }

    /// `DIR/history/HOST`.
    public func directory(in reportDir: String) -> String {
        "\(reportDir)/\(ReportHistoryLayout.hostDirectory(settings.host))"
    }

    /// Adds one entry (signature first, as for `HOST.json`) numbered after the newest, then
    /// removes all but the newest `reportHistory` (each report before its signature, so a reader
    /// never finds a report whose signature is gone without the report going too).
    public func record(_ bytes: [UInt8], signature: String?, time: Date, in reportDir: String) throws {
        let dir = directory(in: reportDir)
        var entries = Self.entries(in: dir)
        if settings.reportHistory > 0 {
            let name = ReportHistoryLayout.entryName(sequence: (entries.last?.sequence ?? 0) + 1, time: time)
            let path = "\(dir)/\(name)"
            if let signature {
                try AtomicFile.write(signature, to: path + ".sig", mode: 0o644, directoryMode: 0o755)
            }
            try AtomicFile.write(bytes, to: path, mode: 0o644, directoryMode: 0o755)
            entries.append((sequence: (entries.last?.sequence ?? 0) + 1, name: name))
        }
        try prune(dir, entries: entries)
    }

    /// Keeps the newest `reportHistory` entries; removes the rest and any signature left without its report.
    func prune(_ dir: String, entries: [(sequence: Int, name: String)]) throws {
        let keep = Set(entries.suffix(settings.reportHistory).map(\.name))
        for entry in entries where !keep.contains(entry.name) {
            try AtomicFile.remove("\(dir)/\(entry.name)")
            try AtomicFile.remove("\(dir)/\(entry.name).sig")
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".json.sig") {
            let report = String(name.dropLast(4))
            if ReportHistoryLayout.parse(report) != nil && !keep.contains(report) { try AtomicFile.remove("\(dir)/\(name)") }
        }
    }

    /// The entries of `dir` by sequence number (reports only; their `.sig` go with them).
    static func entries(in dir: String) -> [(sequence: Int, name: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { name in ReportHistoryLayout.parse(name).map { (sequence: $0.sequence, name: name) } }
            .sorted { $0.sequence < $1.sequence }
    }
}
