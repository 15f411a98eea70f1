import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Logging

/// A report as it leaves the host: the exact JSON bytes and their signature.
public struct PublishedReport: Sendable {
    public var json: [UInt8]
    /// `HOST.json.sig`; nil while the host has no key yet.
    public var signature: String?
    /// The pass is a history entry of its own (``ReportHistory/isEvent(_:)``); a repeat replaces
    /// the previous repeat at the head of the status ref's chain instead of adding to it.
    public var event = true
    /// The report's time: the date of its commit on the status ref.
    public var time: Date?
}

/// Where reports are kept: the agent's own copy in `/var/lib/berth/last-report.json` (for
/// `berth-agent status` and the applied revision) and, when configured, `DIR/HOST.json` with
/// `DIR/HOST.json.sig` beside it.
///
/// Before a report is written anywhere its encoded bytes are scanned for private-key material
/// (``ReportGuard``). A report that holds some is replaced by one that says it was withheld, so
/// a key pasted into a managed file can never reach a shared directory or a Git server.
public struct ReportStore: Sendable {
    public var settings: AgentSettings

    public init(settings: AgentSettings) { self.settings = settings }

    public var localPath: String { settings.hostPath(HostLayout.lastReport) }

    public func last() -> ReconcileReport? {
        guard let bytes = try? BoundedFile.read(localPath, limit: BoundedFile.documentLimit) else { return nil }
        return try? ReconcileReport.decode(bytes)
    }

    /// The last report as published (bytes and signature), for `berth-agent publish`.
    public func lastPublished() -> PublishedReport? {
        guard let json = try? BoundedFile.read(localPath, limit: BoundedFile.documentLimit) else { return nil }
        let signature = (try? BoundedFile.readText(localPath + ".sig", limit: 64 << 10)) ?? nil
        return PublishedReport(json: json, signature: signature)
    }

    /// Encodes, checks and signs the report with the host key, then writes it everywhere it goes,
    /// each file atomically (the signature first). A shared directory that cannot be written is
    /// an error for the caller to log; the local copy never fails silently.
    @discardableResult
    public func write(_ report: inout ReconcileReport, logger: Logger? = nil) throws -> PublishedReport {
        var bytes = try report.encoded()
        do {
            try ReportGuard.check(bytes, what: "the report")
        } catch {
            report = Self.withheld(report, because: "\(error)")
            bytes = try report.encoded()
            try ReportGuard.check(bytes, what: "the withheld-report notice")
        }
        let key = (try? BoundedFile.readText(settings.hostPath(HostLayout.hostKey), limit: BoundedFile.pemLimit)) ?? nil
        let signature = try key.map { try ReportSignature.sign(bytes, privateKeyPEM: $0).text }
        try put(bytes, signature: signature, at: localPath, mode: 0o600, directoryMode: 0o700)
        let history = ReportHistory(settings: settings)
        let event = history.isEvent(report)
        if let dir = settings.reportDir {
            try put(bytes, signature: signature, at: "\(dir)/\(settings.host).json", mode: 0o644, directoryMode: 0o755)
            if event {
                // History is a record beside the report: failing to keep it must not lose the report.
                do { try history.record(bytes, signature: signature, time: report.time, in: dir) } catch {
                    logger?.error("could not add the report to \(history.directory(in: dir)): \(error)")
                }
            }
        }
        return PublishedReport(json: bytes, signature: signature, event: event, time: report.time)
    }

    func put(_ bytes: [UInt8], signature: String?, at path: String, mode: UInt16, directoryMode: UInt16) throws {
        if let signature {
            try AtomicFile.write(signature, to: path + ".sig", mode: mode, directoryMode: directoryMode)
        } else {
            try AtomicFile.remove(path + ".sig")
        }
        try AtomicFile.write(bytes, to: path, mode: mode, directoryMode: directoryMode)
    }

    /// What is published instead of a report that held key material: the host, the time and the
    /// state, nothing taken from files.
    static func withheld(_ report: ReconcileReport, because reason: String) -> ReconcileReport {
        var notice = ReconcileReport(host: report.host, agentVersion: report.agentVersion, time: report.time, state: .failed,
                                     message: "this pass's report was withheld: \(reason). A managed file on the host holds private-key material; check the drift with `berth-agent plan` on the host",
                                     source: report.source, intervalSeconds: report.intervalSeconds)
        notice.fleet = report.fleet
        notice.desiredRevision = report.desiredRevision
        notice.appliedRevision = report.appliedRevision
        notice.nextPassAt = report.nextPassAt
        notice.error = reason
        return notice
    }
}
