import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl status`: drift across the fleet, judged by the controller.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every host's state, revision, drift, certificate expiry, last report and trust.",
        discussion: """
            Reports come from --reports DIR (agents with reportDir:) or, without it, from the
            refs/berth/status/HOST refs (agents with reportGit:), fetched from --report-repo or
            the repository's origin. Each report must be signed by its host's certificate
            (certs/HOST.pem); one that is not is shown as unverified and never counts as in sync.
            A host is stale when its last report is older than --stale-after (default 15m: three
            of the timer's 5-minute intervals), whatever interval the report claims, and unknown
            if it never reported.
            Exits 0 only when every host is in-sync, or repaired (drift fixed and verified in
            that pass), at the repository's current revision, with a verified report.

            Example:
              berthctl status --reports /srv/berth-reports
              berthctl status web-1
              berthctl status --json | jq '.rows[] | select(.state != "in-sync")'
            """
    )

    @Argument(help: "Show one host in detail: its drift with diffs, its actions.")
    var host: String?

    @Option(help: ArgumentHelp("A host is stale when its last report is older than this (e.g. 15m, 1h).", valueName: "duration"))
    var staleAfter: String?

    @Flag(help: "Redraw every 2 seconds until interrupted.")
    var watch = false

    @OptionGroup var reportOptions: ReportOptions
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let staleAfter, TimeSpan.parse(staleAfter).map({ $0.seconds > 0 }) != true {
            throw ValidationError("--stale-after \"\(staleAfter)\" is not a duration; write e.g. 15m or 90s")
        }
    }

    var staleLimit: TimeInterval {
        staleAfter.flatMap(TimeSpan.parse).map { TimeInterval($0.seconds) } ?? FleetStatus.defaultStaleAfter
    }

    func run() async throws {
        repeat {
            let inSync = try await once()
            if !watch { throw ExitCode(inSync ? 0 : 1) }
            try await Task.sleep(for: .seconds(2))
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
        let revision = await Git().revision(of: repo.root)
        let names = host.map { [$0] } ?? spec.hosts.map(\.name)
        if let host, !spec.hosts.contains(where: { $0.name == host }) {
            throw BerthError(.notFound, "host \"\(host)\" is not in \(FleetRepository.specFile); known hosts: \(spec.hosts.map(\.name).joined(separator: ", "))")
        }
        let (found, note) = await FleetReports(repository: repo).load(from: reportOptions.location, hosts: names)
        if let note { Output.error("warning: \(note)") }
        let status = FleetStatus.compute(hosts: names, reports: found, revision: revision, now: Date(), staleAfter: staleLimit)
        if let host {
            guard let checked = found[host], var report = checked.report else {
                throw BerthError(.notFound, "no readable report from \(host) (\(found[host]?.fetched.problem ?? "state unknown")); is its agent running with reportDir: or reportGit:?")
            }
            let row = status.rows[0]
            if output.json {
                if row.state == .stale || row.state == .unverified { report.state = row.state; report.message = row.message }
                try Output.json(report)
            } else {
                if row.state == .stale || row.state == .unverified { Output.print("\(row.state.rawValue): \(TerminalText.line(row.message))") }
                Output.print("trust:     report \(row.trust.word)\(row.trust.reason.map { " (\(TerminalText.line($0)))" } ?? "")")
                Output.print(ReportFormatter.detail(report))
            }
            return loaded.errors.isEmpty && status.allInSync
        }
        if output.json {
            try Output.json(status)
        } else {
            Output.print(Self.table(status))
        }
        return loaded.errors.isEmpty && status.allInSync
    }

    static func table(_ status: FleetStatus) -> String {
        let rows = status.rows.map { row -> [String] in
            var applied = ReportFormatter.short(row.appliedRevision)
            if row.appliedRevision != status.revision { applied += " (desired \(ReportFormatter.short(status.revision)))" }
            if let quarantined = row.quarantinedRevision { applied += " quarantined \(ReportFormatter.short(quarantined))" }
            let commits: String
            switch row.commitTrust {
            case .verified?: commits = "signed"
            case .unsigned?: commits = "unsigned"
            case .untrusted?: commits = "refused"
            case nil: commits = "-"
            }
            return [TerminalText.line(row.host), row.state.rawValue, applied, TerminalText.line(row.driftSummary),
                    row.certificateExpires.map { UTCTime.format($0) } ?? "-", row.lastSeen.map { UTCTime.format($0) } ?? "never",
                    row.trust.word, commits]
        }
        return Output.table(["HOST", "STATE", "APPLIED", "DRIFT", "CERT EXPIRES", "LAST SEEN", "REPORT", "COMMITS"], rows)
    }
}
