import ArgumentParser
import BerthCommandSupport
import BerthControl
import Foundation

/// `berthctl status --format table|json|prometheus`; `--json` is `--format json`.
enum StatusFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json, prometheus
}

extension Status {
    func validateFormat() throws {
        guard let format else { return }
        if output.json && format != .json { throw ValidationError("--json is --format json; give one of them") }
        if html != nil { throw ValidationError("--html and --format \(format.rawValue) are two outputs; choose one") }
        if watch && format == .prometheus {
            throw ValidationError("--format prometheus prints once, for a textfile or a Pushgateway; run it from a timer instead of --watch")
        }
    }

    var printsJSON: Bool { output.json || format == .json }

    /// The fleet (or the one host asked for) as Prometheus metrics (``FleetMetrics``).
    func printMetrics(_ status: FleetStatus, now: Date) {
        var text = FleetMetrics.render(status, now: now)
        if text.hasSuffix("\n") { text.removeLast() }
        Output.print(text)
    }
}
