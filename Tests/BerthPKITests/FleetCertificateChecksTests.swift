import BerthCore
import BerthPKI
import Foundation
import Testing

@Suite("Fleet certificate checks for validate")
struct FleetCertificateChecksTests {
    static let web1 = PKI.host()
    static let web2 = PKI.host("web-2", addresses: .auto)

    func run(clients: [String: String] = [:], servers: [String: String] = [:], caPEM: String? = PKI.fleetCA.certificatePEM) async -> [Diagnostic] {
        await FleetCertificateChecks.run(caPEM: caPEM, clients: clients, serverCertificates: servers, hosts: [Self.web1, Self.web2], now: PKI.now)
    }

    func goodServer() throws -> String {
        try PKI.serverCertificate(sans: HostIdentity.subjectAltNames(for: Self.web1)).certificatePEM
    }

    @Test("a healthy repository has no findings")
    func healthy() async throws {
        let alice = try ClientCertificate.create(name: "alice", days: 365, now: PKI.now)
        let web2 = try PKI.serverCertificate(sans: [PKI.ip("192.168.1.7"), .dnsName("web-2")], hostName: "web-2")
        let diagnostics = await run(clients: ["alice": alice.certificatePEM], servers: ["web-1": try goodServer(), "web-2": web2.certificatePEM])
        #expect(diagnostics.isEmpty, "\(diagnostics)")
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var file: String
        var severity: Diagnostic.Severity
        var fragment: String
        var make: @Sendable () throws -> (clients: [String: String], servers: [String: String])

        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "unparsable server certificate", file: "certs/web-1.pem", severity: .error, fragment: "not valid PEM") {
            ([:], ["web-1": "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"])
        },
        Case(name: "expired server certificate", file: "certs/web-1.pem", severity: .error, fragment: "expired at") {
            let issued = try PKI.serverCertificate(sans: HostIdentity.subjectAltNames(for: web1), issuedAt: PKI.now.addingTimeInterval(-PKI.days(100)))
            return ([:], ["web-1": issued.certificatePEM])
        },
        Case(name: "server certificate inside renewBefore", file: "certs/web-1.pem", severity: .warning, fragment: "inside hosts.web-1 renewBefore (30d)") {
            let issued = try PKI.serverCertificate(sans: HostIdentity.subjectAltNames(for: web1), days: 10)
            return ([:], ["web-1": issued.certificatePEM])
        },
        Case(name: "server certificate from another CA", file: "certs/web-1.pem", severity: .error, fragment: "not signed by the fleet CA in ca.pem") {
            let other = try FleetCA.create(fleet: "prod", now: PKI.now.addingTimeInterval(-PKI.days(1)))
            let issued = try PKI.serverCertificate(sans: HostIdentity.subjectAltNames(for: web1), ca: FleetCA(certificatePEM: other.certificatePEM, privateKeyPEM: other.privateKeyPEM))
            return ([:], ["web-1": issued.certificatePEM])
        },
        Case(name: "another host's certificate", file: "certs/web-1.pem", severity: .error, fragment: "is not host web-1's certificate") {
            let issued = try PKI.serverCertificate(sans: [PKI.ip("10.0.0.99"), .dnsName("db-1")], hostName: "db-1")
            return ([:], ["web-1": issued.certificatePEM])
        },
        Case(name: "server certificate behind an address change", file: "certs/web-1.pem", severity: .warning, fragment: "does not match hosts.web-1.addresses: it lacks dns:web-1.example.com and still names ip:10.0.0.4") {
            let issued = try PKI.serverCertificate(sans: [PKI.ip("10.0.0.4"), PKI.ip("10.0.0.5"), .dnsName("web-1")])
            return ([:], ["web-1": issued.certificatePEM])
        },
        Case(name: "CA certificate in certs/", file: "certs/web-1.pem", severity: .error, fragment: "is a CA certificate") {
            ([:], ["web-1": PKI.fleetCA.certificatePEM])
        },
        Case(name: "certificate for an unknown host", file: "certs/db-9.pem", severity: .warning, fragment: "not a host in fleet.yaml") {
            let issued = try PKI.serverCertificate(sans: [.dnsName("db-9")], hostName: "db-9")
            return ([:], ["db-9": issued.certificatePEM])
        },
        Case(name: "CA certificate as a client", file: "clients/root.pem", severity: .error, fragment: "is a CA certificate") {
            (["root": PKI.fleetCA.certificatePEM], [:])
        },
        Case(name: "serverAuth-only certificate as a client", file: "clients/web.pem", severity: .error, fragment: "lacks clientAuth") {
            (["web": try PKI.serverCertificate(sans: [.dnsName("web-1")]).certificatePEM], [:])
        },
        Case(name: "expired client", file: "clients/old.pem", severity: .error, fragment: "expired at") {
            (["old": try ClientCertificate.create(name: "old", days: 5, now: PKI.now.addingTimeInterval(-PKI.days(6))).certificatePEM], [:])
        },
        Case(name: "client about to expire", file: "clients/soon.pem", severity: .warning, fragment: "berthctl client new soon") {
            (["soon": try ClientCertificate.create(name: "soon", days: 5, now: PKI.now).certificatePEM], [:])
        },
        Case(name: "client file with a private key", file: "clients/leaky.pem", severity: .error, fragment: "exactly one CERTIFICATE") {
            let alice = try ClientCertificate.create(name: "leaky", days: 30, now: PKI.now)
            return (["leaky": alice.certificatePEM + alice.privateKeyPEM], [:])
        },
    ]

    @Test("each problem is one diagnostic at the file, with the right severity", arguments: cases)
    func problem(_ c: Case) async throws {
        let (clients, servers) = try c.make()
        let diagnostics = await run(clients: clients, servers: servers)
        #expect(diagnostics.count == 1, "\(diagnostics)")
        let diagnostic = try #require(diagnostics.first)
        #expect(diagnostic.location == SourceLocation(file: c.file, line: 1, column: 1))
        #expect(diagnostic.severity == c.severity)
        #expect(diagnostic.message.contains(c.fragment), "\(diagnostic)")
    }

    @Test("a ca.pem that is not a CA is an error and server certificates are not checked against it")
    func leafAsCA() async throws {
        let alice = try ClientCertificate.create(name: "alice", days: 30, now: PKI.now)
        let diagnostics = await run(servers: ["web-1": try goodServer()], caPEM: alice.certificatePEM)
        #expect(diagnostics.map(\.location?.file) == ["ca.pem"])
        #expect(diagnostics.first?.message.contains("not a CA certificate") == true)
    }

    @Test("a CA expiring before the certificates it signs would gets a warning")
    func caExpiringSoon() async throws {
        let shortLived = try FleetCA.create(fleet: "prod", now: PKI.now, validityDays: 30)
        let diagnostics = await run(caPEM: shortLived.certificatePEM)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.severity == .warning)
        #expect(diagnostics.first?.message.contains("plan a CA rotation") == true)
    }
}
