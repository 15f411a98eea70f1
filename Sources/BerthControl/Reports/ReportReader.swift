import BerthCore
import BerthHost
import Foundation

/// One host's report as found, before anything is believed: the exact bytes, the signature
/// beside them, and what was wrong with reading them.
public struct FetchedReport: Sendable {
    public var host: String
    public var json: [UInt8]?
    public var signature: String?
    /// Why the report could not be read (too large, a link, not JSON, filed under another name).
    public var problem: String?
    public var report: ReconcileReport?

    public init(host: String, json: [UInt8]?, signature: String?, problem: String? = nil) {
        self.host = host
        self.json = json
        self.signature = signature
        self.problem = problem
        guard problem == nil, let json else { return }
        do {
            let decoded = try ReconcileReport.decode(json)
            if decoded.host == host {
                report = decoded
            } else {
                self.problem = "the report is filed under \(host) but says it is from \"\(TerminalText.line(decoded.host))\""
            }
        } catch {
            self.problem = "the report is not valid JSON of a Berth report: \(error)"
        }
    }
}

/// Reads reports where agents put them, for the declared hosts only, defensively.
///
/// - A shared directory: `DIR/HOST.json` and `DIR/HOST.json.sig`, each a regular file (a link is
///   ignored: it could point anywhere, `/dev/zero` included) of at most 1 MiB.
/// - Git: exactly `refs/berth/status/HOST` of each declared host (any other ref is ignored), read
///   in one batch (`git cat-file --batch`): one process for the whole fleet, not one per host.
public struct ReportReader: Sendable {
    public var git: Git

    public init(git: Git = Git()) { self.git = git }

    public static let limit = BoundedFile.documentLimit

    public func fromDirectory(_ dir: String, hosts: [String]) -> [String: FetchedReport] {
        var out: [String: FetchedReport] = [:]
        for host in hosts {
            if let report = read(host, in: dir) { out[host] = report }
        }
        return out
    }

    /// One host's report from a shared directory; nil when it has none. Safe to call from many
    /// tasks at once: ``FleetReports`` reads, decodes and verifies hosts on every core.
    public func read(_ host: String, in dir: String) -> FetchedReport? {
        let path = "\(dir)/\(host).json"
        do {
            guard let json = try BoundedFile.read(path, limit: Self.limit, display: "\(host).json") else { return nil }
            let signature = try? BoundedFile.readText(path + ".sig", limit: 64 << 10, display: "\(host).json.sig")
            return FetchedReport(host: host, json: json, signature: signature ?? nil)
        } catch {
            return FetchedReport(host: host, json: nil, signature: nil, problem: "\(error)")
        }
    }

    /// Fetches the status refs (from `remote`, else the repository's `origin` when it has one)
    /// into `repository`, then reads each declared host's report and signature in one batch.
    public func fromRefs(repository: String, remote: String?, hosts: [String]) async -> (reports: [String: FetchedReport], fetchError: String?) {
        let (found, fetchError) = await refObjects(repository: repository, remote: remote, hosts: hosts)
        return (found.mapValues { $0.decoded() }, fetchError)
    }

    /// A report's bytes as one `git cat-file --batch` found them, not decoded yet: decoding is
    /// most of the cost of reading a fleet's reports, and ``FleetReports`` spreads it over the cores.
    public struct RefObject: Sendable {
        public var host: String
        public var json: [UInt8]?
        public var signature: String?
        public var problem: String?

        public func decoded() -> FetchedReport {
            FetchedReport(host: host, json: json, signature: signature, problem: problem)
        }
    }

    /// ``fromRefs(repository:remote:hosts:)`` without decoding: the fetch, then one batch.
    public func refObjects(repository: String, remote: String?, hosts: [String]) async -> (objects: [String: RefObject], fetchError: String?) {
        var fetchError: String?
        let source: String?
        if let remote {
            source = remote
        } else if let remotes = try? await git.run(repository, arguments: ["remote"]), remotes.output.split(separator: "\n").contains("origin") {
            source = "origin"
        } else {
            source = nil
        }
        if let source {
            let fetched = try? await git.run(repository, arguments: ["fetch", "--quiet", "--no-tags", "--prune", source, "+refs/berth/status/*:refs/berth/status/*"])
            if fetched?.succeeded != true { fetchError = "git fetch \(source) refs/berth/status/* failed: \(fetched?.errorSummary ?? "could not run git"); showing the refs fetched before" }
        }
        var requests: [UInt8] = []
        requests.reserveCapacity(hosts.count * 64)
        for host in hosts {
            requests += Array("refs/berth/status/\(host):\(host).json\nrefs/berth/status/\(host):\(host).json.sig\n".utf8)
        }
        // Each request names a ref in full. Without `core.warnAmbiguousRefs=false` git looks every
        // name up under all six of its DWIM prefixes (refs/NAME, refs/tags/NAME, ...) to warn about
        // ambiguity: 11 stat calls per request, a third of the batch's CPU at 10,000 hosts. The
        // name found is the same either way: the exact ref comes first.
        guard let result = try? await git.run(repository, arguments: ["-c", "core.warnAmbiguousRefs=false", "cat-file", "--batch"], input: requests,
                                              outputLimit: 4 << 30),
              result.succeeded else {
            return ([:], fetchError ?? "git cat-file --batch failed in \(repository)")
        }
        let objects = Self.parseBatch(result.stdout, count: 2 * hosts.count)
        var out: [String: RefObject] = [:]
        out.reserveCapacity(hosts.count)
        for (index, host) in hosts.enumerated() {
            let json = objects[2 * index], sig = objects[2 * index + 1]
            switch json {
            case .missing: continue
            case .tooLarge(let size):
                out[host] = RefObject(host: host, problem: "\(host).json in refs/berth/status/\(host) is \(ByteCount.format(size)); a report may be at most \(ByteCount.format(Self.limit))")
            case .blob(let bytes):
                var signature: String?
                if case .blob(let sigBytes) = sig { signature = String(validating: sigBytes, as: UTF8.self) }
                out[host] = RefObject(host: host, json: bytes, signature: signature)
            }
        }
        return (out, fetchError)
    }

    enum BatchObject: Equatable {
        case blob([UInt8])
        case missing
        case tooLarge(Int)
    }

    /// Splits `git cat-file --batch` output: `<oid> <type> <size>\n<contents>\n` or `<name> missing\n`.
    static func parseBatch(_ bytes: [UInt8], count: Int) -> [BatchObject] {
        var out: [BatchObject] = []
        var index = 0
        while out.count < count, index < bytes.count {
            guard let newline = bytes[index...].firstIndex(of: 0x0a) else { break }
            let header = String(decoding: bytes[index..<newline], as: UTF8.self).split(separator: " ")
            index = newline + 1
            guard header.count == 3, let size = Int(header[2]) else {
                out.append(.missing)
                continue
            }
            let end = min(index + size, bytes.count)
            if header[1] != "blob" {
                out.append(.missing)
            } else if size > limit {
                out.append(.tooLarge(size))
            } else {
                out.append(.blob(Array(bytes[index..<end])))
            }
            index = end + 1
        }
        while out.count < count { out.append(.missing) }
        return out
    }
}
