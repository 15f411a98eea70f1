import BerthCore
import Crypto
import _CryptoExtras
import Foundation
import X509

/// The signature a host puts beside its report (`HOST.json.sig`): made with the host's own key,
/// verified by `berthctl` against `certs/HOST.pem`, so no host can speak for another.
///
/// The file is four lines of text:
///
///     berth-report-signature v1
///     sha256 <hex of HOST.json>
///     algorithm <ecdsa-with-SHA256 | sha256WithRSAEncryption | ...>
///     signature <base64>
///
/// The digest line tells a report that is merely newer than its signature (a reader caught the
/// writer between the two renames: read again) from one that was forged.
public struct ReportSignature: Sendable, Equatable {
    public static let header = "berth-report-signature v1"

    /// SHA-256 of the report bytes, lowercase hex.
    public var digest: String
    public var algorithm: String
    public var signature: [UInt8]

    /// Signs `report` (the exact bytes published) with the host key.
    public static func sign(_ report: [UInt8], privateKeyPEM: String) throws -> ReportSignature {
        let key = try PrivateKeyPEM.load(privateKeyPEM)
        let algorithm = try signatureAlgorithm(for: key.publicKey)
        let signature = try key.sign(bytes: report, signatureAlgorithm: algorithm)
        return ReportSignature(digest: ContentID.sha256Hex(report), algorithm: "\(algorithm)", signature: signature.rawRepresentation)
    }

    public var text: String {
        "\(Self.header)\nsha256 \(digest)\nalgorithm \(algorithm)\nsignature \(Data(signature).base64EncodedString())\n"
    }

    public static func parse(_ text: String) throws -> ReportSignature {
        let lines = text.split(separator: "\n").map(String.init)
        func value(_ key: String) -> String? {
            lines.first { $0.hasPrefix(key + " ") }.map { String($0.dropFirst(key.count + 1)) }
        }
        guard lines.first == header, let digest = value("sha256"), let algorithm = value("algorithm"),
              let encoded = value("signature"), let signature = Data(base64Encoded: encoded) else {
            throw BerthError(.untrusted, "the report signature is not a \(header) file")
        }
        return ReportSignature(digest: digest, algorithm: algorithm, signature: Array(signature))
    }

    /// How a report's signature checked out.
    public enum Verdict: Sendable, Equatable {
        case valid
        /// The signature is for other bytes than these (the report changed since it was signed).
        case digestMismatch
        case invalid(String)
    }

    /// Checks the signature over `report` against the public key of `certificatePEM` (the host's
    /// certificate) or of a CSR (`csrPEM`, before the host has a certificate).
    public func verify(_ report: [UInt8], certificatePEM: String) -> Verdict {
        guard let certificate = try? PEMParsing.certificate(certificatePEM) else { return .invalid("the host's certificate does not parse") }
        return verify(report, publicKey: certificate.publicKey)
    }

    public func verify(_ report: [UInt8], csrPEM: String) -> Verdict {
        guard let csr = try? PEMParsing.csr(csrPEM) else { return .invalid("the pending CSR does not parse") }
        return verify(report, publicKey: csr.publicKey)
    }

    /// Against the public half of `privateKeyPEM`: the agent telling reports it signed itself
    /// from others' (its status ref's history, after its record of it was lost).
    public func verify(_ report: [UInt8], privateKeyPEM: String) -> Verdict {
        guard let key = try? PrivateKeyPEM.load(privateKeyPEM) else { return .invalid("the host key does not parse") }
        return verify(report, publicKey: key.publicKey)
    }

    func verify(_ report: [UInt8], publicKey: Certificate.PublicKey) -> Verdict {
        guard ContentID.sha256Hex(report) == digest else { return .digestMismatch }
        guard let algorithm = try? Self.signatureAlgorithm(for: publicKey), "\(algorithm)" == self.algorithm else {
            return .invalid("signed with \(algorithm), which is not the algorithm of the host's key")
        }
        return publicKey.isValidSignature(signature, for: report, signatureAlgorithm: algorithm)
            ? .valid : .invalid("the signature was not made by the host's key")
    }

    static func signatureAlgorithm(for key: Certificate.PublicKey) throws -> Certificate.SignatureAlgorithm {
        if P256.Signing.PublicKey(key) != nil { return .ecdsaWithSHA256 }
        if P384.Signing.PublicKey(key) != nil { return .ecdsaWithSHA384 }
        if P521.Signing.PublicKey(key) != nil { return .ecdsaWithSHA512 }
        if _RSA.Signing.PublicKey(key) != nil { return .sha256WithRSAEncryption }
        throw BerthError(.invalidPrivateKey, "the host key's algorithm cannot sign reports; Berth makes P-256 or RSA keys")
    }
}
