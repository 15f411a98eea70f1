/// The state a pass leaves a host in; the word `berthctl status` shows.
public enum HostState: String, Sendable, Codable, CaseIterable {
    case inSync = "in-sync"
    case repaired
    case pendingRestart = "pending-restart"
    case awaitingCertificate = "awaiting-certificate"
    case rolledBack = "rolled-back"
    case failed
    case invalidState = "invalid-state"
    /// Controller-side only: no report for 3 × the interval.
    case stale
    /// Controller-side only: never reported.
    case unknown

    /// `berth-agent reconcile`'s exit code for this outcome (documented in the README).
    public var exitCode: Int32 {
        switch self {
        case .inSync, .repaired: return 0
        case .pendingRestart: return 3
        case .awaitingCertificate: return 4
        case .rolledBack: return 5
        case .failed, .stale, .unknown: return 6
        case .invalidState: return 7
        }
    }
}
