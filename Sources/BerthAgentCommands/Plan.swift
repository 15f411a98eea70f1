import ArgumentParser
import BerthAgent
import BerthCore
import Foundation

/// `berth-agent plan`: what reconcile would do, with diffs; changes nothing.
struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what reconcile would change, with reasons and diffs; change nothing.",
        discussion: """
            Exits 0 when nothing would change, 2 when something would, 1 when it cannot plan
            (invalid or untrusted desired state, no docker.service).

            Example:
              berth-agent plan --state /srv/fleet
            """
    )

    @OptionGroup var options: AgentOptions
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let settings = try options.settings()
        let environment = options.environment(settings)
        let (report, plan) = await Pass(settings: settings, environment: environment).plan()
        await environment.engine.shutdown()
        if output.json {
            FileHandle.standardOutput.write(Data(try report.encoded()))
        } else {
            print(ReportFormatter.plan(report, plan: plan))
        }
        guard let plan else { throw ExitCode(1) }
        let makesKey = report.actions.contains { $0.kind == .generateKey }
        throw ExitCode(plan.isNoOp && !makesKey ? 0 : 2)
    }
}
