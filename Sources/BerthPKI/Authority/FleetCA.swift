import BerthCore
import Foundation
import X509
import _CryptoExtras

/// The fleet's certificate authority: the one key that turns a host's CSR into a server
/// certificate every Docker client of the fleet trusts.
///
/// The CA only signs *server* certificates. Clients are authorized by pinning their leaf
/// certificates on each host (docs/design.md), not by the CA, so a leaked CA key cannot mint a
/// client that reaches a daemon. Whether a CSR's names are acceptable is decided by
/// ``SANPolicy`` before ``issueServerCertificate(csrPEM:days:now:)`` is called: issuing is
/// mechanical and copies the names the CSR asks for.
public struct FleetCA: Sendable {
    /// The CA certificate as PEM, as stored in the repository's `ca.pem`.
    public let certificatePEM: String
    let certificate: Certificate
    let privateKey: Certificate.PrivateKey

    /// Certificates start this long before `now`, so a host whose clock runs a little
    /// behind the operator's accepts a certificate signed a moment ago.
    public static let backdating: TimeInterval = 300

    /// A new self-signed CA: `CN=Berth fleet FLEET CA`, basicConstraints CA:TRUE (critical,
    /// path length 0: it signs leaves only), keyUsage keyCertSign + cRLSign (critical).
    public static func create(
        fleet: String,
        keyType: KeyType = .ecdsa,
        now: Date,
        validityDays: Int = 3650
    ) throws -> (certificatePEM: String, privateKeyPEM: String) {
        let (key, keyPEM) = try PrivateKeyPEM.generateKey(keyType)
        let certificate = try SelfSignedCertificate.make(
            key: key, subject: try DistinguishedName { CommonName("Berth fleet \(fleet) CA") }, now: now, days: validityDays, what: "CA"
        ) {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        return (try certificate.pemString, keyPEM)
    }

    /// Loads the CA from `ca.pem` and its key file, refusing a key that is not the certificate's.
    ///
    /// Throws `BerthError` `.certificate` when `ca.pem` is not a CA certificate,
    /// `.invalidPrivateKey` when the key does not parse, `.keyMismatch` when they do not pair.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate = try PEMParsing.certificate(certificatePEM, what: "the CA certificate")
        guard certificate.isCertificateAuthority else {
            throw BerthError(.certificate, "the CA certificate (\(certificate.subject)) is not a CA: basicConstraints CA:TRUE is missing")
        }
        let key = try PrivateKeyPEM.load(privateKeyPEM)
        guard key.publicKey == certificate.publicKey else {
            throw BerthError(.keyMismatch, "the CA key does not belong to the CA certificate \(certificate.subject) (fingerprint \(Fingerprint.sha256(of: certificate))); pass the key this fleet was created with (--ca-key)")
        }
        self.certificatePEM = certificatePEM
        self.certificate = certificate
        self.privateKey = key
    }

    /// A summary of the CA certificate (subject, fingerprint, validity) for messages.
    public var summary: CertificateSummary { CertificateSummary(certificate) }

    /// Signs a host's CSR as a TLS server certificate valid for `days` from `now`.
    ///
    /// The certificate carries the CSR's subject and exactly its subjectAltName entries;
    /// basicConstraints CA:FALSE, keyUsage digitalSignature (plus keyEncipherment for RSA
    /// keys, which TLS 1.2 RSA key exchange needs), extendedKeyUsage serverAuth, a random
    /// 160-bit serial and subject/authority key identifiers. Check the CSR with
    /// ``SANPolicy`` first. Throws `.invalidCSR` when the CSR does not verify or asks for
    /// no names, `.certificate` when the CA itself has expired at `now`.
    public func issueServerCertificate(csrPEM: String, days: Int, now: Date) throws -> String {
        guard days > 0 else {
            throw BerthError(.invalidInput, "serverCertDays must be at least 1, got \(days)")
        }
        let csr = try PEMParsing.csr(csrPEM)
        let sans: SubjectAlternativeNames
        do {
            guard let requested = try csr.attributes.extensionRequest?.extensions.subjectAlternativeNames,
                  !requested.isEmpty
            else {
                throw BerthError(.invalidCSR, "the CSR asks for no subjectAltName; Docker clients match only SANs, so the certificate would be useless")
            }
            sans = requested
        } catch let error as BerthError {
            throw error
        } catch {
            throw BerthError(.invalidCSR, "the CSR's extension request does not parse", underlying: error)
        }
        if case .expired(let notAfter) = CertificateExpiry(notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, now: now) {
            throw BerthError(.certificate, "the fleet CA expired at \(notAfter.berthTimestamp); it can no longer sign. Create a new CA and re-issue every certificate")
        }

        var keyUsage = KeyUsage(digitalSignature: true)
        if _RSA.Signing.PublicKey(csr.publicKey) != nil { keyUsage.keyEncipherment = true }
        let issuerKeyIdentifier = (try? certificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(keyUsage)
            try ExtendedKeyUsage([.serverAuth])
            sans
            SubjectKeyIdentifier(hash: csr.publicKey)
            AuthorityKeyIdentifier(keyIdentifier: issuerKeyIdentifier)
        }
        // Never outlive the CA: a leaf valid past its issuer fails verification anyway,
        // and the earlier notAfter makes the agent renew in time.
        let notAfter = min(now.addingTimeInterval(TimeInterval(days) * 86_400), certificate.notValidAfter)
        let issued = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: csr.publicKey,
            notValidBefore: max(now.addingTimeInterval(-Self.backdating), certificate.notValidBefore),
            notValidAfter: notAfter,
            issuer: certificate.subject,
            subject: csr.subject,
            extensions: extensions,
            issuerPrivateKey: privateKey
        )
        return try issued.pemString
    }
}
