import BerthCore
import Foundation

/// The fleet view of `berthctl status`: every declared host with its last report, judged by
/// the controller: against the repository's current revision, the controller's own clock and
/// stale limit (never the interval a report claims), and the report's signature.
public struct FleetStatus: Sendable, Codable {
    public struct Row: Sendable, Codable {
        public var host: String
        public var state: HostState
        public var appliedRevision: String?
        public var desiredRevision: String?
        public var driftSummary: String
        public var certificateExpires: Date?
        public var lastSeen: Date?
        public var message: String
        /// Whether the report is believed to be the host's own.
        public var trust: ReportTrust
        /// Whether the host applied a signed commit (`verified`) or runs without signature checks (`unsigned`).
        public var commitTrust: CommitTrust?
        /// The revision whose content the host holds back after a rollback.
        public var quarantinedRevision: String?
    }

    public var revision: String
    public var rows: [Row]

    /// Every host in sync with the current revision: `berthctl status` exits 0 only then. A host
    /// whose last pass was `repaired` counts: it found drift, fixed it and verified dockerd, so it
    /// matches the revision now. A report that does not verify never counts.
    public var allInSync: Bool {
        rows.allSatisfy(isInSync)
    }

    /// Whether one host counts as in sync with the current revision (see ``allInSync``).
    public func isInSync(_ row: Row) -> Bool {
        // A retired host that says so is what fleet.yaml asks of it.
        (row.state == .inSync || row.state == .repaired || row.state == .retired) && row.appliedRevision == revision && row.trust == .verified
    }

    /// The default stale limit: three of the default 5-minute timer's intervals.
    public static let defaultStaleAfter: TimeInterval = 900

    /// Joins declared hosts with checked reports: no report is `unknown`; one that does not verify
    /// is `unverified`; one older than `staleAfter` is `stale`, whatever interval it claims.
    public static func compute(hosts: [String], reports: [String: CheckedReport], revision: String, now: Date,
                               staleAfter: TimeInterval = defaultStaleAfter) -> FleetStatus {
        let rows = hosts.map { name -> Row in
            guard let checked = reports[name] else {
                return Row(host: name, state: .unknown, appliedRevision: nil, desiredRevision: nil, driftSummary: "-",
                           certificateExpires: nil, lastSeen: nil, message: "no report from this host yet", trust: .unverified("no report"))
            }
            guard let report = checked.report else {
                return Row(host: name, state: .unverified, appliedRevision: nil, desiredRevision: nil, driftSummary: "-",
                           certificateExpires: nil, lastSeen: nil, message: checked.fetched.problem ?? "unreadable report", trust: checked.trust)
            }
            var state = report.state
            var message = report.message
            if case .unverified(let reason) = checked.trust {
                state = .unverified
                message = "the report is not signed by \(name)'s key: \(reason); it is not believed (it said: \(report.state.rawValue))"
            } else {
                let age = now.timeIntervalSince(report.time)
                if age > staleAfter {
                    state = .stale
                    message = "last report \(Int(age))s ago (stale after \(Int(staleAfter))s): was \(report.state.rawValue)"
                }
            }
            return Row(host: name, state: state, appliedRevision: report.appliedRevision, desiredRevision: report.desiredRevision,
                       driftSummary: driftSummary(report.drift), certificateExpires: report.serverCertificate?.notAfter,
                       lastSeen: report.time, message: message, trust: checked.trust, commitTrust: report.source.trust,
                       quarantinedRevision: report.quarantine?.revision)
        }
        return FleetStatus(revision: revision, rows: rows)
    }

    /// `file-content×2,daemon-down×1`: the drift's kinds with their counts, by kind; `-` for none
    /// (most hosts, so that case allocates nothing).
    static func driftSummary(_ drift: [DriftItem]) -> String {
        if drift.isEmpty { return "-" }
        return Dictionary(grouping: drift, by: \.kind).map { "\($0.key.rawValue)×\($0.value.count)" }.sorted().joined(separator: ",")
    }
}
