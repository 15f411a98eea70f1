import BerthCore
import BerthHost
import Foundation

/// Desired content that failed verification and was rolled back. While the rendered content is
/// the same (same hash), the planner holds it back (``HostPlan/held``): no write, no restart, so a
/// bad revision costs one restart and one rollback, not two restarts every pass. A new commit
/// that changes this host's content, or `berth-agent reconcile --retry`, lifts it.
enum Quarantine {
    static func store(root: String) -> StateFile<QuarantineInfo> {
        StateFile(path: HostLayout.path(HostLayout.quarantine, under: root))
    }
}
