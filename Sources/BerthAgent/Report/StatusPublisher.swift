import BerthCore
import BerthHost
import Foundation
import Logging

/// Pushes a report to `refs/berth/status/HOST` of the report repository (`reportGit`; the
/// repository is `reportRepo`, else the fleet repository).
///
/// One ref per host, so a thousand hosts never contend for one branch: each push replaces only
/// its own ref. The ref is this host's ``StatusChain``: the current report at its head, the last
/// `reportHistory` entries behind it.
///
/// Race-free: the host is the only writer of its ref, its own publishes (a timer pass, `run`,
/// `publish` by hand) take turns on `/run/berth/publish.lock`, a report older than the chain's
/// head (two publishes that crossed) goes in its place by time rather than on top, and every push
/// is a compare-and-swap on the value the host last pushed (`--force-with-lease=REF:EXPECTED`,
/// checked by the server under its ref lock). When the ref holds something else, the publisher
/// looks (`git ls-remote`): a commit of its own chain (a push whose success was not recorded) is
/// replaced quietly; anything else is fetched, and the reports in it that this host signed (its
/// record of the chain was lost: a restored or reinstalled `/var/lib/berth`) are merged into its
/// chain by time (``adopt(_:ref:url:chain:git:dir:logger:)``); what it did not sign is dropped
/// with a warning in the journal, since nothing could vouch for it (`berthctl` verifies every
/// entry against the host's certificate anyway).
public struct StatusPublisher: Sendable {
    public var settings: AgentSettings
    public var runner: any CommandRunner
    public var attempts = 4
    /// Wall time between attempts doubles from this, with jitter (on `clock`).
    public var backoff: Duration = .milliseconds(200)
    public var clock: any Clock<Duration> = ContinuousClock()

    public init(settings: AgentSettings, runner: any CommandRunner) {
        self.settings = settings
        self.runner = runner
    }

    public static func ref(host: String) -> String { "refs/berth/status/\(host)" }

    /// Publishes, retrying with backoff; returns how many retries it took, or throws the error of
    /// the last attempt. `logger` hears of a ref someone else rewrote.
    @discardableResult
    public func publish(_ report: PublishedReport, summary: String, logger: Logger? = nil) async throws -> Int {
        guard let url = settings.reportRepositoryURL else {
            throw BerthError(.invalidInput, "reportGit needs a repository to push to: set repo: or reportRepo: in agent.yaml")
        }
        let lock = try await AgentLock.acquire(settings.hostPath(HostLayout.publishLock), timeout: settings.gitTimeout, clock: clock)
        defer { withExtendedLifetime(lock) {} }
        // Work in a private scratch repository, so a push never touches the fleet checkout.
        let dir = settings.hostPath(HostLayout.statusRepository)
        let git = settings.git(runner: runner)
        if !FileManager.default.fileExists(atPath: "\(dir)/HEAD") {
            try AtomicFile.makeDirectories(dir, mode: 0o700)
            try await git.run(dir, "init", "-q", "--bare")
        }
        let json = try await hashObject(report.json, git: git, dir: dir)
        let store = StatusChain.store(root: settings.root)
        var chain = store.read().flatMap { $0.host == settings.host ? $0 : nil } ?? StatusChain(host: settings.host)
        let time = report.time ?? Date()
        var entry = StatusChain.Entry(commit: "", tree: "", json: json, time: Int(time.timeIntervalSince1970),
                                      subject: "berth status \(settings.host): \(summary)", repeated: !report.event,
                                      exactTime: time.timeIntervalSince1970)
        let placement = StatusChain.placement(of: entry, in: chain.entries)
        if placement == .append || placement == .insert {
            var entries = ["100644 blob \(json)\t\(settings.host).json"]
            if let signature = report.signature {
                entries.append("100644 blob \(try await hashObject(Array(signature.utf8), git: git, dir: dir))\t\(settings.host).json.sig")
            }
            entry.tree = try await runner.check(git.command(dir, ["mktree"], input: Array((entries.joined(separator: "\n") + "\n").utf8))).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if placement == .insert, let inserted = StatusChain.inserting(entry, into: chain.entries, limit: settings.reportHistory) {
                // Rare (crossed publishes): the chain is committed again with the entry in its place.
                if let rebuilt = try? await rebuild(inserted, git: git, dir: dir) {
                    chain.entries = rebuilt
                } else {
                    chain.entries = try await add(entry, to: chain.entries, git: git, dir: dir)
                }
            } else if placement == .append {
                chain.entries = try await add(entry, to: chain.entries, git: git, dir: dir)
            }
            try await git.run(dir, "update-ref", StatusChain.localRef(host: settings.host), chain.head!)
        }
        // Otherwise the chain holds this report already, or a newer one heads it: push the head again.
        guard let head = chain.head else { throw BerthError(.commandFailed, "the status chain of \(settings.host) is empty after adding a report") }
        chain.publishesSinceGC += 1
        try? store.write(chain)
        let retries = try await push(head, chain: &chain, to: url, git: git, dir: dir, logger: logger)
        if chain.publishesSinceGC >= 200 {
            // Every publish leaves a few loose objects here; let git pack and prune them now and then.
            _ = try? await git.run(dir, arguments: ["gc", "--auto", "--quiet"])
            chain.publishesSinceGC = 0
        }
        try? store.write(chain)
        return retries
    }

    /// Publishes and logs a failure instead of throwing: a report that cannot be pushed must not
    /// fail the pass that made it.
    public func publishLogged(_ report: PublishedReport, summary: String, logger: Logger) async {
        do {
            try await publish(report, summary: summary, logger: logger)
        } catch {
            logger.error("could not publish the report: \(error)")
        }
    }

    // MARK: The chain

    func hashObject(_ bytes: [UInt8], git: Git, dir: String) async throws -> String {
        try await runner.check(git.command(dir, ["hash-object", "-w", "--stdin"], input: bytes)).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The chain's entries with `entry` committed at the head (``StatusChain/next(_:adding:limit:)``).
    func add(_ entry: StatusChain.Entry, to entries: [StatusChain.Entry], git: Git, dir: String) async throws -> [StatusChain.Entry] {
        var (next, rewrites) = StatusChain.next(entries, adding: entry, limit: settings.reportHistory)
        if rewrites && next.count > 1 {
            if let rebuilt = try? await rebuild(next, git: git, dir: dir) { return rebuilt }
            next = [entry]  // the scratch repository lost the chain's objects: start a new one
        }
        let parent = next.count > 1 ? next[next.count - 2].commit : nil
        do {
            next[next.count - 1].commit = try await commitTree(entry, parent: parent, git: git, dir: dir)
        } catch where parent != nil {
            next = [entry]
            next[0].commit = try await commitTree(entry, parent: nil, git: git, dir: dir)
        }
        return next
    }

    func commitTree(_ entry: StatusChain.Entry, parent: String?, git: Git, dir: String) async throws -> String {
        var command = git.command(dir, ["commit-tree", entry.tree] + (parent.map { ["-p", $0] } ?? []) + ["-m", entry.subject])
        command.environment["GIT_AUTHOR_DATE"] = "@\(entry.time) +0000"
        command.environment["GIT_COMMITTER_DATE"] = "@\(entry.time) +0000"
        return try await runner.check(command).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Commits `entries` again from a new root, in one `git fast-import`.
    func rebuild(_ entries: [StatusChain.Entry], git: Git, dir: String) async throws -> [StatusChain.Entry] {
        let marks = "\(dir)/berth-rebuild-marks"
        let committer = "\(Git.environment["GIT_COMMITTER_NAME"] ?? "berth") <\(Git.environment["GIT_COMMITTER_EMAIL"] ?? "berth@localhost")>"
        let stream = StatusChain.rebuildStream(entries, ref: StatusChain.localRef(host: settings.host), committer: committer)
        try await runner.check(git.command(dir, ["fast-import", "--quiet", "--force", "--export-marks=\(marks)"], input: stream))
        defer { try? AtomicFile.remove(marks) }
        let text = try BoundedFile.readText(marks, limit: 1 << 20) ?? ""
        var commits: [Int: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0].hasPrefix(":"), let mark = Int(parts[0].dropFirst()) { commits[mark] = String(parts[1]) }
        }
        var out = entries
        for index in out.indices {
            guard let commit = commits[index + 1] else { throw BerthError(.commandFailed, "git fast-import left no commit for entry \(index + 1)") }
            out[index].commit = commit
        }
        return out
    }

    // MARK: The push

    /// Pushes `head` as a compare-and-swap on what this host last pushed; see the type's comment.
    func push(_ head: String, chain: inout StatusChain, to url: String, git: Git, dir: String, logger: Logger?) async throws -> Int {
        let ref = Self.ref(host: settings.host)
        var head = head
        // Empty: the ref must not exist yet (a first push to this repository).
        var expected = chain.pushedTo == url ? chain.pushed ?? "" : ""
        var lastError: (any Error)?
        for attempt in 0..<attempts {
            let result = try await git.run(dir, arguments: ["push", "--quiet", "--force-with-lease=\(ref):\(expected)", url, "\(head):\(ref)"])
            if result.succeeded {
                chain.pushed = head
                chain.pushedTo = url
                return attempt
            }
            lastError = BerthError(.commandFailed, "git push \(ref) to \(url) failed: \(result.errorSummary)")
            if let remote = try? await remoteValue(of: ref, at: url, git: git, dir: dir), remote != expected {
                // Not a transport failure: the ref holds something else than this host last pushed.
                if remote == head {
                    chain.pushed = head
                    chain.pushedTo = url
                    return attempt
                }
                if remote.isEmpty {
                    logger?.warning("\(ref) at \(url) was deleted by someone else; publishing this host's reports again")
                } else if !chain.entries.contains(where: { $0.commit == remote }) {
                    // Not a commit of the chain this host keeps: its record of the chain was lost, or
                    // someone else wrote the ref. Its own reports there are kept; the rest is replaced.
                    head = await adopt(remote, ref: ref, url: url, chain: &chain, git: git, dir: dir, logger: logger) ?? head
                }
                expected = remote
                continue
            }
            if attempt + 1 < attempts {
                let jitter = Duration.milliseconds(Int.random(in: 0...200))
                try? await clock.sleep(for: backoff * (1 << attempt) + jitter)
            }
        }
        throw lastError!
    }

    /// The commit `ref` names at `url`; empty when it does not exist. Throws when the remote cannot be asked.
    func remoteValue(of ref: String, at url: String, git: Git, dir: String) async throws -> String {
        let result = try await git.run(dir, arguments: ["ls-remote", url, ref])
        guard result.succeeded else { throw BerthError(.commandFailed, "git ls-remote \(url) failed: \(result.errorSummary)") }
        for line in result.output.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2 && parts[1] == ref { return String(parts[0]) }
        }
        return ""
    }
}
