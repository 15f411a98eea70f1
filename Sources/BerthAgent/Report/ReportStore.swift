import BerthCore
import BerthHost
import Foundation

/// Where reports are kept: the agent's own copy in `/var/lib/berth/last-report.json` (for
/// `berth-agent status` and the applied revision) and, when configured, `DIR/HOST.json`.
public struct ReportStore: Sendable {
    public var settings: AgentSettings

    public init(settings: AgentSettings) { self.settings = settings }

    public var localPath: String { settings.hostPath("\(HostLayout.stateDir)/last-report.json") }

    public func last() -> ReconcileReport? {
        guard let data = FileManager.default.contents(atPath: localPath) else { return nil }
        return try? ReconcileReport.decode(Array(data))
    }

    /// Writes the report everywhere it goes, each copy atomically. The local copy never fails silently;
    /// a shared directory that cannot be written is returned as an error for the caller to log.
    public func write(_ report: ReconcileReport) throws {
        let bytes = try report.encoded()
        try AtomicFile.write(bytes, to: localPath, mode: 0o600, directoryMode: 0o700)
        if let dir = settings.reportDir {
            try AtomicFile.write(bytes, to: "\(dir)/\(settings.host).json", mode: 0o644)
        }
    }
}
