import ArgumentParser
import BerthCore
import Foundation

/// The `berthctl` command tree: author the fleet's desired state and see the fleet.
public struct Berthctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "berthctl",
        abstract: "Author a Berth fleet repository and see the fleet's state.",
        discussion: """
            Exit codes: 0 success; 1 invalid input or a failed operation (the message says which \
            file, line and field); 64 bad command-line usage.
            """,
        subcommands: [
            Init.self, Validate.self, HostCommand.self, Render.self, Status.self, Sign.self, ClientCommand.self, Env.self, Context.self,
        ]
    )

    public init() {}

    /// Parses the command line, runs the command and maps errors to exit codes in one place.
    public static func runMain(arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch {
            if let status = ErrorReporter(tool: "berthctl").report(error) { Foundation.exit(status) }
            exit(withError: error)  // help, usage errors and explicit exit codes, as ArgumentParser prints them
        }
    }
}

/// Prints library errors the way an operator needs them and picks their exit code.
/// Returns nil for errors ArgumentParser should render itself (usage, help, explicit exit codes).
struct ErrorReporter {
    var tool: String

    func report(_ error: any Error) -> Int32? {
        switch error {
        case let error as FleetValidationError:
            for diagnostic in error.diagnostics { Output.error(diagnostic.description) }
            let count = error.errors.count
            Output.error("\(tool): \(count) error\(count == 1 ? "" : "s"); nothing was changed")
            return ExitStatus.failure
        case let error as BerthError:
            Output.error("\(tool): \(error)")
            return ExitStatus.failure
        case let error as AggregateError:
            for item in error.failures { Output.error("\(tool): \(item)") }
            return ExitStatus.failure
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

/// The exit codes `berthctl` documents in its help and the README.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 64
}
