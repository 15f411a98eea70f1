/// Renders reports for people: the one-line summary, the full detail, and a plan. Shared by
/// `berth-agent` and `berthctl status HOST`, so a host reads the same everywhere. Everything a
/// report says came from a host, so every field is passed through ``TerminalText``.
public enum ReportFormatter {
    /// A commit as tables show it: 12 hex digits (a `+dirty` revision whole).
    public static func short(_ revision: String?) -> String {
        guard let revision else { return "-" }
        return TerminalText.line(revision.count > 12 && !revision.contains("+") ? String(revision.prefix(12)) : revision)
    }

    public static func summary(_ report: ReconcileReport) -> String {
        let e = TerminalText.line
        var lines = ["\(e(report.host)): \(report.state.rawValue) at \(short(report.desiredRevision)): \(e(report.message))"]
        for action in report.actions {
            lines.append("  \(action.ok ? "did" : "FAILED") \(action.kind.rawValue) \(e(action.object)): \(e(action.reason))")
        }
        if let csr = report.pendingCSR {
            lines.append("  pending CSR sha256 \(e(csr.sha256)) for \(e(csr.sans.joined(separator: ", "))) (\(e(csr.reason))); sign with `berthctl sign \(e(report.host))`")
        }
        if let error = report.error, report.state != .inSync { lines.append("  error: \(TerminalText.escape(error))") }
        return lines.joined(separator: "\n")
    }

    public static func detail(_ report: ReconcileReport) -> String {
        let e = TerminalText.line
        var lines = [
            "host:      \(e(report.host)) (fleet \(e(report.fleet ?? "?")), agent \(e(report.agentVersion)))",
            "state:     \(report.state.rawValue): \(e(report.message))",
            "revision:  desired \(short(report.desiredRevision)), applied \(short(report.appliedRevision))"
                + (report.source.stale ? " (source STALE: \(e(report.source.error ?? "")))" : ""),
            "source:    \(report.source.kind.rawValue) \(e(report.source.location)), \(trustLine(report.source))",
            "time:      \(UTCTime.format(report.time)); next pass \(report.nextPassAt.map { UTCTime.format($0) } ?? "-")",
        ]
        if let cert = report.serverCertificate {
            lines.append("cert:      \(e(cert.subject)), SANs \(e(cert.sans.joined(separator: ", "))), expires \(UTCTime.format(cert.notAfter)), sha256 \(e(cert.sha256))")
        }
        if let csr = report.pendingCSR {
            lines.append("csr:       sha256 \(e(csr.sha256)) for \(e(csr.sans.joined(separator: ", "))): \(e(csr.reason))" + (csr.joinMAC == nil ? "" : " (vouched by a join token)"))
        }
        if let quarantine = report.quarantine {
            lines.append("quarantine: \(short(quarantine.revision)) since \(UTCTime.format(quarantine.since)): \(e(quarantine.reason)); `berth-agent reconcile --retry` tries it again")
        }
        if let lkg = report.lastKnownGoodRevision {
            lines.append("last-known-good: \(short(lkg))")
        }
        if let daemon = report.daemon {
            lines.append("dockerd:   \(daemon.active ? "active" : "not active") pid \(daemon.pid), \(e(daemon.version ?? "?")), \(daemon.containersRunning.map(String.init) ?? "?") running, live-restore \(daemon.liveRestore.map { $0 ? "on" : "off" } ?? "?")")
            for listener in daemon.listeners {
                lines.append("  \(e(listener.url)): \(listener.result.word)\(listener.result.reason.map { " (\(e($0)))" } ?? "")")
            }
        }
        for warning in report.warnings ?? [] { lines.append("warning:   \(e(warning))") }
        if !report.drift.isEmpty {
            lines.append("drift:")
            for item in report.drift {
                lines.append("  \(item.kind.rawValue) \(e(item.object)): \(e(item.reason))")
                if let diff = item.diff, !diff.isEmpty {
                    lines += diff.split(separator: "\n", omittingEmptySubsequences: false).map { "    \(e(String($0)))" }
                }
            }
        }
        if !report.actions.isEmpty {
            lines.append("actions:")
            for action in report.actions { lines.append("  \(action.ok ? "" : "FAILED ")\(action.kind.rawValue) \(e(action.object)): \(e(action.reason))") }
        }
        if let journal = report.journal, !journal.isEmpty {
            lines.append("journalctl -u docker (last lines):")
            lines += journal.map { "  \(e($0))" }
        }
        if let error = report.error { lines.append("error:     \(TerminalText.escape(error))") }
        return lines.joined(separator: "\n")
    }

    static func trustLine(_ source: SourceStatus) -> String {
        switch source.trust {
        case .verified?: return "signed by \(TerminalText.line(source.signer ?? "an allowed signer"))"
        case .unsigned?: return "UNSIGNED (no allowed signers configured)"
        case .untrusted?: return "UNTRUSTED"
        case nil: return "trust not recorded"
        }
    }

    public static func plan(_ report: ReconcileReport, plan: HostPlan?) -> String {
        guard let plan else { return summary(report) }
        let e = TerminalText.line
        var lines: [String] = []
        if plan.isNoOp && report.pendingCSR == nil {
            lines.append("\(e(report.host)): nothing to do; the host matches \(short(report.desiredRevision))")
        }
        for blocker in plan.blockers { lines.append("REFUSED: \(e(blocker))") }
        if let held = plan.held { lines.append("HELD: \(e(held))") }
        for item in plan.drift {
            lines.append("drift: \(item.kind.rawValue) \(e(item.object)): \(e(item.reason))")
            if let diff = item.diff, !diff.isEmpty { lines.append(TerminalText.escape(diff.hasSuffix("\n") ? String(diff.dropLast()) : diff)) }
        }
        for action in plan.actions { lines.append("would \(e(action.summary))") }
        if case .deferred(let because, let policy) = plan.restart {
            lines.append("would NOT restart docker now (\(e(because))): \(e(policy))")
        }
        if let csr = report.pendingCSR {
            lines.append("certificate: \(e(csr.reason)); CSR sha256 \(e(csr.sha256))")
        }
        for action in report.actions { lines.append("would \(action.kind.rawValue) \(e(action.object)): \(e(action.reason))") }
        return lines.joined(separator: "\n")
    }
}
