import BerthCore
import Foundation
import Logging

/// Where the agent writes its Prometheus metrics (agent.yaml `metricsFile:`, `--metrics-file`).
public enum MetricsFileSetting: Sendable, Equatable {
    /// node_exporter's textfile collector directory, when it exists on the host
    /// (``AgentSettings/defaultMetricsDirectory``, joined onto the root); otherwise none.
    case automatic
    /// This file (a path on the machine the agent runs on, like `reportDir`).
    case file(String)
    /// `none`: no metrics, even where node_exporter's directory exists.
    case off

    /// Reads the value agent.yaml or the flag gives: `none`, or an absolute path of a `.prom`
    /// file (node_exporter's textfile collector reads only `*.prom`). Returns nil when invalid.
    static func parse(_ value: String) -> MetricsFileSetting? {
        if value == "none" { return .off }
        guard value.hasPrefix("/"), value.hasSuffix(".prom"), value.count > ".prom".count + 1,
              !value.hasSuffix("/.prom"), !value.split(separator: "/").contains("..") else { return nil }
        return .file(value)
    }

    static let rule = "write an absolute path of a .prom file (node_exporter's textfile collector reads only *.prom), e.g. \(AgentSettings.defaultMetricsDirectory)/berth.prom, or none"
}

extension AgentSettings {
    /// Debian's prometheus-node-exporter reads `*.prom` from here (its `--collector.textfile.directory`).
    public static let defaultMetricsDirectory = "/var/lib/prometheus/node-exporter"
    public static let defaultMetricsFileName = "berth.prom"

    /// The file this agent writes its metrics to after every pass, or nil for none.
    public var metricsPath: String? {
        switch metricsFile {
        case .off: return nil
        case .file(let path): return path
        case .automatic:
            let directory = hostPath(Self.defaultMetricsDirectory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
            return "\(directory)/\(Self.defaultMetricsFileName)"
        }
    }

    /// The levels `logLevel:` and `--log-level` accept, most verbose first.
    public static let logLevels: [Logger.Level] = [.debug, .info, .notice, .warning, .error]

    public static func parseLogLevel(_ value: String) -> Logger.Level? {
        logLevels.first { $0.rawValue == value }
    }
}

extension AgentConfigValue {
    func metricsFile() throws -> MetricsFileSetting {
        let value = try text()
        guard let setting = MetricsFileSetting.parse(value) else {
            throw BerthError(.invalidInput, "\(at): \"\(value)\" is not a metrics file; \(MetricsFileSetting.rule)")
        }
        return setting
    }

    func logLevel() throws -> Logger.Level {
        let value = try text()
        guard let level = AgentSettings.parseLogLevel(value) else {
            throw BerthError(.invalidInput, "\(at): \"\(value)\" is not a log level; write one of \(AgentSettings.logLevels.map(\.rawValue).joined(separator: ", "))")
        }
        return level
    }
}
