import BerthCore
import BerthPKI
import Foundation

/// The checks on a fleet repository beyond `fleet.yaml` itself: certificates (parse, expiry,
/// SANs, signer, CA-in-clients) and private keys anywhere in the tree (SPEC §2).
public enum RepositoryChecks {
    public static func run(_ loaded: LoadedFleet, now: Date = Date()) async -> [Diagnostic] {
        let repo = loaded.repository
        var out: [Diagnostic] = []
        let files = repo.listFiles().sorted()
        for file in files {
            guard let data = FileManager.default.contents(atPath: repo.path(file)) else { continue }
            out += PrivateKeyScanner.diagnostics(file: file, contents: Array(data))
        }
        guard let spec = loaded.document.spec else { return out }
        var clients: [String: String] = [:]
        var servers: [String: String] = [:]
        for file in files where file.hasSuffix(".pem") {
            let name = String((file as NSString).lastPathComponent.dropLast(4))
            if file.hasPrefix("clients/") && !file.dropFirst(8).contains("/") { clients[name] = repo.readIfPresent(file) }
            if file.hasPrefix("certs/") && !file.dropFirst(6).contains("/") { servers[name] = repo.readIfPresent(file) }
        }
        let hosts = spec.hosts.compactMap { spec.resolve(host: $0.name) }
        out += await FleetCertificateChecks.run(caFile: spec.ca, caPEM: repo.readIfPresent(spec.ca), clients: clients,
                                                serverCertificates: servers, hosts: hosts, now: now)
        return out
    }
}
