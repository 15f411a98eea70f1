import BerthCore
import BerthHost
import Foundation
import Logging

/// The agent's Prometheus metrics, in the textfile format node_exporter's textfile collector
/// reads: written after every pass that wrote its report (`reconcile`, and each pass of `run`),
/// atomically and 0644, so the collector never reads half a file.
///
/// The names are documented in docs/operations.md. The values come from the pass's report and
/// from the counters kept on disk (``MetricsLedger``), never from anything the pass did not say.
public struct MetricsWriter: Sendable {
    public var settings: AgentSettings
    public var logger: Logger

    public init(settings: AgentSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Counts the pass in and writes the metrics file. Metrics must never fail a pass: a file that
    /// cannot be written is logged as an error.
    public func record(_ report: ReconcileReport, duration: Duration) {
        guard let path = settings.metricsPath else { return }
        let store = MetricsLedger.store(root: settings.root)
        var ledger = store.read() ?? MetricsLedger()
        ledger.count(report)
        do {
            try store.write(ledger)
        } catch {
            logger.error("could not keep the metrics' counters: \(error)", metadata: ["file": "\(store.path)"])
        }
        do {
            try AtomicFile.write(AgentMetrics.render(report, ledger: ledger, duration: duration), to: path, mode: 0o644)
            logger.debug("metrics written", metadata: ["file": "\(path)"])
        } catch {
            logger.error("could not write the metrics: \(error)", metadata: ["file": "\(path)"])
        }
    }
}

/// The families `berth-agent` exposes (pure: a report, the counters and a duration in, text out).
public enum AgentMetrics {
    /// The states a pass can leave; the controller-only ones (`stale`, `unknown`, `unverified`)
    /// are not the agent's to say.
    public static let states: [HostState] = HostState.allCases.filter { ![.stale, .unknown, .unverified].contains($0) }

    public static func render(_ report: ReconcileReport, ledger: MetricsLedger, duration: Duration) -> String {
        var m = MetricsExposition()
        m.add("berth_agent_pass_duration_seconds", .gauge, help: "How long the last pass took, from taking the lock to writing its report.",
              value: (duration.seconds * 1000).rounded() / 1000)
        m.add("berth_agent_last_pass_timestamp_seconds", .gauge, help: "When the last pass ran (its report's time).",
              value: report.time.timeIntervalSince1970.rounded(.down))
        if let success = ledger.lastSuccess {
            m.add("berth_agent_last_success_timestamp_seconds", .gauge, help: "When a pass last ended well (reconcile exit 0: in-sync, repaired or retired).",
                  value: success.timeIntervalSince1970.rounded(.down))
        }
        m.oneHot("berth_agent_state", help: "The state the last pass left the host in: 1 for that state, 0 for the others.",
                 label: "state", cases: states.map(\.rawValue), current: report.state.rawValue)
        let drift = Dictionary(grouping: report.drift, by: \.kind).mapValues(\.count)
        m.add("berth_agent_drift_items", .gauge, help: "Drift items the last pass found, by kind.",
              DriftItem.Kind.allCases.map { .init([("kind", $0.rawValue)], Double(drift[$0] ?? 0)) })
        m.add("berth_agent_restarts_total", .counter, help: "Restarts of docker.service made by the agent, those of rollbacks included.",
              value: Double(ledger.restarts))
        m.add("berth_agent_rollbacks_total", .counter, help: "Rollbacks to the last set of files that passed verification.",
              value: Double(ledger.rollbacks))
        m.add("berth_agent_passes_total", .counter, help: "Passes, by the state each left.",
              states.map { .init([("state", $0.rawValue)], Double(ledger.passes[$0.rawValue] ?? 0)) })
        if let certificate = report.serverCertificate {
            m.add("berth_agent_certificate_not_after_timestamp_seconds", .gauge, help: "When dockerd's server certificate expires (notAfter).",
                  value: certificate.notAfter.timeIntervalSince1970)
        }
        m.add("berth_agent_certificate_request_pending", .gauge, help: "1 while a CSR waits for `berthctl sign`.",
              value: report.pendingCSR == nil ? 0 : 1)
        if let applied = report.appliedRevision {
            m.add("berth_agent_applied_revision_info", .gauge, help: "The fleet revision the host's files come from (value always 1).",
                  [.init([("revision", applied), ("fleet", report.fleet ?? "")], 1)])
        }
        m.add("berth_agent_source_stale", .gauge, help: "1 when the last pass could not bring its source up to date and used the last good checkout.",
              value: report.source.stale ? 1 : 0)
        if let fresh = ledger.lastFreshSource {
            m.add("berth_agent_source_last_fresh_timestamp_seconds", .gauge, help: "When a pass last had its source up to date.",
                  value: fresh.timeIntervalSince1970.rounded(.down))
        }
        m.add("berth_agent_quarantined", .gauge, help: "1 while desired content that failed verification is held back.",
              value: report.quarantine == nil ? 0 : 1)
        m.add("berth_agent_info", .gauge, help: "The agent: its version and the host name it reports as (value always 1).",
              [.init([("version", report.agentVersion), ("host", report.host)], 1)])
        return m.text
    }
}
