import BerthCore
import BerthHost
import Foundation

/// Edits of who may connect where: `client new`, `client add` and `client revoke`, as
/// transactions on the repository. A client is authorized on a host exactly when the host's
/// resolved `clients` list names it; its public certificate lives in `clients/NAME.pem`.
public struct ClientEdits: Sendable {
    public var repository: FleetRepository

    public init(repository: FleetRepository) { self.repository = repository }

    /// Refuses a name that is already a client, and hosts that are not in fleet.yaml, before anything is written.
    public func precheck(_ name: String, hosts: [String], loaded: LoadedFleet) throws {
        let file = FleetLayout.clientCertificate(name)
        if FileManager.default.fileExists(atPath: repository.path(file)) {
            throw BerthError(.conflict, "\(repository.path(file)) already exists; pick another name or run `berthctl client revoke \(name)` first")
        }
        for host in hosts { _ = try loaded.resolve(host: host) }
    }

    /// Writes `clients/NAME.pem` and appends NAME to `defaults.clients` (or to each `hosts.H.clients`).
    /// All or nothing: when fleet.yaml cannot be updated, the certificate is removed again.
    public func authorize(_ name: String, certificatePEM: String, hosts: [String]) throws -> LoadedFleet {
        let certPath = repository.path(FleetLayout.clientCertificate(name))
        try AtomicFile.write(certificatePEM, to: certPath, mode: 0o644)
        do {
            return try repository.update { text in
                var editor = FleetEditor(text)
                let spec = FleetParser.parse(text, file: FleetRepository.specFile).spec
                if hosts.isEmpty {
                    let current = spec?.defaults.clients ?? []
                    if !current.contains(name) { try editor.setList("defaults.clients", to: current + [name]) }
                } else {
                    for host in hosts {
                        let current = spec?.resolve(host: host)?.clients ?? []
                        if !current.contains(name) { try editor.setList("hosts.\(host).clients", to: current + [name]) }
                    }
                }
                return editor.text
            }
        } catch {
            try? AtomicFile.remove(certPath)
            throw error
        }
    }

    /// Where a client was removed from.
    public struct Revocation: Sendable {
        public var removedFile: String?
        public var lists: [String]
    }

    /// Removes `clients/NAME.pem` and NAME from every clients list; fleet.yaml first, so a failure
    /// leaves the certificate (and the client's access) as it was.
    public func revoke(_ name: String) throws -> Revocation {
        let loaded = try repository.load()
        guard let spec = loaded.document.spec else { _ = try repository.loadValid(); return Revocation(removedFile: nil, lists: []) }
        let certPath = repository.path(FleetLayout.clientCertificate(name))
        let inDefaults = spec.defaults.clients?.contains(name) ?? false
        let hosts = spec.hosts.filter { $0.settings.clients?.contains(name) ?? false }.map(\.name)
        let hasFile = FileManager.default.fileExists(atPath: certPath)
        if !inDefaults && hosts.isEmpty && !hasFile {
            throw BerthError(.notFound, "client \"\(name)\" is neither in clients/ nor in \(repository.specPath); `berthctl client ls` lists the clients")
        }
        if inDefaults || !hosts.isEmpty {
            _ = try repository.update { text in
                var editor = FleetEditor(text)
                if inDefaults {
                    try editor.setList("defaults.clients", to: (spec.defaults.clients ?? []).filter { $0 != name })
                }
                for host in spec.hosts where hosts.contains(host.name) {
                    try editor.setList("hosts.\(host.name).clients", to: (host.settings.clients ?? []).filter { $0 != name })
                }
                return editor.text
            }
        }
        if hasFile { try AtomicFile.remove(certPath) }
        return Revocation(removedFile: hasFile ? certPath : nil, lists: (inDefaults ? ["defaults.clients"] : []) + hosts.map { "hosts.\($0).clients" })
    }

    /// One line saying where a newly authorized client may now connect.
    public static func describe(_ name: String, hosts: [String], loaded: LoadedFleet) -> String {
        if !hosts.isEmpty { return "authorized \(name) on \(hosts.joined(separator: ", "))" }
        let overriding = loaded.spec.hosts.compactMap { loaded.spec.resolve(host: $0.name) }.filter { !$0.clients.contains(name) }.map(\.name)
        var text = "authorized \(name) fleet-wide (defaults.clients)"
        if !overriding.isEmpty {
            text += "; not on \(overriding.joined(separator: ", ")), whose own clients list overrides defaults (use --host)"
        }
        return text
    }
}
