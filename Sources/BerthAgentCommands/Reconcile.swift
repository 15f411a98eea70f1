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
            Example:
              berth-agent reconcile --once --state /srv/fleet --report-dir /srv/reports
            """
    )

    @Flag(help: "Run one pass and exit (the default; kept for scripts that say it).")
    var once = false

    @OptionGroup var options: AgentOptions
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let settings = try options.settings()
        let environment = options.environment()
        let report = await Reconciler(settings: settings, environment: environment).reconcile()
        await environment.engine.shutdown()
        if settings.reportGit {
            await StatusPublisher(settings: settings, runner: environment.runner).publishLogged(report, logger: environment.logger)
        }
        if output.json {
            FileHandle.standardOutput.write(Data(try report.encoded()))
        } else {
            print(ReportFormatter.summary(report))
        }
        throw ExitCode(report.state.exitCode)
    }
}
