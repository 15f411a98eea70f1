import BerthCore
import Foundation

extension AgentSettings {
    /// 50 entries: with history entries only for passes that change something or differ from the
    /// last one (``ReconcileReport/isHistoryEvent(after:)``), weeks of a quiet host.
    public static let defaultReportHistory = 50
    /// A report is at most 1 MiB; ten thousand of them bound one host's history at a few GiB in the
    /// worst case, far beyond any real need, and keep a typo (`reportHistory: 5000000`) out.
    public static let reportHistoryRange = 0...10_000
}

extension AgentConfigValue {
    /// A whole number within `range`, e.g. `reportHistory: 50`.
    func count(in range: ClosedRange<Int>) throws -> Int {
        let value = try text()
        guard let number = Int(value), value.allSatisfy(\.isNumber), range.contains(number) else {
            throw BerthError(.invalidInput, "\(at): \"\(value)\" is not a whole number from \(range.lowerBound) to \(range.upperBound); write e.g. 50")
        }
        return number
    }
}
