import ArgumentParser
import BerthCore
import Foundation

/// The exit codes both tools document (the README's table). A command that has more to say
/// (`reconcile`'s states, `plan`'s 2) throws `ExitCode(n)` itself.
public enum ExitStatus {
    public static let success: Int32 = 0
    /// Invalid input or a failed operation; the message names the file, line, field or command.
    public static let failure: Int32 = 1
    /// A bad command line (EX_USAGE): only the command layer says so, from `validate()`.
    public static let usage: Int32 = 64

    /// The one mapping from an error to an exit code and what is printed, for both tools.
    /// Returns nil for what ArgumentParser prints itself (help, usage, explicit exit codes).
    static func report(_ error: any Error, tool: String) -> Int32? {
        switch error {
        case let error as FleetValidationError:
            for diagnostic in error.diagnostics { Output.error(diagnostic.description) }
            let count = error.errors.count
            Output.error("\(tool): \(count) error\(count == 1 ? "" : "s"); nothing was changed")
            return failure
        case let error as BerthError:
            Output.error("\(tool): \(error)")
            return failure
        case let error as AggregateError:
            for item in error.failures { Output.error("\(tool): \(item)") }
            return failure
        default:
            return nil
        }
    }
}

/// Failures of several independent items (hosts, clients), all reported at the end.
public struct AggregateError: Error, CustomStringConvertible {
    public var failures: [any Error]
    public init(_ failures: [any Error]) { self.failures = failures }
    public var description: String { failures.map { "\($0)" }.joined(separator: "\n") }
}

/// The `main` of both executables: parse, run, and map every error to an exit code in one place.
public enum CommandMain {
    public static func run(_ root: any AsyncParsableCommand.Type, tool: String, arguments: [String]? = nil) async -> Never {
        do {
            var command = try root.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(ExitStatus.success)
        } catch {
            if let status = ExitStatus.report(error, tool: tool) { exit(status) }
            // Help, version, usage errors (64) and explicit exit codes, as ArgumentParser prints them.
            let code = root.exitCode(for: error).rawValue
            let message = root.fullMessage(for: error)
            if !message.isEmpty {
                if code == 0 { Output.print(message) } else { Output.error(message) }
            } else if code != 0 && !(error is ExitCode) {
                // An error no layer describes: say what it is rather than exit silently.
                Output.error("\(tool): \(error)")
                exit(ExitStatus.failure)
            }
            exit(code == 64 ? ExitStatus.usage : code)
        }
    }
}
