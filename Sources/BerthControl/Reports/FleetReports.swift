import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// Where a fleet's reports are: a shared directory, or status refs (fetched from the report
/// repository, `--report-repo URL`, else from the fleet repository's `origin`).
public enum ReportLocation: Sendable, Equatable {
    case directory(String)
    case refs(remote: String?)
}

/// Reads every declared host's report and checks its signature against the host's certificate.
///
/// At fleet scale (docs/scale.md) the cost is per host: decoding the JSON, reading and parsing
/// `certs/HOST.pem`, one ECDSA verification. Those steps share nothing between hosts, so they
/// run on every core, each task taking a contiguous run of hosts; Git is still asked once for
/// the whole fleet (one `git cat-file --batch`), never once per host.
public struct FleetReports: Sendable {
    public var repository: FleetRepository
    public var git: Git

    public init(repository: FleetRepository, git: Git = Git()) {
        self.repository = repository
        self.git = git
    }

    /// The checked reports, and a note when the refs could not be fetched (older refs are shown).
    ///
    /// `include` is asked about each readable report before its signature is checked; a report it
    /// refuses is left out of the result unverified (`berthctl sign --all` verifies only the
    /// reports that carry a CSR, the only ones it can act on).
    public func load(from location: ReportLocation, hosts: [String],
                     where include: @escaping @Sendable (FetchedReport) -> Bool = { _ in true }) async -> (reports: [String: CheckedReport], note: String?) {
        let reader = ReportReader(git: git)
        let repository = self.repository
        var out: [String: CheckedReport]
        var note: String?
        switch location {
        case .directory(let dir):
            out = await Self.concurrently(hosts) { host in
                guard let report = reader.read(host, in: dir), include(report) else { return nil }
                return Self.checked(report, repository: repository)
            }
        case .refs(let remote):
            let objects: [String: ReportReader.RefObject]
            (objects, note) = await reader.refObjects(repository: repository.root, remote: remote, hosts: hosts)
            out = await Self.concurrently(hosts.filter { objects[$0] != nil }) { host in
                let report = objects[host]!.decoded()
                return include(report) ? Self.checked(report, repository: repository) : nil
            }
        }
        var retry: [String] = []
        var olderCertificates: [String: String] = [:]  // host → revision whose certs/HOST.pem to try
        for (host, checked) in out {
            guard case .unverified(let reason) = checked.trust else { continue }
            if case .directory = location, reason.contains("other bytes") { retry.append(host) }
            // Just after `berthctl sign` renewed a host, its report is still signed by the key of the
            // certificate it applied: that certificate, at that revision, vouches for it.
            if let applied = checked.report?.appliedRevision, applied.count == 40, applied.allSatisfy(\.isHexDigit),
               checked.report?.serverCertificate?.sha256 != checked.certificate.flatMap({ try? Fingerprint.sha256(ofCertificatePEM: $0) }) {
                olderCertificates[host] = applied
            }
        }
        if case .directory(let dir) = location, !retry.isEmpty {
            // A reader can meet a writer between its two renames (signature, then report): read again.
            try? await Task.sleep(for: .milliseconds(100))
            for host in retry.sorted() {
                guard let report = reader.read(host, in: dir) else { continue }
                out[host] = Self.checked(report, repository: repository)
            }
        }
        if !olderCertificates.isEmpty {
            let hostsInOrder = olderCertificates.keys.sorted()
            let requests = hostsInOrder.map { "\(olderCertificates[$0]!):\(FleetLayout.serverCertificate($0))" }
            if let result = try? await git.run(repository.root, arguments: ["cat-file", "--batch"], input: Array((requests.joined(separator: "\n") + "\n").utf8)),
               result.succeeded {
                for (host, object) in zip(hostsInOrder, ReportReader.parseBatch(result.stdout, count: requests.count)) {
                    guard case .blob(let bytes) = object, let pem = String(validating: bytes, as: UTF8.self),
                          let checked = out[host], checked.report?.serverCertificate?.sha256 == (try? Fingerprint.sha256(ofCertificatePEM: pem)),
                          ReportVerifier.check(checked.fetched, certificate: pem) == .verified else { continue }
                    out[host] = CheckedReport(fetched: checked.fetched, trust: .verified)
                }
            }
        }
        return (out, note)
    }

    /// Judges one report against `certs/HOST.pem` at the repository's current commit.
    static func checked(_ report: FetchedReport, repository: FleetRepository) -> CheckedReport {
        let certificate = (try? repository.readIfPresent(FleetLayout.serverCertificate(report.host), limit: BoundedFile.pemLimit)) ?? nil
        var checked = CheckedReport(fetched: report, trust: ReportVerifier.check(report, certificate: certificate))
        checked.certificate = certificate
        return checked
    }

    /// `work` for every host, on every core: one task per core, each over a contiguous run of
    /// hosts (the work per host is about the same, so equal runs keep the cores equally busy).
    /// Hosts for which `work` returns nil are left out.
    static func concurrently<T: Sendable>(_ hosts: [String], _ work: @escaping @Sendable (String) -> T?) async -> [String: T] {
        let workers = min(max(1, ProcessInfo.processInfo.activeProcessorCount), max(1, hosts.count / 64))
        let runLength = (hosts.count + workers - 1) / max(1, workers)
        return await withTaskGroup(of: [(String, T)].self) { group in
            for start in stride(from: 0, to: hosts.count, by: max(1, runLength)) {
                let run = hosts[start..<min(start + runLength, hosts.count)]
                group.addTask { run.compactMap { host in work(host).map { (host, $0) } } }
            }
            var out: [String: T] = [:]
            out.reserveCapacity(hosts.count)
            for await results in group {
                for (host, value) in results { out[host] = value }
            }
            return out
        }
    }
}
