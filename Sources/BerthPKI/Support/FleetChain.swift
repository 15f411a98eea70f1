@_spi(FixedExpiryValidationTime) import X509
import Foundation

/// Chain verification against the fleet CA as the only trust anchor, with swift-certificates'
/// `Verifier` and its RFC 5280 policy evaluated at the caller's `now` (hence the SPI import:
/// the public initialisers either read the wall clock or are deprecated).
enum FleetChain {
    enum Verdict: Sendable, Hashable {
        case trusted
        case untrusted(details: String)
    }

    static func verify(_ leaf: Certificate, ca: Certificate, now: Date) async -> Verdict {
        var verifier = Verifier(rootCertificates: CertificateStore([ca])) {
            RFC5280Policy(fixedExpiryValidationTime: now)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore()) {
        case .validCertificate:
            return .trusted
        case .couldNotValidate(let failures):
            if failures.isEmpty {
                if leaf.issuer != ca.subject {
                    return .untrusted(details: "issued by \(leaf.issuer), not by the fleet CA \(ca.subject)")
                }
                return .untrusted(details: "its signature does not verify with the fleet CA \(ca.subject) key (fingerprint \(Fingerprint.sha256(of: ca))); it was signed by another CA of the same name")
            }
            let reasons = Set(failures.map { String(describing: $0.policyFailureReason) }).sorted()
            return .untrusted(details: "the chain to the fleet CA \(ca.subject) fails RFC 5280 checks at \(now.berthTimestamp): \(reasons.joined(separator: "; "))")
        }
    }
}
