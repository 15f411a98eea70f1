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
public struct FleetReports: Sendable {
    public var repository: FleetRepository
    public var git: Git

    public init(repository: FleetRepository, git: Git = Git()) {
        self.repository = repository
        self.git = git
    }

    /// The checked reports, and a note when the refs could not be fetched (older refs are shown).
    public func load(from location: ReportLocation, hosts: [String]) async -> (reports: [String: CheckedReport], note: String?) {
        let reader = ReportReader(git: git)
        var fetched: [String: FetchedReport]
        var note: String?
        switch location {
        case .directory(let dir):
            fetched = reader.fromDirectory(dir, hosts: hosts)
        case .refs(let remote):
            (fetched, note) = await reader.fromRefs(repository: repository.root, remote: remote, hosts: hosts)
        }
        var out: [String: CheckedReport] = [:]
        var retry: [String] = []
        var olderCertificates: [String: String] = [:]  // host → revision whose certs/HOST.pem to try
        for (host, report) in fetched {
            let certificate = (try? repository.readIfPresent(FleetLayout.serverCertificate(host), limit: BoundedFile.pemLimit)) ?? nil
            let trust = ReportVerifier.check(report, certificate: certificate)
            out[host] = CheckedReport(fetched: report, trust: trust)
            guard case .unverified(let reason) = trust else { continue }
            if case .directory = location, reason.contains("other bytes") { retry.append(host) }
            // Just after `berthctl sign` renewed a host, its report is still signed by the key of the
            // certificate it applied: that certificate, at that revision, vouches for it.
            if let applied = report.report?.appliedRevision, applied.count == 40, applied.allSatisfy(\.isHexDigit),
               report.report?.serverCertificate?.sha256 != certificate.flatMap({ try? Fingerprint.sha256(ofCertificatePEM: $0) }) {
                olderCertificates[host] = applied
            }
        }
        if case .directory(let dir) = location, !retry.isEmpty {
            // A reader can meet a writer between its two renames (signature, then report): read again.
            try? await Task.sleep(for: .milliseconds(100))
            for (host, report) in reader.fromDirectory(dir, hosts: retry) {
                let certificate = try? repository.readIfPresent(FleetLayout.serverCertificate(host), limit: BoundedFile.pemLimit)
                out[host] = CheckedReport(fetched: report, trust: ReportVerifier.check(report, certificate: certificate ?? nil))
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
}
