import BerthCore
import BerthPKI
import Testing

@Suite("Client bundle (clients.pem)")
struct ClientBundleTests {
    @Test("leaf client certificates are bundled in order, one PEM block each")
    func assemble() throws {
        let alice = try ClientCertificate.create(name: "alice", days: 30, now: PKI.now)
        let ci = try ClientCertificate.create(name: "ci", days: 30, now: PKI.now)
        let bundle = try ClientBundle.assemble([.init(name: "alice", pem: alice.certificatePEM), .init(name: "ci", pem: ci.certificatePEM + "\n\n")])
        #expect(bundle == alice.certificatePEM + "\n" + ci.certificatePEM + "\n")
    }

    @Test("every bad entry is reported by name and nothing is built")
    func rejects() throws {
        let alice = try ClientCertificate.create(name: "alice", days: 30, now: PKI.now)
        let server = try PKI.serverCertificate(sans: [.dnsName("web-1")])
        let entries: [NamedPEM] = [
            .init(name: "alice", pem: alice.certificatePEM),
            .init(name: "root", pem: PKI.fleetCA.certificatePEM),
            .init(name: "web", pem: server.certificatePEM),
            .init(name: "leaky", pem: alice.certificatePEM + alice.privateKeyPEM),
        ]
        #expect(ClientBundle.problems(entries).count == 3)
        #expect { try ClientBundle.assemble(entries) } throws: { error in
            guard let error = error as? BerthError, error.code == .certificate else { return false }
            return ["clients/root.pem", "clients/web.pem", "clients/leaky.pem"].allSatisfy(error.message.contains)
                && !error.message.contains("clients/alice.pem")
        }
    }

    @Test("an expired client does not stop the bundle from being built")
    func expiredStillBundled() throws {
        let old = try ClientCertificate.create(name: "old", days: 1, now: PKI.now.addingTimeInterval(-PKI.days(10)))
        #expect(ClientBundle.problems([.init(name: "old", pem: old.certificatePEM)]).isEmpty)
    }
}
