import BerthCore
import BerthPKI
import Foundation

/// Gathers a host's ``RenderInput`` from a fleet repository and a host root, and renders it.
///
/// The one path from "repository + host" to bytes: `berthctl render` and the agent's planner both
/// call ``DesiredFiles/render(fleet:host:revision:root:unit:serverCertificateFilter:)``.
public enum DesiredFiles {
    /// Where the agent keeps its probe identity's certificate (public; the key sits beside it, 0600).
    public static let probeCertificate = "\(HostLayout.stateDir)/probe.pem"
    public static let probeKey = "\(HostLayout.stateDir)/probe-key.pem"

    /// Finds `docker.service` under `root`, most specific location first.
    public static func findUnit(root: String) throws -> DockerUnit {
        for hostPath in HostLayout.unitSearchPath {
            let full = HostLayout.path(hostPath, under: root)
            if let data = FileManager.default.contents(atPath: full) {
                return try DockerUnit.parse(String(decoding: data, as: UTF8.self), path: hostPath)
            }
        }
        throw BerthError(.unitNotFound, "no docker.service under \(root) (looked in \(HostLayout.unitSearchPath.joined(separator: ", "))); install Docker, pass --root at a host's filesystem, or --base debian|docker")
    }

    public static func input(
        fleet: LoadedFleet, host: ResolvedHost, revision: String, root: String, unit: DockerUnit,
        serverCertificateFilter: (String) -> Bool = { _ in true }
    ) throws -> RenderInput {
        let repo = fleet.repository
        let ca = try repo.read(fleet.spec.ca)
        var clients: [NamedPEM] = []
        for name in host.clients {
            clients.append(NamedPEM(name: name, pem: try repo.read("clients/\(name).pem")))
        }
        // Pinning a CA certificate would trust everything it signed: refuse the whole bundle.
        let problems = ClientBundle.problems(clients.map { ClientBundle.Entry(name: $0.name, pem: $0.pem) })
        guard problems.isEmpty else {
            throw BerthError(.certificate, "cannot build clients.pem for \(host.name): " + problems.joined(separator: "; "))
        }
        let probe = FileManager.default.contents(atPath: HostLayout.path(probeCertificate, under: root))
            .map { String(decoding: $0, as: UTF8.self) }
        let serverCert = repo.readIfPresent("certs/\(host.name).pem").flatMap { serverCertificateFilter($0) ? $0 : nil }
        return RenderInput(
            host: host, revision: revision, unit: unit, caPEM: ca, clients: clients,
            probeCertificatePEM: probe, serverCertificatePEM: host.needsServerCertificate ? serverCert : nil)
    }

    public static func render(
        fleet: LoadedFleet, host: ResolvedHost, revision: String, root: String, unit: DockerUnit,
        serverCertificateFilter: (String) -> Bool = { _ in true }
    ) throws -> [ManagedFile] {
        HostRenderer.render(try input(fleet: fleet, host: host, revision: revision, root: root, unit: unit, serverCertificateFilter: serverCertificateFilter))
    }
}
