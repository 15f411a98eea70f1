import BerthCore
import Crypto
import SwiftASN1
import X509

/// SHA-256 fingerprints as operators compare them: uppercase hex pairs joined by `:`
/// (`3F:A0:...`), the format `openssl x509 -fingerprint -sha256` prints.
///
/// The host prints its CSR's fingerprint and `berthctl sign` prints the one it is about to
/// sign; matching them is how an operator knows the CSR came from the machine it claims to,
/// which is what makes signing an `addresses: auto` host with `--yes` safe.
public enum Fingerprint {
    /// The fingerprint of raw bytes (a certificate's or CSR's DER).
    public static func sha256(_ bytes: some Sequence<UInt8>) -> String {
        SHA256.hash(data: Array(bytes)).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    /// The fingerprint of a CSR: SHA-256 over its DER encoding.
    public static func sha256(ofCSRPEM pem: String) throws -> String {
        sha256(try PEMParsing.csrDER(pem))
    }

    /// The fingerprint of a certificate: SHA-256 over its DER encoding.
    public static func sha256(ofCertificatePEM pem: String) throws -> String {
        sha256(try PEMParsing.der(PEMParsing.certificate(pem)))
    }

    static func sha256(of certificate: Certificate) -> String {
        (try? PEMParsing.der(certificate)).map { sha256($0) } ?? "?"
    }
}
