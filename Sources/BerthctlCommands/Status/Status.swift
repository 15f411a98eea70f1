import ArgumentParser
import BerthAgent
import BerthCore
import BerthHost
import Foundation

/// `berthctl status`: drift across the fleet.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every host's state, revision, drift, certificate expiry and last report.",
        discussion: """
            Reports come from --reports DIR (agents run with --report-dir DIR) or, without it, from
            the refs/berth/status/* refs of the repository (agents run with --report-git).
            A host is stale after 3 intervals without a report and unknown if it never reported.
            Exits 0 only when every host is in-sync, or repaired (drift fixed and verified in
            that pass), at the repository's current revision.

            Example:
              berthctl status --reports /srv/berth-reports
              berthctl status web-1
              berthctl status --json | jq '.rows[] | select(.state != "in-sync")'
            """
    )

    @Argument(help: "Show one host in detail: its drift with diffs, its actions.")
    var host: String?

    @Option(help: ArgumentHelp("Shared report directory (default: the repository's status refs).", valueName: "dir"))
    var reports: String?

    @Flag(help: "Redraw every 2 seconds until interrupted.")
    var watch = false

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        repeat {
            let inSync = try await once()
            if !watch { throw ExitCode(inSync ? 0 : 1) }
            try await Task.sleep(nanoseconds: 2_000_000_000)
            print("\u{1B}[2J\u{1B}[H", terminator: "")
        } while true
    }

    func once() async throws -> Bool {
        let repo = repository.repository
        // An invalid fleet.yaml is no reason to go blind: show every host that could be read,
        // say what is wrong, and never call the fleet in sync.
        let loaded = try repo.load()
        guard let spec = loaded.document.spec ?? loaded.document.partialSpec else { throw FleetValidationError(loaded.errors) }
        if !loaded.errors.isEmpty {
            Output.error("\(repo.specPath) has \(loaded.errors.count) error\(loaded.errors.count == 1 ? "" : "s"); run `berthctl validate`")
        }
        let git = Git()
        let revision = await git.revision(of: repo.root)
        let found = await ReportSource.load(directory: reports.map(RepositoryOptions.absolute), repository: repo.root, git: git)
        if let host {
            guard spec.hosts.contains(where: { $0.name == host }) else {
                throw BerthError(.notFound, "host \"\(host)\" is not in \(FleetRepository.specFile); known hosts: \(spec.hosts.map(\.name).joined(separator: ", "))")
            }
            guard let report = found[host] else {
                throw BerthError(.notFound, "no report from \(host) yet (state unknown); is its agent running with --report-dir or --report-git?")
            }
            // The same judgement as the fleet view: an old report is stale, whatever it says.
            let status = FleetStatus.compute(hosts: [host], reports: found, revision: revision, now: Date())
            let row = status.rows[0]
            if output.json {
                var shown = report
                if row.state == .stale { shown.state = .stale; shown.message = row.message }
                try Output.json(shown)
            } else {
                if row.state == .stale { Output.print("stale: \(row.message)") }
                Output.print(ReportFormatter.detail(report))
            }
            return loaded.errors.isEmpty && status.allInSync
        }
        let status = FleetStatus.compute(hosts: spec.hosts.map(\.name), reports: found, revision: revision, now: Date())
        if output.json {
            try Output.json(status)
        } else {
            func short(_ r: String?) -> String { r.map { String($0.prefix(12)) } ?? "-" }
            let rows = status.rows.map { row in
                [row.host, row.state.rawValue, short(row.appliedRevision) + (row.appliedRevision == revision ? "" : " (desired \(short(revision)))"),
                 row.driftSummary, row.certificateExpires.map { UTCTime.format($0) } ?? "-", row.lastSeen.map { UTCTime.format($0) } ?? "never"]
            }
            Output.print(Output.table(["HOST", "STATE", "APPLIED", "DRIFT", "CERT EXPIRES", "LAST SEEN"], rows))
        }
        return loaded.errors.isEmpty && status.allInSync
    }
}
