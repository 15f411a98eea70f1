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
            that pass), or retired, at the repository's current revision, with a verified report.
            --history and --since read the history agents keep (reportHistory:) and exit 0 when
            it could be read; every entry is verified like the current report.

            Example:
              berthctl status --reports /srv/berth-reports
              berthctl status web-1
              berthctl status --json | jq '.rows[] | select(.state != "in-sync")'
              berthctl status web-1 --history               # its past reports: when it drifted, and what
              berthctl status --since 24h                   # which hosts changed state today
              berthctl status --html public/index.html     # one self-contained page (docs/status-page.md)
              berthctl status --watch --interval 10s       # redrawn in place; --watch --html rewrites the page
            """
    )

    @Argument(help: "Show one host in detail: its drift with diffs, its actions.")
    var host: String?

    @Option(help: ArgumentHelp("A host is stale when its last report is older than this (e.g. 15m, 1h).", valueName: "duration"))
    var staleAfter: String?

    @Flag(help: "Redraw in place every --interval until interrupted (with --html: rewrite FILE every --interval).")
    var watch = false

    @Option(help: ArgumentHelp("With --watch: how often to read the reports again (default 2s; e.g. 10s, 1m).", valueName: "duration"))
    var interval: String?

    @Option(help: ArgumentHelp("Write the fleet as one self-contained HTML page to FILE (atomically) instead of printing a table.", valueName: "file"))
    var html: String?

    @Option(help: ArgumentHelp("table (default), json (as --json), or prometheus: metrics in Prometheus's text format, for node_exporter's textfile collector or a Pushgateway.", valueName: "format"))
    var format: StatusFormat?

    @Flag(help: "With HOST: its past reports, oldest first: state changes with their times and drift.")
    var history = false

    @Option(help: ArgumentHelp("List the hosts whose state changed within this long (e.g. 24h, 7d); with HOST --history, its entries since then.", valueName: "duration"))
    var since: String?

    @OptionGroup var reportOptions: ReportOptions
    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        try validateFormat()
        try validateHistory()
        if let staleAfter, TimeSpan.parse(staleAfter).map({ $0.seconds > 0 }) != true {
            throw ValidationError("--stale-after \"\(staleAfter)\" is not a duration; write e.g. 15m or 90s")
        }
        if let interval {
            guard watch else { throw ValidationError("--interval is how often --watch reads again; add --watch or drop --interval") }
            guard TimeSpan.parse(interval).map({ $0.seconds > 0 }) == true else {
                throw ValidationError("--interval \"\(interval)\" is not a duration; write e.g. 2s, 30s or 1m")
            }
        }
        if let html {
            if host != nil { throw ValidationError("--html shows the whole fleet (each host's drift expands on the page); drop \(host!) or --html") }
            if output.json { throw ValidationError("--html and --json are two outputs; choose one") }
            if html.isEmpty || html.hasSuffix("/") { throw ValidationError("--html \"\(html)\" is not a file name; write e.g. --html public/index.html") }
        }
    }

    var staleLimit: TimeInterval {
        staleAfter.flatMap(TimeSpan.parse).map { TimeInterval($0.seconds) } ?? FleetStatus.defaultStaleAfter
    }

    func run() async throws {
        if history || since != nil { return try await runHistory() }
        if watch { try await watchForever() }
        throw ExitCode(try await once() ? 0 : 1)
    }

    func once() async throws -> Bool {
        let repo = repository.repository
        // An invalid fleet.yaml is no reason to go blind: show every host that could be read,
        // say what is wrong, and never call the fleet in sync.
        // The revision needs two git processes: they run while fleet.yaml is parsed.
        async let currentRevision = Git().revision(of: repo.root)
        let loaded = try repo.load()
        guard let spec = loaded.document.spec ?? loaded.document.partialSpec else { throw FleetValidationError(loaded.errors) }
        if !loaded.errors.isEmpty {
            Output.error("\(repo.specPath) has \(loaded.errors.count) error\(loaded.errors.count == 1 ? "" : "s"); run `berthctl validate`")
        }
        let revision = await currentRevision
        let names = host.map { [$0] } ?? spec.hosts.map(\.name)
        if let host, !spec.hosts.contains(where: { $0.name == host }) {
            throw BerthError(.notFound, "host \"\(host)\" is not in \(FleetRepository.specFile); known hosts: \(spec.hosts.map(\.name).joined(separator: ", "))")
        }
        let (found, note) = await FleetReports(repository: repo).load(from: reportOptions.location, hosts: names)
        if let note { Output.error("warning: \(note)") }
        let now = Date()
        let status = FleetStatus.compute(hosts: names, reports: found, revision: revision, now: now, staleAfter: staleLimit)
        if format == .prometheus {
            printMetrics(status, now: now)
            return loaded.errors.isEmpty && status.allInSync
        }
        if let html {
            let notes = (loaded.errors.isEmpty ? [] : ["\(FleetRepository.specFile) has \(loaded.errors.count) error\(loaded.errors.count == 1 ? "" : "s"): no host counts as in sync; run berthctl validate"])
                + (note.map { ["reports: \($0)"] } ?? [])
            try writePage(to: html, status: status, reports: found, spec: spec, now: now, notes: notes)
            return loaded.errors.isEmpty && status.allInSync
        }
        if let host {
            guard let checked = found[host], var report = checked.report else {
                throw BerthError(.notFound, "no readable report from \(host) (\(found[host]?.fetched.problem ?? "state unknown")); is its agent running with reportDir: or reportGit:?")
            }
            let row = status.rows[0]
            if printsJSON {
                if row.state == .stale || row.state == .unverified { report.state = row.state; report.message = row.message }
                try Output.json(report)
            } else {
                if row.state == .stale || row.state == .unverified { Output.print("\(row.state.rawValue): \(TerminalText.line(row.message))") }
                Output.print("trust:     report \(row.trust.word)\(row.trust.reason.map { " (\(TerminalText.line($0)))" } ?? "")")
                Output.print(ReportFormatter.detail(report))
            }
            return loaded.errors.isEmpty && status.allInSync
        }
        if printsJSON {
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
        return layout(["HOST", "STATE", "APPLIED", "DRIFT", "CERT EXPIRES", "LAST SEEN", "REPORT", "COMMITS"], rows)
    }

    /// `Output.table`'s layout, byte for byte, without its per-cell `padding(toLength:)`: that
    /// bridges each of 80,000 cells through NSString at 10,000 hosts (docs/scale.md). A cell that fits is padded with spaces to the same UTF-16 length
    /// `padding` pads to; one that does not (never seen: cells are escaped ASCII and `×`) still
    /// goes through `padding`, so the output cannot differ.
    static func layout(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        var out = ""
        out.reserveCapacity(all.count * (widths.reduce(0, +) + 2 * widths.count + 1))
        for (number, row) in all.enumerated() {
            if number > 0 { out += "\n" }
            for (i, cell) in row.enumerated() {
                if i > 0 { out += "  " }
                let length = cell.utf16.count
                if i == row.count - 1 {
                    out += cell
                } else if length <= widths[i] {
                    out += cell
                    out += String(repeating: " ", count: widths[i] - length)
                } else {
                    out += cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                }
            }
        }
        return out
    }
}
