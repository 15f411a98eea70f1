import BerthPKI
import Foundation

/// A fleet repository on disk for tests, with a CA and client certificates made at run time
/// (no key is ever committed): `ca.pem`, `clients/alice.pem`, `clients/ci.pem`, and the example fleet.yaml of docs/fleet-yaml.md.
public final class TestFleet: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let caKeyPEM: String
    /// Client name → (certificate, key), kept in memory only.
    public private(set) var clientIdentities: [String: (certificatePEM: String, privateKeyPEM: String)] = [:]
    public var root: String { directory.path }

    public init(yaml: String = FleetFixtures.validYAML, clients: [String] = ["alice", "ci"]) throws {
        directory = try TemporaryDirectory("berth-fleet")
        let ca = try FleetCA.create(fleet: "prod", keyType: .ecdsa, now: Date())
        caKeyPEM = ca.privateKeyPEM
        try directory.write("ca.pem", ca.certificatePEM)
        for name in clients {
            let client = try ClientCertificate.create(name: name, days: 30, keyType: .ecdsa, now: Date())
            try directory.write("clients/\(name).pem", client.certificatePEM)
            clientIdentities[name] = (client.certificatePEM, client.privateKeyPEM)
        }
        try directory.write("fleet.yaml", yaml)
    }

    public func write(_ relative: String, _ text: String) throws { try directory.write(relative, text) }

    /// A directory laid out as Docker expects (`ca.pem`, `cert.pem`, `key.pem`) for a client.
    public func dockerCertDirectory(client name: String, in parent: TemporaryDirectory) throws -> String {
        let identity = clientIdentities[name]!
        try parent.write("\(name)/ca.pem", try String(contentsOfFile: directory.file("ca.pem"), encoding: .utf8))
        try parent.write("\(name)/cert.pem", identity.certificatePEM)
        try parent.write("\(name)/key.pem", identity.privateKeyPEM, mode: 0o600)
        return parent.file(name)
    }
}
