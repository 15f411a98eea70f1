import ArgumentParser
import BerthAgent
import BerthCommandSupport
import BerthCore
import Foundation

/// The `berth-agent` command tree: keeps one Docker host as the fleet repository says.
public struct BerthAgentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "berth-agent",
        abstract: "Keep this Docker host's dockerd listeners and TLS as the fleet repository says.",
        discussion: """
            reconcile exit codes: 0 in-sync or repaired; 3 pending-restart; 4 awaiting-certificate;
            5 rolled-back; 6 failed; 7 invalid-state; 8 untrusted; 1 cannot run (bad agent.yaml); 64 bad usage.
            plan exit codes: 0 nothing would change; 2 something would; 1 it could not plan.
            """,
        version: BerthVersion.current,
        // Each subcommand spells out its commandName: derived from the type name, it costs every
        // pass ~7M instructions of runtime type lookups (callgrind; see docs/performance.md).
        subcommands: [Reconcile.self, Plan.self, Run.self, Status.self, Publish.self],
        defaultSubcommand: Reconcile.self
    )

    public init() {}

    public static func runMain() async {
        await CommandMain.run(BerthAgentCommand.self, tool: "berth-agent")
    }
}
