import ArgumentParser
import BerthAgent
import BerthCore
import Foundation

/// `berth-agent status`: the last report, for a person at the console.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this host's last report, with the fingerprint of any pending CSR.",
        discussion: """
            Exits with the last pass's reconcile exit code, or 1 when there is no report yet.
            The CSR fingerprint it prints is what `berthctl sign HOST --fingerprint` compares.

            Example:
              berth-agent status
            """
    )

    @OptionGroup var options: AgentOptions
    @OptionGroup var output: JSONFlag

    func run() async throws {
        var settings = AgentSettings(host: options.host ?? AgentOptions.machineHostname())
        settings.root = options.root
        let store = ReportStore(settings: settings)
        guard let report = store.last() else {
            throw BerthError(.notFound, "no report yet in \(store.localPath); run `berth-agent reconcile`")
        }
        if output.json {
            FileHandle.standardOutput.write(Data(try report.encoded()))
        } else {
            print(ReportFormatter.detail(report))
            if let csr = report.pendingCSR {
                print("\nto sign this host's CSR without a join token: berthctl sign \(TerminalText.line(report.host)) --fingerprint \(TerminalText.line(csr.sha256))")
            }
        }
        throw ExitCode(report.state.exitCode)
    }
}
