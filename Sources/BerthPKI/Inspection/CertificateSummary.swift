import BerthCore
import Foundation
import X509

/// What reports, `client ls` and `status` show about a certificate, without X509 types.
///
/// A value rather than the parsed `Certificate` so that BerthCore-level code (reports,
/// JSON output) can carry it and compare it without depending on swift-certificates.
public struct CertificateSummary: Sendable, Hashable, Codable {
    /// The subject as an RFC 4514 string, e.g. `CN=web-1`.
    public var subject: String
    /// The subject's commonName, when it has one.
    public var commonName: String?
    /// The issuer as an RFC 4514 string; equal to `subject` for self-signed certificates.
    public var issuer: String
    /// The subjectAltName entries as `ip:...` / `dns:...` strings.
    public var subjectAltNames: [String]
    public var notBefore: Date
    public var notAfter: Date
    /// SHA-256 over the DER, as uppercase hex pairs joined by `:`.
    public var fingerprint: String
    /// basicConstraints CA:TRUE.
    public var isCA: Bool
    public var serialNumber: String

    /// Summarises a PEM holding exactly one certificate; throws `BerthError(.certificate)` otherwise.
    public init(pem: String) throws {
        self.init(try PEMParsing.certificate(pem))
    }

    init(_ certificate: Certificate) {
        subject = certificate.subject.description
        commonName = certificate.subject.commonName
        issuer = certificate.issuer.description
        subjectAltNames = certificate.berthSubjectAltNames.map(\.description)
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
        fingerprint = Fingerprint.sha256(of: certificate)
        isCA = certificate.isCertificateAuthority
        serialNumber = certificate.serialNumber.description
    }

    /// The subject's commonName, or the whole subject when it has none: the name to print.
    public var displayName: String { commonName ?? subject }

    /// Whether the certificate has expired at `now` (notAfter is inclusive, RFC 5280 §4.1.2.5).
    public func expiry(at now: Date) -> CertificateExpiry {
        CertificateExpiry(notBefore: notBefore, notAfter: notAfter, now: now)
    }
}
