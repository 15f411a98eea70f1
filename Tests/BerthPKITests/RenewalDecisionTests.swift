import BerthCore
import BerthPKI
import Foundation
import Testing

@Suite("Renewal decision")
struct RenewalDecisionTests {
    static let host = PKI.host()
    static var desired: [SubjectAltName] { HostIdentity.subjectAltNames(for: host) }

    func decide(certificate: String?, key: String?, desired: [SubjectAltName] = desired, renewBefore: TimeSpan = .days(30)) async throws -> RenewalDecision {
        try await RenewalDecision.evaluate(
            certificatePEM: certificate, privateKeyPEM: key, desiredSANs: desired,
            caCertificatePEM: PKI.fleetCA.certificatePEM, renewBefore: renewBefore, now: PKI.now
        )
    }

    @Test("a fresh certificate for the right key and SANs is valid")
    func valid() async throws {
        let issued = try PKI.serverCertificate(sans: Self.desired, issuedAt: PKI.now.addingTimeInterval(-PKI.days(10)))
        #expect(try await decide(certificate: issued.certificatePEM, key: issued.keyPEM) == .valid(notAfter: PKI.now.addingTimeInterval(PKI.days(80))))
    }

    @Test("no certificate or no key means missing")
    func missing() async throws {
        #expect(try await decide(certificate: nil, key: nil) == .needsCertificate(reason: .missing))
        #expect(try await decide(certificate: nil, key: HostIdentity.generateKey()) == .needsCertificate(reason: .missing))
        let issued = try PKI.serverCertificate(sans: Self.desired)
        #expect(try await decide(certificate: issued.certificatePEM, key: nil) == .needsCertificate(reason: .missing))
    }

    @Test("an unreadable certificate or key is unparsable")
    func unparsable() async throws {
        let issued = try PKI.serverCertificate(sans: Self.desired)
        for (certificate, key) in [("not a pem", issued.keyPEM), (issued.certificatePEM, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")] {
            let decision = try await decide(certificate: certificate, key: key)
            guard case .needsCertificate(.unparsable) = decision else {
                Issue.record("expected unparsable, got \(decision)")
                continue
            }
        }
    }

    @Test("a certificate issued for another key is a key mismatch")
    func keyMismatch() async throws {
        let issued = try PKI.serverCertificate(sans: Self.desired)
        #expect(try await decide(certificate: issued.certificatePEM, key: HostIdentity.generateKey()) == .needsCertificate(reason: .keyMismatch))
    }

    @Test("SANs that differ from the host's addresses are a SAN mismatch, with both directions listed")
    func sanMismatch() async throws {
        let issued = try PKI.serverCertificate(sans: [PKI.ip("10.0.0.4"), .dns("web-1")])
        let decision = try await decide(certificate: issued.certificatePEM, key: issued.keyPEM)
        #expect(decision == .needsCertificate(reason: .sanMismatch(missing: [.dns("web-1.example.com"), PKI.ip("10.0.0.5")], unexpected: [PKI.ip("10.0.0.4")])))
        guard case .needsCertificate(let reason) = decision else { return }
        #expect(reason.description.contains("missing dns:web-1.example.com, ip:10.0.0.5"))
    }

    @Test("SAN order does not matter")
    func sanOrder() async throws {
        let issued = try PKI.serverCertificate(sans: Self.desired.reversed())
        guard case .valid = try await decide(certificate: issued.certificatePEM, key: issued.keyPEM) else {
            Issue.record("reordered SANs should still be valid")
            return
        }
    }

    @Test("a certificate expiring within renewBefore is inside the renew window")
    func insideRenewWindow() async throws {
        let issued = try PKI.serverCertificate(sans: Self.desired, days: 20)
        #expect(try await decide(certificate: issued.certificatePEM, key: issued.keyPEM) == .needsCertificate(reason: .insideRenewWindow(notAfter: PKI.now.addingTimeInterval(PKI.days(20)))))
        // The same certificate with a shorter window is fine.
        guard case .valid = try await decide(certificate: issued.certificatePEM, key: issued.keyPEM, renewBefore: .days(7)) else {
            Issue.record("expected valid with renewBefore 7d")
            return
        }
    }

    @Test("an expired certificate is expired")
    func expired() async throws {
        let issued = try PKI.serverCertificate(sans: Self.desired, days: 90, issuedAt: PKI.now.addingTimeInterval(-PKI.days(91)))
        #expect(try await decide(certificate: issued.certificatePEM, key: issued.keyPEM) == .needsCertificate(reason: .expired(notAfter: PKI.now.addingTimeInterval(-PKI.days(1)))))
    }

    @Test("a certificate from the future is not yet valid")
    func notYetValid() async throws {
        let issued = try PKI.serverCertificate(sans: Self.desired, issuedAt: PKI.now.addingTimeInterval(PKI.days(2)))
        guard case .needsCertificate(.notYetValid) = try await decide(certificate: issued.certificatePEM, key: issued.keyPEM) else {
            Issue.record("expected notYetValid")
            return
        }
    }

    @Test("a certificate from another CA, even one with the same name, is not signed by the fleet CA")
    func notSignedByFleetCA() async throws {
        let impostor = try FleetCA.create(fleet: "prod", now: PKI.now.addingTimeInterval(-PKI.days(1)))
        let other = try FleetCA(certificatePEM: impostor.certificatePEM, privateKeyPEM: impostor.privateKeyPEM)
        let issued = try PKI.serverCertificate(sans: Self.desired, ca: other)
        let decision = try await decide(certificate: issued.certificatePEM, key: issued.keyPEM)
        guard case .needsCertificate(.notSignedByFleetCA(let details)) = decision else {
            Issue.record("expected notSignedByFleetCA, got \(decision)")
            return
        }
        #expect(details.contains("signature does not verify"))

        let lab = try FleetCA.create(fleet: "lab", now: PKI.now.addingTimeInterval(-PKI.days(1)))
        let labIssued = try PKI.serverCertificate(sans: Self.desired, ca: FleetCA(certificatePEM: lab.certificatePEM, privateKeyPEM: lab.privateKeyPEM))
        guard case .needsCertificate(.notSignedByFleetCA(let labDetails)) = try await decide(certificate: labIssued.certificatePEM, key: labIssued.keyPEM) else {
            Issue.record("expected notSignedByFleetCA for another fleet's CA")
            return
        }
        #expect(labDetails.contains("Berth fleet lab CA"))
    }

    @Test("an unreadable CA is the repository's problem and throws")
    func badCA() async throws {
        await #expect(throws: BerthError.self) {
            try await RenewalDecision.evaluate(certificatePEM: nil, privateKeyPEM: nil, desiredSANs: [], caCertificatePEM: "nope", renewBefore: .days(30), now: PKI.now)
        }
    }
}
