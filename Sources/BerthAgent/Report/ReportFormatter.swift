import BerthCore
import Foundation

/// Renders reports for people: the one-line summary, the full detail, and a plan. Shared by
/// `berth-agent` and `berthctl status HOST` so a host reads the same everywhere.
public enum ReportFormatter {
    static func short(_ revision: String?) -> String {
        guard let revision else { return "-" }
        return revision.count > 12 && !revision.contains("+") ? String(revision.prefix(12)) : revision
    }

    public static func summary(_ report: ReconcileReport) -> String {
        var lines = ["\(report.host): \(report.state.rawValue) at \(short(report.desiredRevision)): \(report.message)"]
        for action in report.actions {
            lines.append("  \(action.ok ? "did" : "FAILED") \(action.kind) \(action.object): \(action.reason)")
        }
        if let csr = report.pendingCSR {
            lines.append("  pending CSR sha256 \(csr.sha256) for \(csr.sans.joined(separator: ", ")) (\(csr.reason)); sign with `berthctl sign \(report.host)`")
        }
        if let error = report.error, report.state != .inSync { lines.append("  error: \(error)") }
        return lines.joined(separator: "\n")
    }

    public static func detail(_ report: ReconcileReport) -> String {
        var lines = [
            "host:      \(report.host) (fleet \(report.fleet ?? "?"), agent \(report.agentVersion))",
            "state:     \(report.state.rawValue): \(report.message)",
            "revision:  desired \(short(report.desiredRevision)), applied \(short(report.appliedRevision))" + (report.source.stale ? " (source STALE: \(report.source.error ?? ""))" : ""),
            "time:      \(UTCTime.format(report.time)); next pass \(report.nextPassAt.map { UTCTime.format($0) } ?? "-")",
        ]
        if let cert = report.serverCertificate {
            lines.append("cert:      \(cert.subject), SANs \(cert.sans.joined(separator: ", ")), expires \(UTCTime.format(cert.notAfter)), sha256 \(cert.sha256)")
        }
        if let csr = report.pendingCSR {
            lines.append("csr:       sha256 \(csr.sha256) for \(csr.sans.joined(separator: ", ")): \(csr.reason)")
        }
        if let daemon = report.daemon {
            lines.append("dockerd:   \(daemon.active ? "active" : "not active") pid \(daemon.pid), \(daemon.version ?? "?"), \(daemon.containersRunning.map(String.init) ?? "?") running, live-restore \(daemon.liveRestore.map { $0 ? "on" : "off" } ?? "?")")
            for listener in daemon.listeners {
                lines.append("  \(listener.url): \(listener.probe)\(listener.detail.map { " (\($0))" } ?? "")")
            }
        }
        for warning in report.warnings ?? [] { lines.append("warning:   \(warning)") }
        if !report.drift.isEmpty {
            lines.append("drift:")
            for item in report.drift {
                lines.append("  \(item.kind.rawValue) \(item.object): \(item.reason)")
                if let diff = item.diff, !diff.isEmpty {
                    lines += diff.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
                }
            }
        }
        if !report.actions.isEmpty {
            lines.append("actions:")
            for action in report.actions { lines.append("  \(action.ok ? "" : "FAILED ")\(action.kind) \(action.object): \(action.reason)") }
        }
        if let journal = report.journal, !journal.isEmpty {
            lines.append("journalctl -u docker (last lines):")
            lines += journal.map { "  \($0)" }
        }
        if let error = report.error { lines.append("error:     \(error)") }
        return lines.joined(separator: "\n")
    }

    public static func plan(_ report: ReconcileReport, plan: HostPlan?) -> String {
        guard let plan else { return summary(report) }
        var lines: [String] = []
        if plan.isNoOp && report.pendingCSR == nil {
            lines.append("\(report.host): nothing to do; the host matches \(short(report.desiredRevision))")
        }
        for blocker in plan.blockers { lines.append("REFUSED: \(blocker)") }
        for item in plan.drift {
            lines.append("drift: \(item.kind.rawValue) \(item.object): \(item.reason)")
            if let diff = item.diff, !diff.isEmpty { lines.append(diff.hasSuffix("\n") ? String(diff.dropLast()) : diff) }
        }
        for action in plan.actions { lines.append("would \(action.summary)") }
        if case .deferred(let because, let policy) = plan.restart {
            lines.append("would NOT restart docker now (\(because)): \(policy)")
        }
        if let csr = report.pendingCSR {
            lines.append("certificate: \(csr.reason); CSR sha256 \(csr.sha256)")
        }
        for action in report.actions { lines.append("would \(action.kind) \(action.object): \(action.reason)") }
        return lines.joined(separator: "\n")
    }
}
