import ArgumentParser
import BerthCore
import BerthHost
import Foundation

/// `berthctl validate`: every check, every finding, for pre-commit hooks and CI.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the fleet repository: fleet.yaml, names, listeners, clients, certificates, no private keys.",
        discussion: """
            Prints every problem as FILE:LINE:COLUMN: FIELD: what is wrong; what would be valid.
            Exits 1 when there is any error (warnings alone exit 0).

            Example:
              berthctl validate --repo fleet
            """
    )

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.load()
        let diagnostics = loaded.diagnostics + (await RepositoryChecks.run(loaded))
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
