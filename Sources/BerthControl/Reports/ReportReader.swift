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
            let path = "\(dir)/\(host).json"
            do {
                guard let json = try BoundedFile.read(path, limit: Self.limit, display: "\(host).json") else { continue }
                let signature = try? BoundedFile.readText(path + ".sig", limit: 64 << 10, display: "\(host).json.sig")
                out[host] = FetchedReport(host: host, json: json, signature: signature ?? nil)
            } catch {
                out[host] = FetchedReport(host: host, json: nil, signature: nil, problem: "\(error)")
            }
        }
        return out
    }

    /// Fetches the status refs (from `remote`, else the repository's `origin` when it has one)
    /// into `repository`, then reads each declared host's report and signature in one batch.
    public func fromRefs(repository: String, remote: String?, hosts: [String]) async -> (reports: [String: FetchedReport], fetchError: String?) {
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
        var requests: [String] = []
        for host in hosts {
            requests.append("refs/berth/status/\(host):\(host).json")
            requests.append("refs/berth/status/\(host):\(host).json.sig")
        }
        guard let result = try? await git.run(repository, arguments: ["cat-file", "--batch"], input: Array((requests.joined(separator: "\n") + "\n").utf8),
                                                 outputLimit: 4 << 30),
              result.succeeded else {
            return ([:], fetchError ?? "git cat-file --batch failed in \(repository)")
        }
        let objects = Self.parseBatch(result.stdout, count: requests.count)
        var out: [String: FetchedReport] = [:]
        for (index, host) in hosts.enumerated() {
            let json = objects[2 * index], sig = objects[2 * index + 1]
            switch json {
            case .missing: continue
            case .tooLarge(let size):
                out[host] = FetchedReport(host: host, json: nil, signature: nil, problem: "\(host).json in refs/berth/status/\(host) is \(ByteCount.format(size)); a report may be at most \(ByteCount.format(Self.limit))")
            case .blob(let bytes):
                var signature: String?
                if case .blob(let sigBytes) = sig { signature = String(validating: sigBytes, as: UTF8.self) }
                out[host] = FetchedReport(host: host, json: bytes, signature: signature)
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
