import BerthPKI
import Foundation

/// A fleet repository on disk for tests, with a CA and client certificates made at run time
/// (no key is ever committed): `ca.pem`, `clients/alice.pem`, `clients/ci.pem`, and the SPEC's fleet.yaml.
public final class TestFleet: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let caKeyPEM: String
    public var root: String { directory.path }

    public init(yaml: String = FleetFixtures.validYAML, clients: [String] = ["alice", "ci"]) throws {
        directory = try TemporaryDirectory("berth-fleet")
        let ca = try FleetCA.create(fleet: "prod", keyType: .ecdsa, now: Date())
        caKeyPEM = ca.privateKeyPEM
        try directory.write("ca.pem", ca.certificatePEM)
        for name in clients {
            let client = try ClientCertificate.create(name: name, days: 30, keyType: .ecdsa, now: Date())
            try directory.write("clients/\(name).pem", client.certificatePEM)
        }
        try directory.write("fleet.yaml", yaml)
    }

    public func write(_ relative: String, _ text: String) throws { try directory.write(relative, text) }
}
