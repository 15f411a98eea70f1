import BerthCore
@testable import BerthPKI
import Foundation
import SwiftASN1
import Testing
import X509

@Suite("Fleet CA")
struct FleetCATests {
    @Test("a new CA is a self-signed, critical CA:TRUE certificate for the fleet that verifies as its own root", arguments: KeyType.allCases)
    func create(keyType: KeyType) async throws {
        let created = try FleetCA.create(fleet: "prod", keyType: keyType, now: PKI.now, validityDays: 365)
        let certificate = try PKI.certificate(created.certificatePEM)

        #expect(certificate.subject.commonName == "Berth fleet prod CA")
        #expect(certificate.issuer == certificate.subject)
        #expect(certificate.isCertificateAuthority)
        let basicConstraints = try #require(certificate.extensions[oid: .X509ExtensionID.basicConstraints])
        #expect(basicConstraints.critical)
        let keyUsage = try #require(try certificate.extensions.keyUsage)
        #expect(keyUsage.keyCertSign && keyUsage.cRLSign)
        #expect(try certificate.extensions.subjectKeyIdentifier != nil)
        #expect(certificate.notValidAfter == PKI.now.addingTimeInterval(PKI.days(365)))
        #expect(try PrivateKeyPEM.keyType(of: created.privateKeyPEM) == keyType)
        #expect(await FleetChain.verify(certificate, ca: certificate, now: PKI.now) == .trusted)

        // Loading it back checks the key belongs to the certificate.
        _ = try FleetCA(certificatePEM: created.certificatePEM, privateKeyPEM: created.privateKeyPEM)
    }

    @Test("loading a CA with another key fails with key-mismatch")
    func wrongKey() throws {
        let other = try PrivateKeyPEM.generate()
        #expect { try FleetCA(certificatePEM: PKI.fleetCA.certificatePEM, privateKeyPEM: other) } throws: {
            ($0 as? BerthError)?.code == .keyMismatch
        }
    }

    @Test("a leaf certificate cannot be loaded as the CA")
    func leafAsCA() throws {
        let client = try ClientCertificate.create(name: "alice", days: 30, now: PKI.now)
        #expect { try FleetCA(certificatePEM: client.certificatePEM, privateKeyPEM: client.privateKeyPEM) } throws: {
            ($0 as? BerthError)?.code == .certificate
        }
    }

    @Test("an issued server certificate copies the CSR's SANs and chains to the CA", arguments: KeyType.allCases)
    func issue(hostKeyType: KeyType) async throws {
        let sans: [SubjectAltName] = [PKI.ip("10.0.0.5"), PKI.ip("fd00::5"), .dnsName("web-1.example.com"), .dnsName("web-1")]
        let key = try HostIdentity.generateKey(keyType: hostKeyType)
        let csr = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: sans, privateKeyPEM: key)
        let pem = try PKI.ca.issueServerCertificate(csrPEM: csr, days: 90, now: PKI.now)
        let certificate = try PKI.certificate(pem)
        let ca = try PKI.certificate(PKI.fleetCA.certificatePEM)

        #expect(certificate.berthSubjectAltNames == sans)
        #expect(certificate.subject.commonName == "web-1")
        #expect(certificate.issuer == ca.subject)
        #expect(!certificate.isCertificateAuthority)
        let usages = try #require(try certificate.extensions.extendedKeyUsage)
        #expect(Array(usages) == [.serverAuth])
        let keyUsage = try #require(try certificate.extensions.keyUsage)
        #expect(keyUsage.digitalSignature)
        #expect(keyUsage.keyEncipherment == (hostKeyType == .rsa))
        #expect(try certificate.extensions.authorityKeyIdentifier?.keyIdentifier == ca.extensions.subjectKeyIdentifier?.keyIdentifier)
        #expect(try certificate.extensions.subjectKeyIdentifier != nil)
        #expect(certificate.notValidAfter == PKI.now.addingTimeInterval(PKI.days(90)))
        #expect(certificate.notValidBefore == PKI.now.addingTimeInterval(-FleetCA.backdating))
        #expect(await FleetChain.verify(certificate, ca: ca, now: PKI.now) == .trusted)
        #expect(try PrivateKeyPEM.pairing(privateKeyPEM: key, certificatePEM: pem) == .matches)
    }

    @Test("two certificates for the same CSR get different random serials")
    func randomSerials() throws {
        let issued = try PKI.serverCertificate(sans: [.dnsName("web-1")])
        let again = try PKI.ca.issueServerCertificate(csrPEM: issued.csrPEM, days: 90, now: PKI.now)
        #expect(try PKI.certificate(issued.certificatePEM).serialNumber != PKI.certificate(again).serialNumber)
    }

    @Test("a CSR whose signature does not verify is refused with invalid-csr")
    func tamperedCSR() throws {
        let key = try HostIdentity.generateKey()
        let csrPEM = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: [.dnsName("web-1")], privateKeyPEM: key)
        let csr = try CertificateSigningRequest(pemEncoded: csrPEM)
        let otherKey = try PrivateKeyPEM.load(PrivateKeyPEM.generate())
        // Same request, but claiming another public key: proof of possession fails.
        let forged = try CertificateSigningRequest(
            version: csr.version, subject: csr.subject, publicKey: otherKey.publicKey,
            attributes: csr.attributes, signatureAlgorithm: csr.signatureAlgorithm, signature: csr.signature
        )
        let forgedPEM = try forged.serializeAsPEM().pemString
        #expect { try PKI.ca.issueServerCertificate(csrPEM: forgedPEM, days: 90, now: PKI.now) } throws: {
            ($0 as? BerthError)?.code == .invalidCSR
        }
    }

    @Test("a certificate never outlives the CA that signed it")
    func cappedByCA() throws {
        let created = try FleetCA.create(fleet: "lab", now: PKI.now, validityDays: 30)
        let ca = try FleetCA(certificatePEM: created.certificatePEM, privateKeyPEM: created.privateKeyPEM)
        let issued = try PKI.serverCertificate(sans: [.dnsName("web-1")], days: 90, ca: ca)
        #expect(try PKI.certificate(issued.certificatePEM).notValidAfter == PKI.certificate(created.certificatePEM).notValidAfter)
    }

    @Test("an expired CA refuses to sign")
    func expiredCA() throws {
        let key = try HostIdentity.generateKey()
        let csr = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: [.dnsName("web-1")], privateKeyPEM: key)
        #expect { try PKI.ca.issueServerCertificate(csrPEM: csr, days: 90, now: PKI.now.addingTimeInterval(PKI.days(4000))) } throws: {
            ($0 as? BerthError)?.code == .certificate
        }
    }
}
