import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl status HOST --history` and `berthctl status --since DURATION`: what the hosts'
/// report histories say (docs/operations.md#history), every entry verified like the current report.
extension Status {
    func validateHistory() throws {
        if history && host == nil {
            throw ValidationError("--history lists one host's past reports; name it: berthctl status HOST --history (for the whole fleet: --since 24h)")
        }
        if let since, TimeSpan.parse(since).map({ $0.seconds > 0 }) != true {
            throw ValidationError("--since \"\(since)\" is not a duration; write e.g. 24h, 90m or 7d")
        }
        if history || since != nil {
            if watch { throw ValidationError("--watch redraws the current state; it does not combine with --history or --since") }
            if html != nil { throw ValidationError("--html shows the current state; it does not combine with --history or --since") }
            if format == .prometheus { throw ValidationError("--format prometheus shows the current state; it does not combine with --history or --since") }
        }
    }

    /// The start of the `--since` window.
    func windowStart(now: Date) -> Date? {
        since.flatMap(TimeSpan.parse).map { now.addingTimeInterval(-TimeInterval($0.seconds)) }
    }

    func runHistory() async throws {
        let repo = repository.repository
        let loaded = try repo.load()
        guard let spec = loaded.document.spec ?? loaded.document.partialSpec else { throw FleetValidationError(loaded.errors) }
        if !loaded.errors.isEmpty {
            Output.error("\(repo.specPath) has \(loaded.errors.count) error\(loaded.errors.count == 1 ? "" : "s"); run `berthctl validate`")
        }
        if let host, !spec.hosts.contains(where: { $0.name == host }) {
            throw BerthError(.notFound, "host \"\(host)\" is not in \(FleetRepository.specFile); known hosts: \(spec.hosts.map(\.name).joined(separator: ", "))")
        }
        let names = host.map { [$0] } ?? spec.hosts.map(\.name)
        let now = Date()
        let start = windowStart(now: now)
        let (histories, note) = await ReportHistoryReader(repository: repo).load(hosts: names, from: reportOptions.location, since: start)
        if let note { Output.error("warning: \(note)") }
        let location = reportOptions.describe(repository: repo.root)

        if let host, history {
            var entries = histories[host]?.entries ?? []
            if let start {
                // The entry just before the window was read for where the first change came from.
                let first = entries.firstIndex { $0.time >= start } ?? entries.count
                entries = Array(entries[max(0, first - 1)...])
            }
            guard !entries.isEmpty else {
                throw BerthError(.notFound, "no report history from \(host) in \(location); is its agent running with reportDir: or reportGit:?")
            }
            let shown = HostHistory(host: host, entries: entries)
            if output.json { try Output.json(shown) } else { Output.print(Self.historyTable(shown)) }
            return
        }

        let window = start ?? .distantPast
        let changed = names.compactMap { name -> HostChanges? in
            guard let history = histories[name] else { return nil }
            let changes = history.changes(since: window)
            guard !changes.isEmpty else { return nil }
            return HostChanges(host: name, changes: changes, current: history.entries.last { $0.believed }?.state ?? .unverified)
        }
        if output.json {
            try Output.json(changed)
            return
        }
        let span = since ?? ""
        guard !changed.isEmpty else {
            Output.print("no host changed state since \(UTCTime.format(window)) (\(span)), in \(location)")
            return
        }
        Output.print(Self.changesTable(changed))
    }

    /// One host's changes in the window, for `--since`.
    struct HostChanges: Codable {
        var host: String
        var changes: [StateChange]
        /// The state of its newest believed report.
        var current: HostState
    }

    /// One line per entry, oldest first: its time, state, what changed, the revision, the drift
    /// and whether the report verified. Every field came from a host and is escaped.
    static func historyTable(_ history: HostHistory) -> String {
        var previous: HostState?
        let rows = history.entries.map { entry -> [String] in
            var change = ""
            if entry.believed {
                if previous == nil { change = "(oldest kept)" } else if previous != entry.state { change = "\(previous!.rawValue) → \(entry.state.rawValue)" }
                previous = entry.state
            }
            let actions = entry.actions.isEmpty ? "" : " [\(entry.actions.count) action\(entry.actions.count == 1 ? "" : "s")]"
            return [UTCTime.format(entry.time) + (entry.current ? " *" : ""), entry.state.rawValue, change,
                    ReportFormatter.short(entry.appliedRevision), TerminalText.line(entry.driftSummary), entry.trust.word,
                    TerminalText.line(entry.message) + actions]
        }
        return Output.table(["TIME (* current)", "STATE", "CHANGE", "APPLIED", "DRIFT", "REPORT", "MESSAGE"], rows)
    }

    /// One line per host that changed state in the window.
    static func changesTable(_ hosts: [HostChanges]) -> String {
        let rows = hosts.map { host -> [String] in
            let last = host.changes.last!
            // A host that flapped all day shows its last few states.
            let shown = host.changes.suffix(5)
            let path = ([shown.first!.from?.rawValue ?? "-"] + shown.map(\.to.rawValue)).joined(separator: " → ")
            let states = host.changes.count > shown.count ? "… " + path : path
            return [TerminalText.line(host.host), "\(host.changes.count)", states, UTCTime.format(last.time), host.current.rawValue,
                    TerminalText.line(last.driftSummary)]
        }
        return Output.table(["HOST", "CHANGES", "STATES", "LAST CHANGE", "NOW", "DRIFT AT LAST CHANGE"], rows)
    }
}
