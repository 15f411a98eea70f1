import BerthCore
import BerthPKI
import Foundation

/// The checks on a fleet repository beyond `fleet.yaml` itself: certificates (parse, expiry,
/// SANs, signer, CA-in-clients) and private keys anywhere in the tree.
public enum RepositoryChecks {
    public static func run(_ loaded: LoadedFleet, now: Date = Date()) async -> [Diagnostic] {
        let repo = loaded.repository
        var out: [Diagnostic] = []
        let files = repo.listFiles().sorted()
        for file in files {
            do {
                guard let bytes = try BoundedFile.read(repo.path(file), limit: BoundedFile.documentLimit, display: file) else { continue }
                out += PrivateKeyScanner.diagnostics(file: file, contents: bytes)
            } catch {
                out.append(Diagnostic(.error, at: SourceLocation(file: file, line: 1, column: 1), field: "", "\(error)"))
            }
        }
        guard let spec = loaded.document.spec else { return out }
        var clients: [String: String] = [:]
        var servers: [String: String] = [:]
        for file in files {
            let pem: String
            do {
                guard FleetLayout.clientName(of: file) != nil || FleetLayout.hostName(ofCertificate: file) != nil,
                      let text = try repo.readIfPresent(file, limit: BoundedFile.pemLimit) else { continue }
                pem = text
            } catch {
                out.append(Diagnostic(.error, at: SourceLocation(file: file, line: 1, column: 1), field: "", "\(error)"))
                continue
            }
            if let name = FleetLayout.clientName(of: file) { clients[name] = pem }
            if let name = FleetLayout.hostName(ofCertificate: file) { servers[name] = pem }
        }
        let hosts = spec.hosts.compactMap { spec.resolve(host: $0.name) }
        out += await FleetCertificateChecks.run(caFile: spec.ca, caPEM: try? repo.readPEM(spec.ca), clients: clients,
                                                serverCertificates: servers, hosts: hosts, now: now)
        return out
    }
}
