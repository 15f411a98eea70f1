import BerthControl
import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

@Suite("authorizing and revoking clients in the repository")
struct ClientEditsTests {
    let fleet: TestFleet
    let edits: ClientEdits
    let bobPEM: String

    init() throws {
        fleet = try TestFleet()
        edits = ClientEdits(repository: FleetRepository(root: fleet.root))
        bobPEM = try ClientCertificate.create(name: "bob", days: 30, keyType: .ecdsa, now: Date()).certificatePEM
    }

    var repository: FleetRepository { edits.repository }

    func spec() throws -> FleetSpec { try repository.loadValid().spec }

    func clients(_ host: String) throws -> [String] { try #require(try spec().resolve(host: host)).clients }

    func code(_ body: () throws -> Void) -> BerthError.Code? {
        do {
            try body()
            Issue.record("expected an error")
            return nil
        } catch let error as BerthError {
            return error.code
        } catch {
            Issue.record("expected a BerthError, got \(error)")
            return nil
        }
    }

    // MARK: precheck

    @Test("precheck refuses a name that is already a client and a host that is not in fleet.yaml")
    func precheck() throws {
        let loaded = try repository.loadValid()
        try edits.precheck("bob", hosts: ["web-1", "web-2"], loaded: loaded)
        #expect(code { try edits.precheck("alice", hosts: [], loaded: loaded) } == .conflict)
        #expect(code { try edits.precheck("bob", hosts: ["web-9"], loaded: loaded) } == .notFound)
    }

    // MARK: authorize

    @Test("a fleet-wide client is appended to defaults.clients; a host with its own list is not changed")
    func authorizeFleetWide() throws {
        let loaded = try edits.authorize("bob", certificatePEM: bobPEM, hosts: [])
        #expect(loaded.spec.defaults.clients == ["alice", "ci", "bob"])
        #expect(try fleet.directory.read("clients/bob.pem") == bobPEM)
        #expect(try clients("web-1") == ["alice", "ci", "bob"])
        #expect(try clients("web-2") == ["alice"], "web-2's own list overrides defaults")
        #expect(ClientEdits.describe("bob", hosts: [], loaded: loaded)
                == "authorized bob fleet-wide (defaults.clients); not on web-2, whose own clients list overrides defaults (use --host)")
        #expect(try fleet.directory.read("fleet.yaml").contains("  clients: [alice, ci, bob]"))
    }

    @Test("a client for named hosts is appended to each host's resolved list")
    func authorizePerHost() throws {
        let loaded = try edits.authorize("bob", certificatePEM: bobPEM, hosts: ["web-1", "web-2"])
        #expect(loaded.spec.defaults.clients == ["alice", "ci"])
        #expect(try clients("web-1") == ["alice", "ci", "bob"], "web-1 had no list: it gets the defaults plus bob")
        #expect(try clients("web-2") == ["alice", "bob"])
        #expect(ClientEdits.describe("bob", hosts: ["web-1", "web-2"], loaded: loaded) == "authorized bob on web-1, web-2")
    }

    @Test("authorizing a name a list already holds leaves the list as it is")
    func authorizeIdempotent() throws {
        try fleet.write("fleet.yaml", FleetFixtures.replacing(20, with: "    clients: [alice, bob]"))
        try fleet.write("clients/bob.pem", bobPEM)
        let before = try fleet.directory.read("fleet.yaml")
        _ = try edits.authorize("bob", certificatePEM: bobPEM, hosts: ["web-2"])
        #expect(try fleet.directory.read("fleet.yaml") == before)
    }

    @Test("when fleet.yaml cannot be updated the certificate is removed again and fleet.yaml is unchanged")
    func authorizeRollsBack() throws {
        // web-3 is written in flow style, which the editor refuses to rewrite.
        let yaml = FleetFixtures.validYAML + "  web-3: {addresses: [10.0.0.7]}\n"
        try fleet.write("fleet.yaml", yaml)
        #expect(code { _ = try edits.authorize("bob", certificatePEM: bobPEM, hosts: ["web-3"]) } == .unitUnparsable)
        #expect(!fleet.directory.exists("clients/bob.pem"))
        #expect(try fleet.directory.read("fleet.yaml") == yaml)
    }

    @Test("when fleet.yaml would not validate after the edit the certificate is removed again")
    func authorizeRollsBackOnValidation() throws {
        // The file already has an error elsewhere (a missing CA file): no edit may be written.
        let yaml = FleetFixtures.replacing(3, with: "ca: missing-ca.pem")
        try fleet.write("fleet.yaml", yaml)
        #expect(throws: FleetValidationError.self) { _ = try edits.authorize("bob", certificatePEM: bobPEM, hosts: []) }
        #expect(!fleet.directory.exists("clients/bob.pem"))
        #expect(try fleet.directory.read("fleet.yaml") == yaml)
    }

    @Test("when fleet.yaml is missing the certificate is removed again")
    func authorizeWithoutFleet() throws {
        try FileManager.default.removeItem(atPath: fleet.directory.file("fleet.yaml"))
        #expect(code { _ = try edits.authorize("bob", certificatePEM: bobPEM, hosts: []) } == .notFound)
        #expect(!fleet.directory.exists("clients/bob.pem"))
    }

    // MARK: revoke

    @Test("revoking removes the certificate and the name from every list that has it")
    func revokeEverywhere() throws {
        let revocation = try edits.revoke("alice")
        #expect(revocation.removedFile == repository.path("clients/alice.pem"))
        #expect(revocation.lists == ["defaults.clients", "hosts.web-2.clients"])
        #expect(!fleet.directory.exists("clients/alice.pem"))
        let spec = try spec()
        #expect(spec.defaults.clients == ["ci"])
        #expect(try clients("web-1") == ["ci"])
        #expect(try clients("web-2") == [])
        #expect(!(try fleet.directory.read("fleet.yaml")).contains("alice"))
        #expect(fleet.directory.exists("clients/ci.pem"), "other clients stay")
    }

    @Test("revoking a client named only in defaults leaves the host lists alone")
    func revokeDefaultsOnly() throws {
        let revocation = try edits.revoke("ci")
        #expect(revocation.lists == ["defaults.clients"])
        #expect(try clients("web-2") == ["alice"])
        #expect(try clients("web-1") == ["alice"])
    }

    @Test("a certificate nobody lists is still removed; a name that is nowhere is notFound")
    func revokeFileOnly() throws {
        try fleet.write("clients/bob.pem", bobPEM)
        let before = try fleet.directory.read("fleet.yaml")
        let revocation = try edits.revoke("bob")
        #expect(revocation.removedFile == repository.path("clients/bob.pem"))
        #expect(revocation.lists == [])
        #expect(try fleet.directory.read("fleet.yaml") == before)
        #expect(code { _ = try edits.revoke("bob") } == .notFound)
        #expect(code { _ = try edits.revoke("mallory") } == .notFound)
    }

    @Test("when fleet.yaml cannot be updated the certificate stays, and with it the client's access")
    func revokeKeepsFileOnFailure() throws {
        let yaml = FleetFixtures.replacing(3, with: "ca: missing-ca.pem")
        try fleet.write("fleet.yaml", yaml)
        #expect(throws: FleetValidationError.self) { _ = try edits.revoke("alice") }
        #expect(fleet.directory.exists("clients/alice.pem"))
        #expect(try fleet.directory.read("fleet.yaml") == yaml)
    }
}
