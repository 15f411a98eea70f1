import BerthCore
@testable import BerthPKI
import Foundation
import Testing

@Suite("Client certificates")
struct ClientCertificateTests {
    @Test("a new client certificate is a self-signed clientAuth leaf named after the client", arguments: KeyType.allCases)
    func create(keyType: KeyType) throws {
        let created = try ClientCertificate.create(name: "alice", days: 365, keyType: keyType, now: PKI.now)
        let certificate = try PKI.certificate(created.certificatePEM)
        #expect(certificate.subject.commonName == "alice")
        #expect(certificate.issuer == certificate.subject)
        #expect(!certificate.isCertificateAuthority)
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try Array(certificate.extensions.extendedKeyUsage ?? .init()) == [.clientAuth])
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(try PrivateKeyPEM.pairing(privateKeyPEM: created.privateKeyPEM, certificatePEM: created.certificatePEM) == .matches)

        guard case .acceptable(let summary) = ClientCertificate.check(pem: created.certificatePEM, now: PKI.now) else {
            Issue.record("a fresh client certificate must be acceptable")
            return
        }
        #expect(summary.commonName == "alice")
        #expect(summary.notAfter == PKI.now.addingTimeInterval(PKI.days(365)))
    }

    @Test("the summary gives the subject CN, the SHA-256 fingerprint and notAfter")
    func summary() throws {
        let created = try ClientCertificate.create(name: "ci", days: 30, now: PKI.now)
        let summary = try ClientCertificate.summary(pem: created.certificatePEM)
        #expect(summary.commonName == "ci")
        #expect(summary.fingerprint == (try Fingerprint.sha256(ofCertificatePEM: created.certificatePEM)))
        #expect(summary.notAfter == PKI.now.addingTimeInterval(PKI.days(30)))
    }

    @Test("a CA certificate is rejected as a client")
    func caRejected() {
        guard case .rejected(.certificateAuthority) = ClientCertificate.check(pem: PKI.fleetCA.certificatePEM, now: PKI.now) else {
            Issue.record("the fleet CA must not be pinnable as a client")
            return
        }
    }

    @Test("a serverAuth-only certificate is rejected as a client")
    func serverAuthOnlyRejected() throws {
        let server = try PKI.serverCertificate(sans: [.dnsName("web-1")])
        guard case .rejected(.lacksClientAuth(let usages)) = ClientCertificate.check(pem: server.certificatePEM, now: PKI.now) else {
            Issue.record("a server certificate must not be pinnable as a client")
            return
        }
        #expect(usages.count == 1)
    }

    @Test("an expired client certificate is rejected")
    func expired() throws {
        let created = try ClientCertificate.create(name: "old", days: 10, now: PKI.now.addingTimeInterval(-PKI.days(20)))
        guard case .rejected(.expired) = ClientCertificate.check(pem: created.certificatePEM, now: PKI.now) else {
            Issue.record("expected expired")
            return
        }
    }

    @Test("a file with two certificates, a key, or garbage is rejected", arguments: ["two", "key", "garbage", "empty"])
    func notASingleCertificate(kind: String) throws {
        let created = try ClientCertificate.create(name: "alice", days: 30, now: PKI.now)
        let pem: String
        switch kind {
        case "two": pem = created.certificatePEM + "\n" + PKI.fleetCA.certificatePEM
        case "key": pem = created.certificatePEM + "\n" + created.privateKeyPEM
        case "garbage": pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        default: pem = ""
        }
        guard case .rejected(let rejection) = ClientCertificate.check(pem: pem, now: PKI.now) else {
            Issue.record("expected a rejection for \(kind)")
            return
        }
        switch rejection {
        case .notASingleCertificate, .unparsable: break
        default: Issue.record("unexpected rejection \(rejection)")
        }
    }
}
