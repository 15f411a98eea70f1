import BerthCore
import Crypto
import Foundation

/// A one-time secret that vouches for a host's first CSR, so the first certificate needs no
/// trust on first use: `berthctl host add` makes it, the installer puts it on the host, the
/// agent sends `HMAC-SHA256(token, CSR DER)` with the CSR, and `berthctl sign` checks it. Both
/// sides delete it once the certificate is issued.
public enum JoinToken {
    public static let prefix = "berth-join-"

    /// 32 random bytes, hex, behind a prefix that makes the file's purpose obvious.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return prefix + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The token as written in a file: surrounding whitespace is not part of it.
    public static func normalized(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `HMAC-SHA256(token, CSR DER)`, lowercase hex.
    public static func mac(token: String, csrPEM: String) throws -> String {
        let der = try PEMParsing.csrDER(csrPEM)
        let code = HMAC<SHA256>.authenticationCode(for: der, using: SymmetricKey(data: Array(normalized(token).utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `mac` was made with `token` over this CSR (compared in constant time).
    public static func verify(mac: String, token: String, csrPEM: String) -> Bool {
        guard let der = try? PEMParsing.csrDER(csrPEM), let code = hexBytes(mac) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: der, using: SymmetricKey(data: Array(normalized(token).utf8)))
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}
