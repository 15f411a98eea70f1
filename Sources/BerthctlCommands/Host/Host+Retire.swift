import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl host retire`: take a host out of service, the first half of removing it.
struct HostRetire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire",
        abstract: "Mark a host retired: its agent takes Berth's configuration off it, then only reports.",
        discussion: """
            Sets retired: true on the host's entry in fleet.yaml (everything else stays, so
            deleting that line takes the host back into service). On its next pass the host's
            agent removes Berth's drop-in and TLS files, reloads systemd, restarts dockerd when
            restart.policy allows (pending-restart until then), checks that dockerd serves its
            packaged configuration on the unix socket, and reports retired; from then on it only
            reports. A retirement that fails that check is rolled back like any change. The host
            key stays on the host: it signs the retired reports (docs/operations.md, "Retiring a host").

            Then `berthctl host rm NAME`, which refuses a host that has not reported retired.

            Example:
              berthctl host retire web-2 && git commit -am "retire web-2" && git push
              berthctl status web-2          # ... retired
              berthctl host rm web-2
            """
    )

    @Argument(help: "The host to retire.")
    var name: String

    @OptionGroup var repository: RepositoryOptions

    func validate() throws {
        guard ResourceName.isValid(name) else {
            throw ValidationError("host name \"\(name)\" is not valid; use \(ResourceName.rule)")
        }
    }

    func run() async throws {
        let repo = repository.repository
        let before = try repo.loadValid()
        if before.spec.host(named: name)?.retired == true {
            Output.print("\(name) is already retired in \(repo.specPath); once it reports retired, remove it with `berthctl host rm \(name)`")
            return
        }
        let loaded = try repo.update { text in
            var editor = FleetEditor(text)
            try editor.retireHost(name)
            return editor.text
        }
        Output.warnings(loaded.diagnostics)
        Output.print("""
            marked \(name) retired in \(repo.specPath)
            next: commit and push; on its next pass \(name)'s agent removes Berth's drop-in and TLS files, restarts dockerd on its packaged configuration (as restart.policy allows) and reports retired. Then `berthctl host rm \(name)`.
            """)
    }
}

extension HostRemove {
    /// Refuses to drop a host from fleet.yaml before its agent has taken Berth's configuration off
    /// it: the last report, read from the same place `berthctl status` reads it and verified the
    /// same way, must say `retired`. An old report is fine (a retired host's agent may be gone);
    /// one that does not verify is not.
    func requireRetired(_ repo: FleetRepository) async throws {
        let location = reportOptions.describe(repository: repo.root)
        let (found, note) = await FleetReports(repository: repo).load(from: reportOptions.location, hosts: [name])
        if let note { Output.error("warning: \(note)") }
        let advice = "retire it first: `berthctl host retire \(name)`, commit and push, wait for `berthctl status \(name)` to say retired, then run this again. "
            + "--force removes it anyway: its agent then leaves Berth's drop-in and TLS files in place and reports invalid-state"
        guard let checked = found[name] else {
            throw BerthError(.conflict, "\(name) has no report in \(location), so nothing shows it was retired; \(advice)")
        }
        guard let report = checked.report else {
            throw BerthError(.conflict, "\(name)'s report in \(location) cannot be read (\(checked.fetched.problem ?? "unreadable")); \(advice)")
        }
        guard checked.trust == .verified else {
            let why = checked.trust.reason ?? "it is signed only by the key of its pending CSR, which nothing vouches for"
            throw BerthError(.conflict, "\(name)'s last report says \(report.state.rawValue) but does not verify against \(FleetLayout.serverCertificate(name)) (\(why)); \(advice)")
        }
        guard report.state == .retired else {
            throw BerthError(.conflict, "\(name)'s last report (\(UTCTime.format(report.time))) says \(report.state.rawValue), not retired: Berth's configuration is still on it; \(advice)")
        }
    }
}
