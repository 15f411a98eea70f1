import BerthCore
import BerthPKI
import Foundation

/// Gathers a host's ``RenderInput`` from a fleet repository and a host root, and renders it.
///
/// The one path from "repository + host" to bytes: `berthctl render` and the agent both call
/// ``DesiredFiles/render(fleet:host:revision:root:unit:serverCertificate:serverKeyPEM:)``.
public enum DesiredFiles {
    /// Finds `docker.service` under `root`, most specific location first.
    public static func findUnit(root: String) throws -> DockerUnit {
        for hostPath in HostLayout.unitSearchPath {
            let full = HostLayout.path(hostPath, under: root)
            if let text = try BoundedFile.readText(full, limit: BoundedFile.documentLimit, display: hostPath) {
                return try DockerUnit.parse(text, path: hostPath)
            }
        }
        throw BerthError(.unitNotFound, "no docker.service under \(root) (looked in \(HostLayout.unitSearchPath.joined(separator: ", "))); install Docker, pass --root at a host's filesystem, or --base debian|docker")
    }

    /// The render input: the CA, the host's clients (each checked: a CA pinned as a client
    /// would trust everything it signed, so the whole bundle is refused), the agent's probe
    /// certificate when `root` holds one, and the server certificate and key the caller chose.
    public static func input(
        fleet: LoadedFleet, host: ResolvedHost, revision: String, root: String, unit: DockerUnit,
        serverCertificate: String?, serverKeyPEM: String? = nil
    ) throws -> RenderInput {
        let repo = fleet.repository
        let ca = try repo.readPEM(fleet.spec.ca)
        var clients: [NamedPEM] = []
        for name in host.clients {
            clients.append(NamedPEM(name: name, pem: try repo.readPEM(FleetLayout.clientCertificate(name))))
        }
        let problems = ClientBundle.problems(clients)
        guard problems.isEmpty else {
            throw BerthError(.certificate, "cannot build the client bundle for \(host.name): " + problems.joined(separator: "; "))
        }
        let probe = try BoundedFile.readText(HostLayout.path(HostLayout.probeCertificate, under: root), limit: BoundedFile.pemLimit, display: HostLayout.probeCertificate)
        return RenderInput(
            host: host, revision: revision, unit: unit, caPEM: ca, clients: clients, probeCertificatePEM: probe,
            serverCertificatePEM: host.needsServerCertificate ? serverCertificate : nil, serverKeyPEM: serverKeyPEM)
    }

    public static func render(
        fleet: LoadedFleet, host: ResolvedHost, revision: String, root: String, unit: DockerUnit,
        serverCertificate: String?, serverKeyPEM: String? = nil
    ) throws -> RenderedHost {
        HostRenderer.render(try input(fleet: fleet, host: host, revision: revision, root: root, unit: unit,
                                      serverCertificate: serverCertificate, serverKeyPEM: serverKeyPEM))
    }
}
