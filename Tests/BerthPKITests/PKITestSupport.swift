import BerthCore
@testable import BerthPKI
import Foundation
import X509

/// Fixtures for BerthPKI's tests. Every key is generated while the tests run; none is stored.
enum PKI {
    /// A fixed "now" so every time decision is reproducible: 2026-01-01T00:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_767_225_600)

    static func days(_ n: Double) -> TimeInterval { n * 86_400 }

    /// The fleet CA most tests sign with, created a year before `now`.
    static let fleetCA: (certificatePEM: String, privateKeyPEM: String) = try! FleetCA.create(
        fleet: "prod", now: now.addingTimeInterval(-days(365))
    )

    static var ca: FleetCA { try! FleetCA(certificatePEM: fleetCA.certificatePEM, privateKeyPEM: fleetCA.privateKeyPEM) }

    /// A host as `fleet.yaml` would resolve it, with a TCP listener so it needs a server certificate.
    static func host(
        _ name: String = "web-1",
        addresses: HostAddresses = .explicit([HostAddress("10.0.0.5")!, HostAddress("web-1.example.com")!]),
        autoSign: [String] = [],
        renewBefore: TimeSpan = .days(30),
        serverCertDays: Int = 90
    ) -> ResolvedHost {
        let settings = HostSettings(
            listeners: [.fd(name: nil), .tcp(host: "0.0.0.0", port: 2376)],
            serverCertDays: serverCertDays,
            renewBefore: renewBefore,
            autoSign: autoSign.map { CIDR($0)! }
        )
        let spec = FleetSpec(fleet: "prod", hosts: [HostEntry(name: name, addresses: addresses, settings: settings)])
        return spec.resolve(host: name)!
    }

    static func ip(_ text: String) -> SubjectAltName { .ip(IPAddress(text)!) }

    /// A host key, a CSR for `sans`, and the certificate the CA issued for it at `issuedAt`.
    static func serverCertificate(
        sans: [SubjectAltName],
        hostName: String = "web-1",
        days: Int = 90,
        issuedAt: Date = now,
        ca: FleetCA = ca
    ) throws -> (certificatePEM: String, keyPEM: String, csrPEM: String) {
        let key = try HostIdentity.generateKey()
        let csr = try HostIdentity.makeCSR(hostName: hostName, subjectAltNames: sans, privateKeyPEM: key)
        let certificate = try ca.issueServerCertificate(csrPEM: csr, days: days, now: issuedAt)
        return (certificate, key, csr)
    }

    static func certificate(_ pem: String) throws -> Certificate {
        try PEMParsing.certificate(pem)
    }
}
