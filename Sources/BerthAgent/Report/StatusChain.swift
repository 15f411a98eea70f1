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
