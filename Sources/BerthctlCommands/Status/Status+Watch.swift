import BerthCommandSupport
import BerthCore
import Foundation

/// `berthctl status --watch`: the same view, read again every `--interval`.
///
/// On a terminal each pass is drawn in place (``LiveScreen``): what one plain `status` would
/// print (the table, or `status HOST`'s detail, with its warnings) is collected whole and then
/// drawn over the last frame, under a header line that says when it was read. A pass that fails
/// (fleet.yaml mid-edit, a fetch that timed out) shows its error in the frame and the watch goes
/// on. With `--html FILE` nothing is drawn: the page is rewritten atomically every interval (a
/// static server never serves half a page) and one line per rewrite is printed.
extension Status {
    static let defaultWatchInterval = 2

    var watchSeconds: Int {
        interval.flatMap(TimeSpan.parse).map(\.seconds) ?? Self.defaultWatchInterval
    }

    func watchForever() async throws -> Never {
        let every = TimeSpan(seconds: watchSeconds).text
        if let html {
            while true {
                do {
                    _ = try await once()
                } catch {
                    Output.error("\(UTCTime.format(Date())) \(html) not rewritten: \(Self.describe(error))")
                }
                try await Task.sleep(for: .seconds(watchSeconds))
            }
        }
        let screen = LiveScreen()
        defer { screen.finish() }
        let command = "berthctl status" + (host.map { " " + TerminalText.line($0) } ?? "")
        while true {
            let capture = Output.Capture()
            var failure: String?
            do {
                _ = try await Output.$capture.withValue(capture) { try await once() }
            } catch {
                failure = Self.describe(error)
            }
            var frame = "Every \(every): \(command)    \(UTCTime.format(Date()))    Ctrl-C to quit\n\n" + capture.text
            if let failure { frame += "berthctl: " + TerminalText.escape(failure) + "\n" }
            screen.draw(frame)
            try await Task.sleep(for: .seconds(watchSeconds))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? FleetValidationError { return error.diagnostics.map(\.description).joined(separator: "\n") }
        return "\(error)"
    }
}
