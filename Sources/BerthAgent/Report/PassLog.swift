import BerthCore
import Foundation
import Logging

/// What a pass says in the log, one line per event, each with the host, the revision and the
/// state as `key=value` fields a person can grep (`state=rolled-back`).
///
/// - ``details(_:logger:)``: the pass's detail at `debug` (source, dockerd, each listener, the
///   drift), so a quiet pass costs the journal nothing unless asked (`logLevel: debug`).
/// - ``events(_:logger:)``: each action taken (`notice`; a failed one `error`), a stale source
///   (`warning`), and the outcome at its state's level (``level(of:)``). Under systemd these
///   replace the summary printed on a terminal, so `journalctl -p err -u berth-agent` lists the
///   rollbacks and failures and nothing else.
public enum PassLog {
    /// The level a pass that left `state` is logged at.
    public static func level(of state: HostState) -> Logger.Level {
        switch state {
        case .inSync, .retired: return .info
        case .repaired, .awaitingCertificate: return .notice
        case .pendingRestart, .stale, .unknown, .unverified: return .warning
        case .rolledBack, .failed, .invalidState, .untrusted: return .error
        }
    }

    /// The fields every line of a pass carries.
    public static func fields(_ report: ReconcileReport) -> Logger.Metadata {
        var fields: Logger.Metadata = [
            "host": "\(report.host)",
            "revision": "\(ReportFormatter.short(report.desiredRevision))",
            "state": "\(report.state.rawValue)",
        ]
        if let applied = report.appliedRevision, applied != report.desiredRevision {
            fields["applied"] = "\(ReportFormatter.short(applied))"
        }
        return fields
    }

    public static func details(_ report: ReconcileReport, logger: Logger) {
        guard logger.logLevel <= .debug else { return }
        let fields = fields(report)
        let source = report.source
        logger.debug("source \(source.kind.rawValue) \(source.location)\(source.stale ? " (stale: \(source.error ?? "?"))" : ""), \(source.trust?.rawValue ?? "trust not recorded")",
                     metadata: fields)
        if let daemon = report.daemon {
            logger.debug("dockerd \(daemon.active ? "active" : "not active") pid \(daemon.pid), version \(daemon.version ?? "?"), \(daemon.containersRunning.map(String.init) ?? "?") running, live-restore \(daemon.liveRestore.map { $0 ? "on" : "off" } ?? "?")",
                         metadata: fields)
            for listener in daemon.listeners {
                logger.debug("listener \(listener.url): \(listener.result.word)\(listener.result.reason.map { " (\($0))" } ?? "")", metadata: fields)
            }
        }
        if report.drift.isEmpty {
            logger.debug("no drift", metadata: fields)
        }
        for item in report.drift {
            logger.debug("drift \(item.kind.rawValue) \(item.object): \(item.reason)", metadata: fields)
        }
        if let certificate = report.serverCertificate {
            logger.debug("server certificate sha256 \(certificate.sha256) expires \(UTCTime.format(certificate.notAfter))", metadata: fields)
        }
        logger.debug("next pass at \(report.nextPassAt.map { UTCTime.format($0) } ?? "-")", metadata: fields)
    }

    public static func events(_ report: ReconcileReport, logger: Logger) {
        let fields = fields(report)
        if report.source.stale {
            logger.warning("the source is stale; the last good checkout was used: \(report.source.error ?? "?")", metadata: fields)
        }
        for action in report.actions {
            var metadata = fields
            metadata["action"] = "\(action.kind.rawValue)"
            if action.ok {
                logger.notice("did \(action.kind.rawValue) \(action.object): \(action.reason)", metadata: metadata)
            } else {
                logger.error("FAILED \(action.kind.rawValue) \(action.object): \(action.reason)", metadata: metadata)
            }
        }
        if let csr = report.pendingCSR {
            // A notice when the host waits for it to serve TCP; otherwise (signed reports) news only.
            logger.log(level: report.state == .awaitingCertificate ? .notice : .info,
                       "pending CSR sha256 \(csr.sha256) for \(csr.sans.joined(separator: ", ")): sign with `berthctl sign \(report.host)`",
                       metadata: fields)
        }
        var message = "\(report.state.rawValue): \(report.message)"
        if let error = report.error, report.state != .inSync, !report.message.contains(error) {
            message += " (\(error))"
        }
        logger.log(level: level(of: report.state), "\(message)", metadata: fields)
    }
}
