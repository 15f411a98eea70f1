import BerthPKI
import Foundation
import Testing

@Suite("Certificate summary")
struct CertificateSummaryTests {
    @Test("a server certificate's summary lists its typed SANs, dates, fingerprint and that it is no CA")
    func server() throws {
        let issued = try PKI.serverCertificate(sans: [PKI.ip("10.0.0.5"), .dnsName("web-1")])
        let summary = try CertificateSummary(pem: issued.certificatePEM)
        #expect(summary.subject == "CN=web-1")
        #expect(summary.commonName == "web-1")
        #expect(summary.issuer == "CN=Berth fleet prod CA")
        #expect(summary.subjectAltNames == ["ip:10.0.0.5", "dns:web-1"])
        #expect(summary.notBefore == PKI.now.addingTimeInterval(-FleetCA.backdating))
        #expect(summary.notAfter == PKI.now.addingTimeInterval(PKI.days(90)))
        #expect(summary.fingerprint == (try Fingerprint.sha256(ofCertificatePEM: issued.certificatePEM)))
        #expect(!summary.isCA)
        #expect(summary.expiry(at: PKI.now) == .valid(notAfter: summary.notAfter))
        #expect(summary.expiry(at: summary.notAfter.addingTimeInterval(1)) == .expired(notAfter: summary.notAfter))
    }

    @Test("the CA's summary says it is a CA")
    func ca() throws {
        #expect(try CertificateSummary(pem: PKI.fleetCA.certificatePEM).isCA)
    }

    @Test("text that is not a certificate throws")
    func garbage() {
        #expect(throws: (any Error).self) { try CertificateSummary(pem: "nope") }
    }
}
