import Foundation

/// Everything needed to compute a host's managed files, gathered by the caller.
///
/// The renderer reads nothing itself: `berthctl render` fills this from the repository and a
/// root directory, the agent from its checkout and the host, and both call ``HostRenderer/render(_:)``.
public struct RenderInput: Sendable, Equatable {
    public var host: ResolvedHost
    public var revision: String
    public var unit: DockerUnit
    /// The fleet CA certificate (`ca.pem` of the repository).
    public var caPEM: String
    /// Authorized client certificates in the order the host's `clients` list names them.
    public var clients: [NamedPEM]
    /// The agent's probe identity, pinned alongside the clients so the agent can check its own listeners.
    public var probeCertificatePEM: String?
    /// `certs/HOST.pem` when it exists and belongs to this host's key.
    public var serverCertificatePEM: String?

    public init(
        host: ResolvedHost, revision: String, unit: DockerUnit, caPEM: String, clients: [NamedPEM],
        probeCertificatePEM: String?, serverCertificatePEM: String?
    ) {
        self.host = host
        self.revision = revision
        self.unit = unit
        self.caPEM = caPEM
        self.clients = clients
        self.probeCertificatePEM = probeCertificatePEM
        self.serverCertificatePEM = serverCertificatePEM
    }
}

/// A PEM document with the name it is known by (a client name, `berth-agent-probe`).
public struct NamedPEM: Sendable, Equatable {
    public var name: String
    public var pem: String
    public init(name: String, pem: String) {
        self.name = name
        self.pem = pem
    }
}

/// Computes the exact files a host should have. The one function for the job: the agent's
/// planner and `berthctl render` both call it.
public enum HostRenderer {
    public static func render(_ input: RenderInput) -> [ManagedFile] {
        let host = input.host
        let hasCert = input.serverCertificatePEM != nil
        var files = [
            ManagedFile(
                path: HostLayout.dropIn,
                text: DropIn(host: host, revision: input.revision, unit: input.unit, hasServerCertificate: hasCert).render(),
                mode: 0o644, role: .dropIn),
        ]
        guard host.needsServerCertificate else { return files }
        files.append(ManagedFile(path: HostLayout.ca, text: normalizedPEM(input.caPEM), mode: 0o644, role: .fleetCA))
        files.append(ManagedFile(path: HostLayout.clients, text: clientBundle(input), mode: 0o644, role: .clientBundle))
        if let cert = input.serverCertificatePEM {
            files.append(ManagedFile(path: HostLayout.serverCert, text: normalizedPEM(cert), mode: 0o644, role: .serverCertificate))
        }
        return files
    }

    /// `clients.pem`: the pinned leaf certificates dockerd accepts, each after a comment naming it
    /// (Go's PEM decoder skips text between blocks, so the comments cost nothing).
    static func clientBundle(_ input: RenderInput) -> String {
        var entries = input.clients
        if let probe = input.probeCertificatePEM {
            entries.append(NamedPEM(name: "berth-agent-probe", pem: probe))
        }
        var out = "# Managed by Berth: the client certificates \(input.host.name) accepts (fleet \(input.host.fleet)).\n"
        for entry in entries {
            out += "# client: \(entry.name)\n" + normalizedPEM(entry.pem)
        }
        return out
    }

    /// One trailing newline, no stray whitespace: the same certificate always gives the same bytes.
    static func normalizedPEM(_ pem: String) -> String {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.joined(separator: "\n") + "\n"
    }
}
