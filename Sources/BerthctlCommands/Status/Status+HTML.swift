import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl status --html FILE`: the fleet page (``StatusPage``), written atomically.
extension Status {
    func writePage(to path: String, status: FleetStatus, reports: [String: CheckedReport], spec: FleetSpec,
                   now: Date, notes: [String]) throws {
        var renewBefore: [String: TimeInterval] = [:]
        renewBefore.reserveCapacity(spec.hosts.count)
        for entry in spec.hosts { renewBefore[entry.name] = TimeInterval(spec.resolve(entry).renewBefore.seconds) }
        let page = StatusPage.render(status, reports: reports.compactMapValues(\.report),
                                     context: StatusPage.Context(fleet: spec.fleet, generated: now, staleAfter: staleLimit,
                                                                 renewBefore: renewBefore, notes: notes))
        // AtomicFile checks each component of an absolute path for links.
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        try AtomicFile.write(page, to: absolute, mode: 0o644)
        let inSync = status.rows.filter(status.isInSync).count
        let size = Double(page.utf8.count)
        let shown = size >= 1_048_576 ? String(format: "%.1f MB", size / 1_048_576) : String(format: "%.0f KB", size / 1024)
        Output.print("\(watch ? UTCTime.format(now) + " " : "")wrote \(TerminalText.line(path)): \(status.rows.count) hosts, \(inSync) in sync at \(ReportFormatter.short(status.revision)) (\(shown))")
    }
}
