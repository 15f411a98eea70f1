import BerthCore
import BerthHost
import Foundation

/// The fleet view of `berthctl status`: every declared host with its last report, judged
/// against the repository's current revision and the clock.
public struct FleetStatus: Sendable, Codable {
    public struct Row: Sendable, Codable {
        public var host: String
        public var state: HostState
        public var appliedRevision: String?
        public var desiredRevision: String?
        public var driftSummary: String
        public var certificateExpires: Date?
        public var lastSeen: Date?
        public var message: String
    }

    public var revision: String
    public var rows: [Row]

    /// Every host in sync with the current revision: `berthctl status` exits 0 only then. A host
    /// whose last pass was `repaired` counts: it found drift, fixed it and verified dockerd, so it
    /// matches the revision now, and waiting for one more pass to say `in-sync` would only delay CI.
    public var allInSync: Bool {
        rows.allSatisfy { ($0.state == .inSync || $0.state == .repaired) && $0.appliedRevision == revision }
    }

    /// Joins declared hosts with reports: no report is `unknown`, one older than 3 × its interval is `stale`.
    public static func compute(hosts: [String], reports: [String: ReconcileReport], revision: String, now: Date) -> FleetStatus {
        let rows = hosts.map { name -> Row in
            guard let report = reports[name] else {
                return Row(host: name, state: .unknown, appliedRevision: nil, desiredRevision: nil, driftSummary: "-",
                           certificateExpires: nil, lastSeen: nil, message: "no report from this host yet")
            }
            var state = report.state
            var message = report.message
            if now.timeIntervalSince(report.time) > 3 * Double(max(report.intervalSeconds, 1)) {
                state = .stale
                message = "last report \(Int(now.timeIntervalSince(report.time)))s ago (interval \(report.intervalSeconds)s): was \(report.state.rawValue)"
            }
            let kinds = Dictionary(grouping: report.drift, by: \.kind).map { "\($0.key.rawValue)×\($0.value.count)" }.sorted()
            return Row(host: name, state: state, appliedRevision: report.appliedRevision, desiredRevision: report.desiredRevision,
                       driftSummary: kinds.isEmpty ? "-" : kinds.joined(separator: ","), certificateExpires: report.serverCertificate?.notAfter,
                       lastSeen: report.time, message: message)
        }
        return FleetStatus(revision: revision, rows: rows)
    }
}

/// Reads reports from a shared directory (`DIR/HOST.json`) or from `refs/berth/status/*` of a repository.
///
/// A report counts only where it is filed under its own host's name (`web-1.json`,
/// `refs/berth/status/web-1`): a host cannot speak for another, say to slip a CSR for another
/// host's name under `berthctl sign --all`.
public enum ReportSource {
    /// `DIR/HOST.json` when `directory` is given, else the status refs of `repository`.
    public static func load(directory: String?, repository: String, git: Git) async -> [String: ReconcileReport] {
        if let directory { return fromDirectory(directory) }
        return await fromRefs(repository: repository, git: git)
    }

    public static func fromDirectory(_ dir: String) -> [String: ReconcileReport] {
        var out: [String: ReconcileReport] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".json") {
            if let data = FileManager.default.contents(atPath: "\(dir)/\(name)"), let report = try? ReconcileReport.decode(Array(data)),
               "\(report.host).json" == name {
                out[report.host] = report
            }
        }
        return out
    }

    /// Fetches `refs/berth/status/*` from `origin` when the repository has one, then reads each ref's `HOST.json`.
    public static func fromRefs(repository: String, git: Git) async -> [String: ReconcileReport] {
        if let remote = try? await git.run(repository, arguments: ["remote"]), remote.output.split(separator: "\n").contains("origin") {
            _ = try? await git.run(repository, arguments: ["fetch", "--quiet", "origin", "+refs/berth/status/*:refs/berth/status/*"])
        }
        guard let refs = try? await git.run(repository, arguments: ["for-each-ref", "--format=%(refname)", "refs/berth/status/"]), refs.succeeded else { return [:] }
        var out: [String: ReconcileReport] = [:]
        for ref in refs.output.split(separator: "\n") {
            let host = String(ref.split(separator: "/").last ?? "")
            guard let blob = try? await git.run(repository, arguments: ["show", "\(ref):\(host).json"]), blob.succeeded,
                  let report = try? ReconcileReport.decode(blob.stdout), report.host == host else { continue }
            out[report.host] = report
        }
        return out
    }
}
