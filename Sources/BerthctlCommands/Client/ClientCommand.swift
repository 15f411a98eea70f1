import ArgumentParser
import BerthCore
import BerthHost
import Foundation

/// `berthctl client`: the client certificates hosts pin, and who may connect where.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Create, add, revoke and list the client certificates hosts accept.",
        discussion: """
            A client may connect to a host exactly when the host's resolved clients list in
            fleet.yaml names it; its public certificate lives in clients/NAME.pem.

            Example:
              berthctl client new alice
              berthctl client add ci --cert ci-cert.pem --host build-1
              berthctl client revoke alice
              berthctl client ls --json
            """,
        subcommands: [ClientNew.self, ClientAdd.self, ClientRevoke.self, ClientList.self]
    )
}

/// Shared steps of `client new` and `client add`.
enum ClientAuthorization {
    static func validateName(_ name: String) throws {
        guard ResourceName.isValid(name) else {
            throw ValidationError("client name \"\(name)\" is not valid; use \(ResourceName.rule), e.g. \(ResourceName.suggestion(for: name))")
        }
    }

    /// Refuses a name that is already a client, and hosts that are not in fleet.yaml, before anything is written.
    static func precheck(_ name: String, hosts: [String], loaded: LoadedFleet) throws {
        let file = "clients/\(name).pem"
        if FileManager.default.fileExists(atPath: loaded.repository.path(file)) {
            throw BerthError(.conflict, "\(loaded.repository.path(file)) already exists; pick another name or run `berthctl client revoke \(name)` first")
        }
        for host in hosts { _ = try loaded.resolve(host: host) }
    }

    /// Writes `clients/NAME.pem` and appends NAME to `defaults.clients` (or to each `hosts.H.clients`);
    /// removes the certificate again when fleet.yaml cannot be updated.
    static func authorize(_ name: String, certificatePEM: String, hosts: [String], repository: FleetRepository) throws -> LoadedFleet {
        let certPath = repository.path("clients/\(name).pem")
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

    static func describe(_ name: String, hosts: [String], loaded: LoadedFleet) -> String {
        if !hosts.isEmpty { return "authorized \(name) on \(hosts.joined(separator: ", "))" }
        let overriding = loaded.spec.hosts.compactMap { loaded.spec.resolve(host: $0.name) }.filter { !$0.clients.contains(name) }.map(\.name)
        var text = "authorized \(name) fleet-wide (defaults.clients)"
        if !overriding.isEmpty {
            text += "; not on \(overriding.joined(separator: ", ")), whose own clients list overrides defaults (use --host)"
        }
        return text
    }
}
