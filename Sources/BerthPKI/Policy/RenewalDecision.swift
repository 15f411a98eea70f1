import BerthCore
import Foundation
import X509

/// The agent's answer to "does this host need a new server certificate?".
///
/// Decided from what is on disk (the installed certificate and key), what the host should
/// be (the SANs ``HostIdentity/subjectAltNames(for:observed:)`` computes) and the fleet CA,
/// at the caller's `now`. When the answer is `needsCertificate` the agent stages a key,
/// publishes a CSR and keeps serving the old certificate until the new one arrives, so the
/// reason is there for the status report, not to pick a code path.
public enum RenewalDecision: Sendable, Hashable {
    /// The installed certificate is good and outside the renewal window.
    case valid(notAfter: Date)
    case needsCertificate(reason: Reason)

    /// Why the host needs a new certificate, in the order they are checked.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// No certificate or no key is installed yet.
        case missing
        /// The certificate or key file is not a PEM certificate / private key.
        case unparsable(details: String)
        /// The certificate was issued for another key (e.g. the key was regenerated).
        case keyMismatch
        case expired(notAfter: Date)
        /// The certificate starts in the future: a clock problem on the host or the signer.
        case notYetValid(notBefore: Date)
        /// It does not chain to the fleet CA (another fleet's cert, or the CA was replaced).
        case notSignedByFleetCA(details: String)
        /// The SANs differ from what the host should carry: addresses changed.
        case sanMismatch(missing: [SubjectAltName], unexpected: [SubjectAltName])
        /// Valid, but it expires within `renewBefore`.
        case insideRenewWindow(notAfter: Date)

        public var description: String {
            switch self {
            case .missing:
                return "no server certificate installed yet"
            case .unparsable(let details):
                return "the installed certificate or key is unusable: \(details)"
            case .keyMismatch:
                return "the installed certificate was issued for another key"
            case .expired(let notAfter):
                return "the certificate expired at \(notAfter.berthTimestamp)"
            case .notYetValid(let notBefore):
                return "the certificate is not valid before \(notBefore.berthTimestamp); check the clocks of this host and of the machine that signed it"
            case .notSignedByFleetCA(let details):
                return "the certificate is not signed by the fleet CA: \(details)"
            case .sanMismatch(let missing, let unexpected):
                var parts: [String] = []
                if !missing.isEmpty { parts.append("missing " + missing.map(\.description).joined(separator: ", ")) }
                if !unexpected.isEmpty { parts.append("no longer declared " + unexpected.map(\.description).joined(separator: ", ")) }
                return "the certificate's SANs do not match the host's addresses: " + parts.joined(separator: "; ")
            case .insideRenewWindow(let notAfter):
                return "the certificate expires at \(notAfter.berthTimestamp), inside renewBefore"
            }
        }
    }

    /// Decides at `now`. Throws only when the CA certificate itself does not parse, which
    /// is the repository's problem, not this host's.
    public static func evaluate(
        certificatePEM: String?,
        privateKeyPEM: String?,
        desiredSANs: [SubjectAltName],
        caCertificatePEM: String,
        renewBefore: TimeSpan,
        now: Date
    ) async throws -> RenewalDecision {
        let ca = try PEMParsing.certificate(caCertificatePEM, what: "the fleet CA certificate")
        guard let certificatePEM, let privateKeyPEM else { return .needsCertificate(reason: .missing) }

        let certificate: Certificate
        let key: Certificate.PrivateKey
        do {
            certificate = try PEMParsing.certificate(certificatePEM, what: "the server certificate")
            key = try PrivateKeyPEM.load(privateKeyPEM)
        } catch let error as BerthError {
            return .needsCertificate(reason: .unparsable(details: error.description))
        }
        guard key.publicKey == certificate.publicKey else { return .needsCertificate(reason: .keyMismatch) }

        switch CertificateExpiry(notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, now: now) {
        case .expired(let notAfter): return .needsCertificate(reason: .expired(notAfter: notAfter))
        case .notYetValid(let notBefore): return .needsCertificate(reason: .notYetValid(notBefore: notBefore))
        case .valid: break
        }
        if case .untrusted(let details) = await FleetChain.verify(certificate, ca: ca, now: now) {
            return .needsCertificate(reason: .notSignedByFleetCA(details: details))
        }

        let have = Set(certificate.berthSubjectAltNames)
        let want = Set(desiredSANs.map(\.normalized))
        if have != want {
            return .needsCertificate(reason: .sanMismatch(missing: want.subtracting(have).sorted(), unexpected: have.subtracting(want).sorted()))
        }
        if certificate.notValidAfter.timeIntervalSince(now) <= TimeInterval(renewBefore.seconds) {
            return .needsCertificate(reason: .insideRenewWindow(notAfter: certificate.notValidAfter))
        }
        return .valid(notAfter: certificate.notValidAfter)
    }
}
