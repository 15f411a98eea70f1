import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl validate`: every check, every finding, for pre-commit hooks and CI.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the fleet repository: fleet.yaml, names, listeners, clients, certificates, no private keys (in the tree or in reports).",
        discussion: """
            Prints every problem as FILE:LINE:COLUMN: FIELD: what is wrong; what would be valid.
            Exits 1 when there is any error (warnings alone exit 0).

            Example:
              berthctl validate --repo fleet
            """
    )

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var reportOptions: ReportOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.load()
        var diagnostics = loaded.diagnostics + (await RepositoryChecks.run(loaded))
        // Reports leave hosts; a report that carries key material published it. Look for that too.
        let hosts = (loaded.document.spec ?? loaded.document.partialSpec)?.hosts.map(\.name) ?? []
        let (reports, _) = await FleetReports(repository: repo).load(from: reportOptions.location, hosts: hosts)
        for (host, checked) in reports.sorted(by: { $0.key < $1.key }) {
            for (name, bytes) in [("\(host).json", checked.fetched.json ?? []), ("\(host).json.sig", Array((checked.fetched.signature ?? "").utf8))] {
                if let finding = KeyMaterialSniffer.firstFinding(bytes) {
                    diagnostics.append(Diagnostic(.error, at: SourceLocation(file: "\(reportOptions.describe(repository: repo.root)): \(name)", line: 1, column: 1), field: "",
                        "holds \(finding): a private key was published with a report. Replace that key on \(host), and delete the report (git push --delete ORIGIN refs/berth/status/\(host))"))
                }
            }
        }
        let errors = diagnostics.filter { $0.severity == .error }
        if output.json {
            struct Result: Encodable { var valid: Bool; var diagnostics: [Diagnostic] }
            try Output.json(Result(valid: errors.isEmpty, diagnostics: diagnostics))
        } else {
            for d in diagnostics { Output.error(d.description) }
        }
        guard errors.isEmpty else {
            if !output.json { Output.error("berthctl: \(errors.count) error\(errors.count == 1 ? "" : "s") in \(repo.root)") }
            throw ExitCode(ExitStatus.failure)
        }
        if !output.json {
            let spec = loaded.spec
            Output.print("ok: fleet \(spec.fleet), \(spec.hosts.count) host\(spec.hosts.count == 1 ? "" : "s"), \(Set(spec.hosts.flatMap { spec.resolve(host: $0.name)?.clients ?? [] }).union(spec.defaults.clients ?? []).count) authorized client(s)")
        }
    }
}
