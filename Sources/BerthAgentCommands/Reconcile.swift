import ArgumentParser
import BerthAgent
import BerthCore
import Foundation

/// `berth-agent reconcile`: one pass.
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Run one pass: make the host match the desired state, verify, report.",
        discussion: """
            Content that failed verification and was rolled back is quarantined: it is not applied
            again until the desired state changes. --retry tries it once more.

            Example:
              berth-agent reconcile --once --state /srv/fleet --report-dir /srv/reports
              berth-agent reconcile --retry
            """
    )

    @Flag(help: "Run one pass and exit (the default; kept for scripts that say it).")
    var once = false

    @Flag(help: "Lift the quarantine: apply content that was rolled back once more.")
    var retry = false

    @OptionGroup var options: AgentOptions
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let settings = try options.settings()
        let environment = options.environment(settings)
        let outcome = await Pass(settings: settings, environment: environment).reconcile(retry: retry)
        await environment.engine.shutdown()
        await PassOutput.publish(outcome, settings: settings, environment: environment)
        if output.json {
            FileHandle.standardOutput.write(Data(try outcome.report.encoded()))
        } else {
            PassOutput.show(outcome.report, logger: environment.logger) { print($0) }
        }
        throw ExitCode(outcome.report.state.exitCode)
    }
}
