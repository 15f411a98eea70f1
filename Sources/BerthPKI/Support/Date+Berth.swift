import Foundation

extension Date {
    /// `2026-03-01T12:00:00Z`: how certificate dates appear in Berth's messages and reports.
    var berthTimestamp: String { formatted(.iso8601) }
}
