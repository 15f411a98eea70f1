import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// One past report of a host, read and judged like the current one.
public struct HistoryEntry: Sendable, Codable {
    public var time: Date
    /// What the report says; `unverified` when its signature does not verify (it is shown, never believed).
    public var state: HostState
    public var appliedRevision: String?
    public var desiredRevision: String?
    public var driftSummary: String
    public var drift: [DriftItem]
    public var actions: [ActionRecord]
    public var message: String
    public var trust: ReportTrust
    /// The host's current report (`HOST.json`, or the head of its status ref).
    public var current: Bool

    /// Whether the entry is believed: signed by the host's certificate, or by its pending CSR's key.
    public var believed: Bool { trust == .verified || trust == .pending }
}

/// A change of a host's state, between two believed entries of its history.
public struct StateChange: Sendable, Codable, Equatable {
    public var time: Date
    /// nil for the host's oldest entry: nothing older is kept (a new host, or pruned history).
    public var from: HostState?
    public var to: HostState
    public var driftSummary: String
    public var message: String
}

/// A host's history: its past reports, oldest first, the current one last.
public struct HostHistory: Sendable, Codable {
    public var host: String
    public var entries: [HistoryEntry]

    public init(host: String, entries: [HistoryEntry]) {
        self.host = host
        self.entries = entries
    }

    /// State changes among believed entries; with `since`, those at or after it (comparing with
    /// the last believed entry before it, so a change just inside the window shows where it came from).
    public func changes(since: Date? = nil) -> [StateChange] {
        var out: [StateChange] = []
        var previous: HistoryEntry?
        for entry in entries where entry.believed {
            if previous?.state != entry.state, since.map({ entry.time >= $0 }) ?? true {
                out.append(StateChange(time: entry.time, from: previous?.state, to: entry.state,
                                       driftSummary: entry.driftSummary, message: entry.message))
            }
            previous = entry
        }
        return out
    }
}

/// Reads hosts' report histories where agents keep them, checking every entry's signature as
/// ``FleetReports`` checks the current report (against `certs/HOST.pem`; an entry signed before a
/// renewal, against the certificate of the revision it applied).
///
/// - A report directory: `DIR/history/HOST/SEQ-TIME.json` with `.sig` (``ReportHistoryLayout``),
///   then `DIR/HOST.json`, the current report, when it is not the newest entry already.
/// - Status refs: the first-parent chain of `refs/berth/status/HOST`, head last. One `git log`
///   walks every chain and one `git cat-file --batch` reads the entries wanted, whatever the
///   number of hosts.
///
/// With `since`, entries older than it are not read, except the one just before it per host (the
/// state a change in the window came from). Names and commit dates decide what is read; what is
/// shown is what the signed reports say.
public struct ReportHistoryReader: Sendable {
    public var repository: FleetRepository
    public var git: Git
    /// At most this many entries per host are read.
    public var limit = ReportHistoryReader.defaultLimit

    public static let defaultLimit = 10_000

    public init(repository: FleetRepository, git: Git = Git()) {
        self.repository = repository
        self.git = git
    }

    /// The histories of `hosts`, and a note when the refs could not be fetched.
    public func load(hosts: [String], from location: ReportLocation, since: Date? = nil) async -> (histories: [String: HostHistory], note: String?) {
        let (raw, note) = await read(hosts, from: location, since: since, fetch: true)
        var out = await verify(hosts, raw: raw)
        if let since {
            // The entry just before the window says which state a change in it came from. When that
            // one is not believed (forged, or signed by a key nothing vouches for), the state before
            // the window is unknown: read those hosts' whole history instead. Rare, so cheap.
            let unsure = hosts.filter { host in
                guard let entries = out[host]?.entries, let first = entries.firstIndex(where: \.believed) else { return false }
                return first > 0 && entries[first].time >= since
            }
            if !unsure.isEmpty {
                let again = await verify(unsure, raw: await read(unsure, from: location, since: nil, fetch: false).raw)
                for host in unsure { out[host] = again[host] }
            }
        }
        return (out, note)
    }

    /// The entries of `hosts` as found, and a note when the refs could not be fetched.
    func read(_ hosts: [String], from location: ReportLocation, since: Date?, fetch: Bool) async -> (raw: [String: [FetchedEntry]], note: String?) {
        switch location {
        case .directory(let dir):
            var raw: [String: [FetchedEntry]] = [:]
            for host in hosts { raw[host] = directoryEntries(host, in: dir, since: since) }
            return (raw, nil)
        case .refs(let remote):
            return await refEntries(hosts, remote: fetch ? remote : nil, since: since, fetch: fetch)
        }
    }

    /// Each entry judged against the host's certificate, or the one of the revision it applied.
    func verify(_ hosts: [String], raw: [String: [FetchedEntry]]) async -> [String: HostHistory] {
        var out: [String: HostHistory] = [:]
        var retry: [(host: String, index: Int, revision: String)] = []
        for host in hosts {
            let certificate = (try? repository.readIfPresent(FleetLayout.serverCertificate(host), limit: BoundedFile.pemLimit)) ?? nil
            let fingerprint = certificate.flatMap { try? Fingerprint.sha256(ofCertificatePEM: $0) }
            var entries: [HistoryEntry] = []
            for fetched in raw[host] ?? [] {
                let trust = ReportVerifier.check(fetched.report, certificate: certificate)
                guard let entry = Self.entry(fetched, trust: trust) else { continue }
                if case .unverified = trust, let report = fetched.report.report, let applied = report.appliedRevision,
                   applied.count == 40, applied.allSatisfy(\.isHexDigit), report.serverCertificate?.sha256 != fingerprint {
                    retry.append((host, entries.count, applied))
                }
                entries.append(entry)
            }
            out[host] = HostHistory(host: host, entries: entries)
        }
        await verifyWithOlderCertificates(retry, raw: raw, into: &out)
        return out
    }

    // MARK: Entries

    /// A report as found, before it is believed.
    struct FetchedEntry: Sendable {
        var report: FetchedReport
        var current: Bool
    }

    static func entry(_ fetched: FetchedEntry, trust: ReportTrust) -> HistoryEntry? {
        guard let report = fetched.report.report else { return nil }
        let believed = trust == .verified || trust == .pending
        return HistoryEntry(time: report.time, state: believed ? report.state : .unverified, appliedRevision: report.appliedRevision,
                            desiredRevision: report.desiredRevision, driftSummary: FleetStatus.driftSummary(report.drift), drift: report.drift,
                            actions: report.actions,
                            message: believed ? report.message : "not signed by the host's key: \(trust.reason ?? "")", trust: trust,
                            current: fetched.current)
    }

    /// Entries of a report directory, oldest first; links and files that are not Berth's are ignored.
    func directoryEntries(_ host: String, in dir: String, since: Date?) -> [FetchedEntry] {
        let historyDir = "\(dir)/\(ReportHistoryLayout.hostDirectory(host))"
        var info = stat()
        var names: [(sequence: Int, time: Date, name: String)] = []
        if lstat(historyDir, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            names = ((try? FileManager.default.contentsOfDirectory(atPath: historyDir)) ?? [])
                .compactMap { name in ReportHistoryLayout.parse(name).map { ($0.sequence, $0.time, name) } }
                .sorted { $0.sequence < $1.sequence }
        }
        names = Array(names.suffix(limit))
        if let since, let first = names.firstIndex(where: { $0.time >= since }) {
            names = Array(names[max(0, first - 1)...])
        } else if since != nil {
            names = Array(names.suffix(1))
        }
        var out: [FetchedEntry] = []
        for item in names {
            let path = "\(historyDir)/\(item.name)"
            let display = "\(ReportHistoryLayout.hostDirectory(host))/\(item.name)"
            do {
                guard let json = try BoundedFile.read(path, limit: ReportReader.limit, display: display) else { continue }
                let signature = try? BoundedFile.readText(path + ".sig", limit: 64 << 10, display: display + ".sig")
                out.append(FetchedEntry(report: FetchedReport(host: host, json: json, signature: signature ?? nil), current: false))
            } catch {
                out.append(FetchedEntry(report: FetchedReport(host: host, json: nil, signature: nil, problem: "\(error)"), current: false))
            }
        }
        if let current = ReportReader(git: git).read(host, in: dir) {
            if let last = out.last, last.report.json != nil, last.report.json == current.json {
                out[out.count - 1].current = true
            } else {
                out.append(FetchedEntry(report: current, current: true))
            }
        }
        return out
    }

    /// Entries of the status refs: fetch, walk every chain in one `git log`, read in one batch.
    func refEntries(_ hosts: [String], remote: String?, since: Date?, fetch fetching: Bool = true) async -> ([String: [FetchedEntry]], String?) {
        let root = repository.root
        var note = fetching ? await fetch(remote: remote) : nil
        let refs = hosts.map { StatusRef.name($0) }
        guard let listed = try? await git.run(root, arguments: ["for-each-ref", "--format=%(refname) %(objectname)", "refs/berth/status/"]),
              listed.succeeded else {
            return ([:], note ?? "git for-each-ref failed in \(root)")
        }
        let declared = Set(refs)
        var heads: [String: String] = [:]
        for line in listed.output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, declared.contains(String(parts[0])) { heads[String(parts[0])] = String(parts[1]) }
        }
        guard !heads.isEmpty else { return ([:], note) }
        // Every chain at once: commit, first parent, commit date.
        let input = Array((heads.values.sorted().joined(separator: "\n") + "\n").utf8)
        guard let log = try? await git.run(root, arguments: ["log", "--stdin", "--format=%H %P %ct"], input: input, outputLimit: 1 << 30),
              log.succeeded else {
            return ([:], note ?? "git log of refs/berth/status/* failed in \(root)")
        }
        var parent: [Substring: (parent: Substring?, time: Int)] = [:]
        for line in log.stdout.split(separator: 0x0a) {
            let parts = String(decoding: line, as: UTF8.self).split(separator: " ")
            guard parts.count >= 2, let time = Int(parts.last!) else { continue }
            parent[parts[0]] = (parts.count > 2 ? parts[1] : nil, time)
        }
        var wanted: [(host: String, commit: String)] = []
        for host in hosts {
            guard let head = heads[StatusRef.name(host)] else { continue }
            var chain: [(commit: Substring, time: Int)] = []
            var next: Substring? = Substring(head)
            var seen = Set<Substring>()
            while let commit = next, chain.count < limit, seen.insert(commit).inserted, let info = parent[commit] {
                chain.append((commit, info.time))
                if let since, Double(info.time) < since.timeIntervalSince1970 { break }  // the one before the window
                next = info.parent
            }
            wanted += chain.reversed().map { (host, String($0.commit)) }
        }
        var requests: [UInt8] = []
        for item in wanted { requests += Array("\(item.commit):\(item.host).json\n\(item.commit):\(item.host).json.sig\n".utf8) }
        guard let batch = try? await git.run(root, arguments: ["cat-file", "--batch"], input: requests, outputLimit: 4 << 30), batch.succeeded else {
            return ([:], note ?? "git cat-file --batch failed in \(root)")
        }
        let objects = ReportReader.parseBatch(batch.stdout, count: 2 * wanted.count)
        var out: [String: [FetchedEntry]] = [:]
        for (index, item) in wanted.enumerated() {
            let isHead = heads[StatusRef.name(item.host)] == item.commit
            let report: FetchedReport
            switch objects[2 * index] {
            case .missing:
                report = FetchedReport(host: item.host, json: nil, signature: nil, problem: "commit \(item.commit.prefix(12)) of \(StatusRef.name(item.host)) holds no \(item.host).json")
            case .tooLarge(let size):
                report = FetchedReport(host: item.host, json: nil, signature: nil, problem: "\(item.host).json in commit \(item.commit.prefix(12)) is \(ByteCount.format(size)); a report may be at most \(ByteCount.format(ReportReader.limit))")
            case .blob(let bytes):
                var signature: String?
                if case .blob(let sig) = objects[2 * index + 1] { signature = String(validating: sig, as: UTF8.self) }
                report = FetchedReport(host: item.host, json: bytes, signature: signature)
            }
            out[item.host, default: []].append(FetchedEntry(report: report, current: isHead))
        }
        if note == nil && out.isEmpty && !wanted.isEmpty { note = "no report could be read from refs/berth/status/*" }
        return (out, note)
    }

    /// `git fetch` of the status refs, as ``ReportReader`` does; a note when it failed.
    func fetch(remote: String?) async -> String? {
        let root = repository.root
        let source: String?
        if let remote {
            source = remote
        } else if let remotes = try? await git.run(root, arguments: ["remote"]), remotes.output.split(separator: "\n").contains("origin") {
            source = "origin"
        } else {
            source = nil
        }
        guard let source else { return nil }
        let fetched = try? await git.run(root, arguments: ["fetch", "--quiet", "--no-tags", "--prune", source, "+refs/berth/status/*:refs/berth/status/*"])
        return fetched?.succeeded == true ? nil : "git fetch \(source) refs/berth/status/* failed: \(fetched?.errorSummary ?? "could not run git"); showing the refs fetched before"
    }

    /// Entries signed by the key of an earlier certificate (before a renewal): checked against
    /// `certs/HOST.pem` at the revision each applied, read in one batch.
    func verifyWithOlderCertificates(_ retry: [(host: String, index: Int, revision: String)], raw: [String: [FetchedEntry]],
                                     into out: inout [String: HostHistory]) async {
        guard !retry.isEmpty else { return }
        let requests = retry.map { "\($0.revision):\(FleetLayout.serverCertificate($0.host))" }
        guard let result = try? await git.run(repository.root, arguments: ["cat-file", "--batch"], input: Array((requests.joined(separator: "\n") + "\n").utf8)),
              result.succeeded else { return }
        for (item, object) in zip(retry, ReportReader.parseBatch(result.stdout, count: requests.count)) {
            guard case .blob(let bytes) = object, let pem = String(validating: bytes, as: UTF8.self),
                  let history = out[item.host], item.index < history.entries.count else { continue }
            // The same fetched entries, in the same order, skipping unreadable ones as `load` did.
            let readable = (raw[item.host] ?? []).filter { $0.report.report != nil }
            guard item.index < readable.count, let report = readable[item.index].report.report,
                  report.serverCertificate?.sha256 == (try? Fingerprint.sha256(ofCertificatePEM: pem)),
                  ReportVerifier.check(readable[item.index].report, certificate: pem) == .verified,
                  let entry = Self.entry(readable[item.index], trust: .verified) else { continue }
            out[item.host]!.entries[item.index] = entry
        }
    }
}

/// The status ref of a host, as the agent names it.
enum StatusRef {
    static func name(_ host: String) -> String { "refs/berth/status/\(host)" }
}
