import ArgumentParser
import BerthAgent
import BerthCore
import BerthHost
import Foundation
import Logging

/// `--metrics-file` and `--log-level`, and the log every agent command writes to.
extension AgentOptions {
    func validateObservability() throws {
        if let metricsFile, metricsFile != "none", !metricsFile.hasSuffix(".prom") || metricsFile.hasSuffix("/.prom") || metricsFile == ".prom" {
            throw ValidationError("--metrics-file \"\(metricsFile)\" is not a metrics file; write a path ending in .prom (node_exporter's textfile collector reads only *.prom), or none")
        }
        if let logLevel, AgentSettings.parseLogLevel(logLevel) == nil {
            throw ValidationError("--log-level \"\(logLevel)\" is not a log level; write one of \(AgentSettings.logLevels.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func applyObservability(to settings: inout AgentSettings) {
        if let metricsFile {
            settings.metricsFile = metricsFile == "none" ? .off : .file((absolute(metricsFile) as NSString).standardizingPath)
        }
        if let logLevel, let level = AgentSettings.parseLogLevel(logLevel) { settings.logLevel = level }
    }

    /// The agent's log: ``JournalLogHandler`` on standard error (priority-prefixed under
    /// systemd), at the configured level, every line naming the host.
    static func logger(_ settings: AgentSettings?) -> Logger {
        var logger = Logger(label: "berth-agent") { _ in JournalLogHandler() }
        guard let settings else { return logger }
        logger.logLevel = settings.logLevel
        logger[metadataKey: "host"] = "\(settings.host)"
        return logger
    }
}

extension PassOutput {
    /// A pass's outcome for whoever watches: in the journal, one line per event with its priority
    /// (``PassLog``); on a terminal or in a file, the summary a person reads, through `print`.
    static func show(_ report: ReconcileReport, logger: Logger, print: (String) -> Void) {
        if JournalStream.standardErrorIsJournal {
            PassLog.events(report, logger: logger)
        } else {
            print(ReportFormatter.summary(report))
        }
    }
}
