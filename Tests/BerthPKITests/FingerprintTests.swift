@testable import BerthPKI
import SwiftASN1
import Testing

@Suite("SHA-256 fingerprints")
struct FingerprintTests {
    @Test("bytes print as 32 uppercase hex pairs joined by colons")
    func format() {
        let fingerprint = Fingerprint.sha256(Array("abc".utf8))
        #expect(fingerprint == "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD")
    }

    @Test("a CSR's fingerprint is the SHA-256 of its DER, the same on both sides")
    func csr() throws {
        let key = try HostIdentity.generateKey()
        let pem = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: [.dnsName("web-1")], privateKeyPEM: key)
        let der = try PEMDocument(pemString: pem).derBytes
        let fingerprint = try Fingerprint.sha256(ofCSRPEM: pem)
        #expect(fingerprint == Fingerprint.sha256(der))
        #expect(fingerprint.count == 95)
        #expect(fingerprint.allSatisfy { $0 == ":" || $0.isNumber || ("A"..."F").contains($0) })
    }

    @Test("a certificate's fingerprint is the SHA-256 of its DER")
    func certificate() throws {
        let pem = PKI.fleetCA.certificatePEM
        #expect(try Fingerprint.sha256(ofCertificatePEM: pem) == Fingerprint.sha256(PEMDocument(pemString: pem).derBytes))
    }

    @Test("a certificate is not accepted where a CSR is expected")
    func wrongBlock() {
        #expect(throws: (any Error).self) { try Fingerprint.sha256(ofCSRPEM: PKI.fleetCA.certificatePEM) }
    }
}
