import ArgumentParser
import BerthAgent
import BerthCore
import BerthHost
import Foundation

/// `berth-agent run`: the long-running mode.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Reconcile now, then whenever the state file changes and every --interval (with jitter).",
        discussion: """
            SIGHUP runs a pass now; SIGTERM lets the pass in progress finish, then exits. Under
            systemd with Type=notify it sends READY=1 and, when WatchdogSec= is set, WATCHDOG=1.

            Example:
              berth-agent run --repo https://git.example.com/fleet.git --report-git --interval 300
            """
    )

    @OptionGroup var options: AgentOptions

    func run() async throws {
        let settings = try options.settings()
        let environment = options.environment(settings)
        let loop = AgentLoop(settings: settings, environment: environment) { outcome in
            await PassOutput.publish(outcome, settings: settings, environment: environment)
            PassOutput.show(outcome.report, logger: environment.logger) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        }
        await loop.run()
    }
}
