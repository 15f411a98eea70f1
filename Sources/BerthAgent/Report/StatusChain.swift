import BerthCore
import BerthHost
import Foundation

/// This host's reports as a chain of commits, newest at the head of `refs/berth/status/HOST`:
/// each commit's tree holds one `HOST.json` and its `HOST.json.sig`, its parent the entry before.
/// `git log refs/berth/status/HOST` is the host's history; `berthctl status HOST --history`
/// reads and verifies every entry.
///
/// The chain is built in the agent's scratch repository (`/var/lib/berth/status-repo`, the head
/// kept under `refs/berth/chain/HOST`) and described by a small state file, so a pass needs no
/// git call to know its head, its length, or what it last pushed:
///
/// - an entry (``PublishedReport/event``) is appended; a repeat (a pass like the last, that did
///   nothing) replaces a repeat at the head, so the head is always the current report while the
///   chain only grows on changes;
/// - past `reportHistory` entries the oldest go: the survivors are committed again from a new
///   root, with their own trees, messages and dates, in one `git fast-import`. That rewrite (and
///   the garbage commits it leaves on the server) happens only when a full chain gets an entry;
/// - ``pushed`` is the commit the remote ref last had from this host: the next push is a
///   compare-and-swap on it (`--force-with-lease`), see ``StatusPublisher``.
struct StatusChain: Sendable, Codable, Equatable {
    struct Entry: Sendable, Codable, Equatable {
        var commit: String
        var tree: String
        /// The `HOST.json` blob: a report published twice is recognised and not added again.
        var json: String
        /// Seconds since 1970 (UTC): the commit's date.
        var time: Int
        var subject: String
        /// A repeat of the entry before it, replaced by the next repeat.
        var repeated: Bool
        /// The report's time to the sub-second (`time` is the commit's, in whole seconds): orders
        /// two reports of one second. Absent in chains recorded before it existed.
        var exactTime: Double?

        /// When the report was made, as precisely as known.
        var sortTime: Double { exactTime ?? Double(time) }
    }

    var host: String
    /// Oldest first; the last is the head.
    var entries: [Entry] = []
    /// The commit this host last pushed, and where (a new `reportRepo` starts afresh).
    var pushed: String?
    var pushedTo: String?
    /// Publishes since the scratch repository was last offered to `git gc --auto`.
    var publishesSinceGC = 0

    init(host: String) { self.host = host }

    var head: String? { entries.last?.commit }

    static func store(root: String) -> StateFile<StatusChain> {
        StateFile(path: HostLayout.path(HostLayout.statusChainState, under: root))
    }

    /// The local ref that keeps the chain's objects alive in the scratch repository.
    static func localRef(host: String) -> String { "refs/berth/chain/\(host)" }

    /// The entries the chain holds after adding `entry`: a repeat at the head makes way for it,
    /// and only the newest `limit` stay (at least the new one).
    static func next(_ entries: [Entry], adding entry: Entry, limit: Int) -> (entries: [Entry], rewrites: Bool) {
        var kept = entries
        if kept.last?.repeated == true { kept.removeLast() }
        let room = max(1, limit) - 1
        if kept.count > room {
            return (Array(kept.suffix(room)) + [entry], true)
        }
        return (kept + [entry], false)
    }

    /// Where a report goes in the chain.
    enum Placement: Equatable {
        /// The chain holds this report already (a publish again, by hand or after a failed push).
        case present
        /// Newer than the head: the usual case.
        case append
        /// Older than the head: two publishes of this host crossed (each pass publishes after it
        /// lets go of the pass lock), so the newer pass pushed first. An entry goes in its place
        /// by time; the head stays the newest report.
        case insert
        /// An older repeat: the head is newer than it and says at least as much. Nothing to add.
        case obsolete
    }

    static func placement(of entry: Entry, in entries: [Entry]) -> Placement {
        if entries.contains(where: { $0.json == entry.json }) { return .present }
        guard let last = entries.last, entry.sortTime < last.sortTime else { return .append }
        return entry.repeated ? .obsolete : .insert
    }

    /// `entries` with `entry` in its place by time, the newest `limit` kept; nil when `entry` is
    /// older than every entry of a full chain (then nothing changes).
    static func inserting(_ entry: Entry, into entries: [Entry], limit: Int) -> [Entry]? {
        var all = entries
        all.insert(entry, at: all.firstIndex { $0.sortTime > entry.sortTime } ?? all.count)
        let kept = Array(all.suffix(max(1, limit)))
        return kept.contains(entry) ? kept : nil
    }

    /// One chain of `local` and `adopted` (entries of this host found on the server, see
    /// ``StatusPublisher``), each report once, by time, the newest `limit` kept. Only the head may
    /// stay a repeat: any other entry is history now.
    static func merged(_ local: [Entry], adopted: [Entry], limit: Int) -> [Entry] {
        var seen = Set<String>()
        var all: [Entry] = []
        for entry in (local + adopted).sorted(by: { $0.sortTime < $1.sortTime }) where seen.insert(entry.json).inserted {
            all.append(entry)
        }
        for index in all.indices.dropLast() { all[index].repeated = false }
        return Array(all.suffix(max(1, limit)))
    }

    /// The `git fast-import` stream that commits `entries` again as a new chain, oldest first from
    /// a new root, onto `ref`; marks `:1`…`:n` name the new commits.
    static func rebuildStream(_ entries: [Entry], ref: String, committer: String) -> [UInt8] {
        var out = "reset \(ref)\n"
        for (index, entry) in entries.enumerated() {
            let message = Array(entry.subject.utf8)
            out += "commit \(ref)\nmark :\(index + 1)\n"
            out += "author \(committer) \(entry.time) +0000\ncommitter \(committer) \(entry.time) +0000\n"
            out += "data \(message.count)\n\(entry.subject)\n"
            out += "M 040000 \(entry.tree) \"\"\n\n"
        }
        return Array(out.utf8)
    }
}
