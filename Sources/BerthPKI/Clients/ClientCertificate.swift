import BerthCore
import Foundation
import SwiftASN1
import X509

/// Client identities for Docker's mutual TLS, authorized by pinning (docs/design.md, "Client authorization").
///
/// A host's `clients.pem` is handed to `dockerd --tlscacert`, so every certificate in it
/// is a trust anchor for client authentication. That is why a client certificate must be a
/// *leaf*: a CA certificate pinned there would let anyone holding its key mint new clients,
/// which is exactly what pinning exists to prevent. And it must allow `clientAuth`, or Go's
/// TLS stack in `dockerd` rejects it during the handshake, long after `validate` passed.
public enum ClientCertificate {
    /// A new key and a self-signed client certificate for `name`, valid `days` from `now`:
    /// `CN=name`, basicConstraints CA:FALSE (critical), keyUsage digitalSignature (critical),
    /// extendedKeyUsage clientAuth.
    ///
    /// Self-signed rather than CA-signed because the CA plays no part in client trust: the
    /// host trusts exactly the pinned certificate, and the fleet CA key stays unused.
    public static func create(
        name: String,
        days: Int,
        keyType: KeyType = .ecdsa,
        now: Date
    ) throws -> (certificatePEM: String, privateKeyPEM: String) {
        let (key, keyPEM) = try PrivateKeyPEM.generateKey(keyType)
        let certificate = try SelfSignedCertificate.make(
            key: key, subject: try DistinguishedName { CommonName(name) }, now: now, days: days, what: "client certificate"
        ) {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.clientAuth])
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        return (try certificate.pemString, keyPEM)
    }

    /// Whether `pem` may be pinned as a client on a host at `now`.
    public static func check(pem: String, now: Date) -> ClientCertificateCheck {
        switch inspect(pem: pem) {
        case .failure(let rejection):
            return .rejected(rejection)
        case .success(let certificate):
            let summary = CertificateSummary(certificate)
            switch summary.expiry(at: now) {
            case .expired(let notAfter): return .rejected(.expired(notAfter: notAfter))
            case .notYetValid(let notBefore): return .rejected(.notYetValid(notBefore: notBefore))
            case .valid: return .acceptable(summary)
            }
        }
    }

    /// The checks that do not depend on time: one PEM certificate, a leaf, usable for clientAuth.
    static func inspect(pem: String) -> Result<Certificate, ClientCertificateCheck.Rejection> {
        let documents: [PEMDocument]
        do {
            documents = try PEMParsing.documents(pem, what: "the client file")
        } catch {
            return .failure(.unparsable(details: String(describing: error)))
        }
        guard documents.count == 1 else {
            return .failure(.notASingleCertificate(blocks: documents.map(\.discriminator)))
        }
        let certificate: Certificate
        do {
            certificate = try PEMParsing.certificate(documents[0], what: "the client file")
        } catch {
            return .failure(.unparsable(details: String(describing: error)))
        }
        if certificate.isCertificateAuthority {
            return .failure(.certificateAuthority(subject: certificate.subject.description))
        }
        if let usages = try? certificate.extensions.extendedKeyUsage,
           !usages.contains(.clientAuth), !usages.contains(.any) {
            return .failure(.lacksClientAuth(usages: usages.map { String(describing: $0) }))
        }
        return .success(certificate)
    }

    /// Subject CN, SHA-256 fingerprint and notAfter (and the rest) of a client certificate.
    public static func summary(pem: String) throws -> CertificateSummary {
        try CertificateSummary(pem: pem)
    }
}
