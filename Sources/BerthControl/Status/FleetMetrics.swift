import BerthCore
import Foundation

/// `berthctl status --format prometheus`: the fleet as the controller judges it (``FleetStatus``:
/// stale, unknown and unverified included), in Prometheus's text format, for node_exporter's
/// textfile collector on the machine that runs it or for a Pushgateway.
///
/// Each host's own agent writes `berth_agent_*` on its host; these `berth_fleet_*` and
/// `berth_host_*` families are what one controller sees of all of them, so an alert can say
/// "web-3 has not reported for 15 minutes", which no host can say about itself. Host names come
/// from fleet.yaml and revisions from reports; every label value is escaped.
public enum FleetMetrics {
    public static func render(_ status: FleetStatus, now: Date) -> String {
        var m = MetricsExposition()
        let states = HostState.allCases.map(\.rawValue)
        m.add("berth_fleet_status_timestamp_seconds", .gauge, help: "When berthctl status read the reports.",
              value: now.timeIntervalSince1970.rounded(.down))
        m.add("berth_fleet_revision_info", .gauge, help: "The fleet repository's current revision, the one hosts are judged against (value always 1).",
              [.init([("revision", status.revision)], 1)])
        m.add("berth_fleet_hosts", .gauge, help: "Hosts declared in fleet.yaml (and shown).", value: Double(status.rows.count))
        m.add("berth_fleet_hosts_in_sync", .gauge,
              help: "Hosts in-sync or repaired at the current revision, with a verified report that is not stale: what `berthctl status` exits 0 on.",
              value: Double(status.rows.filter(status.isInSync).count))
        var byState: [HostState: Int] = [:]
        for row in status.rows { byState[row.state, default: 0] += 1 }
        m.add("berth_fleet_hosts_by_state", .gauge, help: "Hosts by state as the controller judges them (stale, unknown and unverified included).",
              HostState.allCases.map { .init([("state", $0.rawValue)], Double(byState[$0] ?? 0)) })

        var oneHot: [MetricsExposition.Sample] = []
        oneHot.reserveCapacity(status.rows.count * states.count)
        for row in status.rows {
            for state in states { oneHot.append(.init([("host", row.host), ("state", state)], state == row.state.rawValue ? 1 : 0)) }
        }
        m.add("berth_host_state", .gauge, help: "Each host's state as the controller judges it: 1 for that state, 0 for the others.", oneHot)
        m.add("berth_host_in_sync", .gauge, help: "1 when the host counts as in sync (see berth_fleet_hosts_in_sync).",
              status.rows.map { .init([("host", $0.host)], status.isInSync($0) ? 1 : 0) })
        m.add("berth_host_stale", .gauge, help: "1 when the host's last report is older than --stale-after.",
              status.rows.map { .init([("host", $0.host)], $0.state == .stale ? 1 : 0) })
        m.add("berth_host_report_verified", .gauge, help: "1 when the host's report is signed by the key of its certificate in the fleet repository; 0 when unverified or missing.",
              status.rows.map { .init([("host", $0.host)], $0.trust == .verified ? 1 : 0) })
        m.add("berth_host_certificate_not_after_timestamp_seconds", .gauge, help: "When the host's server certificate expires (notAfter), as its last report says.",
              status.rows.compactMap { row in row.certificateExpires.map { .init([("host", row.host)], $0.timeIntervalSince1970) } })
        m.add("berth_host_last_seen_timestamp_seconds", .gauge, help: "The time of the host's last report.",
              status.rows.compactMap { row in row.lastSeen.map { .init([("host", row.host)], $0.timeIntervalSince1970.rounded(.down)) } })
        m.add("berth_host_applied_revision_info", .gauge, help: "The revision each host's files come from, as its last report says (value always 1).",
              status.rows.compactMap { row in row.appliedRevision.map { .init([("host", row.host), ("revision", $0)], 1) } })
        return m.text
    }
}
