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
    /// `certs/HOST.pem` when it exists and belongs to the key that will serve.
    public var serverCertificatePEM: String?
    /// That key. Only the agent has it; `berthctl render` shows where it goes, not what it is.
    public var serverKeyPEM: String?

    public init(
        host: ResolvedHost, revision: String, unit: DockerUnit, caPEM: String, clients: [NamedPEM],
        probeCertificatePEM: String?, serverCertificatePEM: String?, serverKeyPEM: String? = nil
    ) {
        self.host = host
        self.revision = revision
        self.unit = unit
        self.caPEM = caPEM
        self.clients = clients
        self.probeCertificatePEM = probeCertificatePEM
        self.serverCertificatePEM = serverCertificatePEM
        self.serverKeyPEM = serverKeyPEM
    }
}

/// A PEM document with the name it is known by: a client's name, or `berth-agent-probe`.
public struct NamedPEM: Sendable, Equatable {
    public var name: String
    public var pem: String
    public init(name: String, pem: String) {
        self.name = name
        self.pem = pem
    }
}

/// A host's managed files and the drop-in among them, as a value.
public struct RenderedHost: Sendable, Equatable {
    public var files: [ManagedFile]
    public var dropIn: DropIn
}

/// Computes the exact files a host should have. The one function for the job: the agent's
/// planner and `berthctl render` both call it.
public enum HostRenderer {
    /// The managed files, in the order they are written: TLS files first, the drop-in that names
    /// them last (its rename is what switches dockerd to the new set).
    public static func render(_ input: RenderInput) -> RenderedHost {
        let host = input.host
        var files: [ManagedFile] = []
        var tls: DropIn.TLSFiles?
        if host.needsServerCertificate {
            files.append(ManagedFile(path: HostLayout.ca, text: normalizedPEM(input.caPEM), mode: 0o644, role: .fleetCA))
            let bundle = clientBundle(input)
            let bundlePath = HostLayout.clientBundle(id: ContentID.of(bundle.utf8))
            files.append(ManagedFile(path: bundlePath, text: bundle, mode: 0o644, role: .clientBundle))
            if let cert = input.serverCertificatePEM.map(normalizedPEM) {
                let id = ContentID.of(cert.utf8)
                tls = DropIn.TLSFiles(clientBundle: bundlePath, certificate: HostLayout.serverCertificate(id: id), key: HostLayout.serverKey(id: id))
                files.append(ManagedFile(path: HostLayout.serverCertificate(id: id), text: cert, mode: 0o644, role: .serverCertificate))
                if let key = input.serverKeyPEM {
                    files.append(ManagedFile(path: HostLayout.serverKey(id: id), text: key, mode: 0o600, role: .serverKey))
                }
            }
        }
        let dropIn = DropIn(host: host, revision: input.revision, unit: input.unit, tls: tls)
        files.append(ManagedFile(path: HostLayout.dropIn, text: dropIn.render(), mode: 0o644, role: .dropIn))
        return RenderedHost(files: files, dropIn: dropIn)
    }

    /// The client bundle: the pinned leaf certificates dockerd accepts, each after a comment naming
    /// it (Go's PEM decoder skips text between blocks, so the comments cost nothing).
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
    public static func normalizedPEM(_ pem: String) -> String {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.joined(separator: "\n") + "\n"
    }
}
