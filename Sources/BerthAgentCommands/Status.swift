import ArgumentParser
import BerthAgent
import BerthCore
import Foundation

/// `berth-agent status`: the last report, for a person at the console.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this host's last report.",
        discussion: """
            Exits with the last pass's reconcile exit code, or 1 when there is no report yet.

            Example:
              berth-agent status
            """
    )

    @OptionGroup var options: AgentOptions
    @OptionGroup var output: JSONFlag

    func run() async throws {
        var settings = AgentSettings(host: options.host ?? AgentOptions.machineHostname())
        settings.root = options.root
        guard let report = ReportStore(settings: settings).last() else {
            FileHandle.standardError.write(Data("berth-agent: no report yet in \(ReportStore(settings: settings).localPath); run `berth-agent reconcile`\n".utf8))
            throw ExitCode(1)
        }
        if output.json {
            FileHandle.standardOutput.write(Data(try report.encoded()))
        } else {
            print(ReportFormatter.detail(report))
        }
        throw ExitCode(report.state.exitCode)
    }
}
