import Foundation

/// Prometheus's own checker, `promtool check metrics` (Debian's prometheus package, installed by
/// scripts/deps.sh): the exposition text on stdin, problems on stdout/stderr and a non-zero exit.
/// Tests fail when it complains, and when it is missing: a check that cannot run is no check.
public enum Promtool {
    public static var path: String? {
        ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Checks `text` (lint included); returns what promtool printed, or throws with its complaint.
    @discardableResult
    public static func check(_ text: String) async throws -> CLI.Result {
        guard let path else { throw Failure(description: "promtool is not installed: run scripts/deps.sh (Debian's prometheus package)") }
        let result = try await CLI.run(path, ["check", "metrics"], input: text, timeout: .seconds(60))
        guard result.status == 0, result.stdout.isEmpty, result.stderr.isEmpty else {
            throw Failure(description: "promtool check metrics failed:\n\(result)\n--- input\n\(text)")
        }
        return result
    }
}
