/// Finds private keys in file contents, so `berthctl validate` can keep them out of the
/// fleet repository (no private key is ever in it).
///
/// It looks for PEM armor whose label ends in `PRIVATE KEY` (PKCS#8 `PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`,
/// `OPENSSH PRIVATE KEY`, `DSA PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`, ...) anywhere in the
/// bytes, not just at the start of a line, because keys get pasted into YAML block scalars,
/// quoted strings and JSON values where the line breaks are the two characters `\n`.
///
/// A marker alone is not a finding: it counts only when a base64 body follows it (at least
/// ``minimumBodyLength`` base64 characters after any line breaks, escaped line breaks,
/// indentation and RFC 1421 headers such as `Proc-Type:`; JSON's `\/` counts as `/`).
/// READMEs, runbooks and this project's own docs mention `-----BEGIN PRIVATE KEY-----` to
/// tell people what not to commit; flagging them would teach operators to ignore the check.
/// A real key's body is never that short: the smallest, a P-256 SEC1 key, is over 160
/// base64 characters.
///
/// Contents are scanned as bytes, so binary files and invalid UTF-8 are fine.
public enum PrivateKeyScanner {
    /// One private key found in a file.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        /// 1-based line and column of the `-----BEGIN` marker.
        public var line: Int
        public var column: Int
        /// The PEM label, e.g. `EC PRIVATE KEY`.
        public var label: String

        public var kind: Kind { Kind(label: label) }

        public var description: String { "\(line):\(column): -----BEGIN \(label)-----" }
    }

    /// The key formats Berth names in messages.
    public enum Kind: Sendable, Hashable {
        case pkcs8
        case encryptedPKCS8
        case sec1
        case rsa
        case openSSH
        /// Any other `... PRIVATE KEY` label (DSA, PGP, ...).
        case other(String)

        public init(label: String) {
            switch label {
            case "PRIVATE KEY": self = .pkcs8
            case "ENCRYPTED PRIVATE KEY": self = .encryptedPKCS8
            case "EC PRIVATE KEY": self = .sec1
            case "RSA PRIVATE KEY": self = .rsa
            case "OPENSSH PRIVATE KEY": self = .openSSH
            default: self = .other(label)
            }
        }
    }

    /// Base64 characters a body needs before it counts as a key.
    public static let minimumBodyLength = 32

    /// Every private key in `contents`, in file order.
    public static func scan(_ contents: some Collection<UInt8>) -> [Finding] {
        let bytes = Array(contents)
        let begin = Array("-----BEGIN ".utf8)
        var findings: [Finding] = []
        var line = 1
        var lineStart = 0
        var index = 0
        while index + begin.count <= bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "-"), bytes[index..<(index + begin.count)].elementsEqual(begin) else {
                index += 1
                continue
            }
            if let (label, afterMarker) = privateKeyLabel(bytes, from: index + begin.count),
               hasBody(bytes, from: afterMarker) {
                findings.append(Finding(line: line, column: index - lineStart + 1, label: label))
            }
            index += begin.count
        }
        return findings
    }

    /// Scans text.
    public static func scan(_ text: String) -> [Finding] {
        scan(Array(text.utf8))
    }

    /// One error diagnostic per finding, located at the marker, for `berthctl validate`.
    public static func diagnostics(file: String, contents: some Collection<UInt8>) -> [Diagnostic] {
        scan(contents).map { finding in
            Diagnostic(
                .error,
                at: SourceLocation(file: file, line: finding.line, column: finding.column),
                field: "",
                "contains a private key (-----BEGIN \(finding.label)-----); private keys never enter the fleet repository. Remove it, purge it from Git history, and replace the key, since anyone with the repository has it"
            )
        }
    }

    /// Reads `LABEL-----` after `-----BEGIN ` and returns the label when it names a private key.
    private static func privateKeyLabel(_ bytes: [UInt8], from start: Int) -> (String, Int)? {
        var end = start
        while end < bytes.count, end - start <= 40,
              bytes[end] == UInt8(ascii: " ") || (bytes[end] >= UInt8(ascii: "A") && bytes[end] <= UInt8(ascii: "Z"))
                || (bytes[end] >= UInt8(ascii: "0") && bytes[end] <= UInt8(ascii: "9")) {
            end += 1
        }
        let dashes = Array("-----".utf8)
        guard end + dashes.count <= bytes.count, bytes[end..<(end + dashes.count)].elementsEqual(dashes) else { return nil }
        let label = String(decoding: bytes[start..<end], as: UTF8.self)
        guard label.hasSuffix("PRIVATE KEY") || label.hasSuffix("PRIVATE KEY BLOCK") else { return nil }
        return (label, end + dashes.count)
    }

    /// Whether a base64 body follows, skipping separators and armor headers.
    private static func hasBody(_ bytes: [UInt8], from start: Int) -> Bool {
        var index = skipSeparators(bytes, from: start)
        // RFC 1421 / OpenPGP armor headers ("Proc-Type: 4,ENCRYPTED", "Version: ...") sit
        // between the marker and the body; skip a few of them.
        for _ in 0..<8 {
            guard let afterHeader = headerEnd(bytes, from: index) else { break }
            index = skipSeparators(bytes, from: afterHeader)
        }
        var count = 0
        while index < bytes.count, count < minimumBodyLength {
            let byte = bytes[index]
            if isBase64(byte) {
                count += 1
                index += 1
            } else if byte == UInt8(ascii: "\\"), let slash = escapedSlash(bytes, at: index) {
                // JSON may escape `/` as `\/`; it is still the base64 character.
                count += 1
                index = slash + 1
            } else if isSeparator(byte) || byte == UInt8(ascii: "\\") {
                // A body may wrap before reaching the threshold (short lines, `\n` escapes).
                let next = skipSeparators(bytes, from: index)
                if next == index { return false }
                index = next
            } else {
                return false
            }
        }
        return count >= minimumBodyLength
    }

    /// Skips whitespace and escaped line breaks: `\n` / `\r` / `\t` escapes (any number of
    /// backslashes, for JSON inside JSON) and a YAML `\` line continuation.
    private static func skipSeparators(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            if isSeparator(bytes[index]) {
                index += 1
            } else if bytes[index] == UInt8(ascii: "\\") {
                var next = index
                while next < bytes.count, bytes[next] == UInt8(ascii: "\\") { next += 1 }
                if next < bytes.count, [UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t")].contains(bytes[next]) {
                    index = next + 1
                } else if next < bytes.count, isSeparator(bytes[next]) {
                    index = next
                } else {
                    return index
                }
            } else {
                return index
            }
        }
        return index
    }

    /// The index of the `/` when a run of backslashes at `index` escapes one.
    private static func escapedSlash(_ bytes: [UInt8], at index: Int) -> Int? {
        var next = index
        while next < bytes.count, bytes[next] == UInt8(ascii: "\\") { next += 1 }
        return next < bytes.count && bytes[next] == UInt8(ascii: "/") ? next : nil
    }

    /// If a `Name: value` header line starts at `start`, the index just past its value.
    private static func headerEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < bytes.count, isHeaderNameByte(bytes[index]) { index += 1 }
        guard index > start, index + 1 < bytes.count,
              bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: " ")
        else { return nil }
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n"), bytes[index] != UInt8(ascii: "\r"), bytes[index] != UInt8(ascii: "\\") {
            index += 1
        }
        return index
    }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    /// A byte of base64's alphabet, padding included.
    static func isBase64(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=")
    }

    private static func isHeaderNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
    }
}
