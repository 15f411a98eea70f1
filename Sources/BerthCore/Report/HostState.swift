/// The state a pass leaves a host in; the word `berthctl status` shows.
public enum HostState: String, Sendable, Codable, CaseIterable {
    case inSync = "in-sync"
    case repaired
    case pendingRestart = "pending-restart"
    case awaitingCertificate = "awaiting-certificate"
    case rolledBack = "rolled-back"
    case failed
    case invalidState = "invalid-state"
    /// The desired state is not signed by an allowed signer: nothing was applied.
    case untrusted
    /// The host is `retired: true` in fleet.yaml: Berth's drop-in and TLS files are gone, dockerd
    /// was verified on its packaged configuration, and the agent only reports from now on.
    case retired
    /// Controller-side only: no report within the stale limit.
    case stale
    /// Controller-side only: never reported.
    case unknown
    /// Controller-side only: the report's signature does not verify against the host's certificate.
    case unverified

    /// `berth-agent reconcile`'s exit code for this outcome (the README's table).
    public var exitCode: Int32 {
        switch self {
        case .inSync, .repaired, .retired: return 0
        case .pendingRestart: return 3
        case .awaitingCertificate: return 4
        case .rolledBack: return 5
        case .failed, .stale, .unknown, .unverified: return 6
        case .invalidState: return 7
        case .untrusted: return 8
        }
    }
}
