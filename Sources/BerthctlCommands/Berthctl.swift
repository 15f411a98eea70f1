import ArgumentParser
import BerthCommandSupport
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
        version: "0.2.0",
        subcommands: [
            Init.self, Validate.self, HostCommand.self, Render.self, Status.self, Sign.self, ClientCommand.self, Env.self, Context.self,
        ]
    )

    public init() {}

    public static func runMain(arguments: [String]? = nil) async {
        await CommandMain.run(Berthctl.self, tool: "berthctl", arguments: arguments)
    }
}
