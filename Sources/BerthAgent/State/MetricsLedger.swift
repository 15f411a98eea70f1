import BerthCore
import BerthHost
import Foundation

/// What the agent's metrics remember from one pass to the next, and across restarts of the
/// agent and of the host: `/var/lib/berth/metrics.json` (0600, written atomically).
///
/// A counter of restarts that started again at zero with every `berth-agent reconcile` (a new
/// process every five minutes under the timer) would count nothing. A damaged or missing file
/// starts the counters at zero again, which Prometheus's `rate()` and `increase()` read as a
/// counter reset.
public struct MetricsLedger: Sendable, Codable, Equatable {
    /// `systemctl restart docker` the agent ran, rollbacks' restarts included.
    public var restarts = 0
    /// Rollbacks to the last-known-good set (or to the packaged configuration).
    public var rollbacks = 0
    /// Passes by the state they left.
    public var passes: [String: Int] = [:]
    /// The last pass that ended well (`reconcile` exit 0: in-sync, repaired, retired).
    public var lastSuccess: Date?
    /// The last pass whose source was current (fetched, or a checkout that needs no fetch).
    public var lastFreshSource: Date?

    public init() {}

    public static let path = "\(HostLayout.stateDir)/metrics.json"

    /// Counts one pass's report in.
    public mutating func count(_ report: ReconcileReport) {
        restarts += report.actions.filter { $0.kind == .restart }.count
        rollbacks += report.actions.filter { $0.kind == .rollback }.count
        passes[report.state.rawValue, default: 0] += 1
        if report.state.exitCode == 0 { lastSuccess = report.time }
        if report.source.kind != .none && !report.source.stale { lastFreshSource = report.time }
    }

    static func store(root: String) -> StateFile<MetricsLedger> {
        StateFile(path: HostLayout.path(path, under: root))
    }
}
