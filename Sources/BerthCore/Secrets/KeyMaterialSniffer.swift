import Foundation

/// Finds private-key material in bytes, whatever its dress: a PEM block (`PrivateKeyScanner`),
/// raw DER (PKCS#8, encrypted PKCS#8, SEC1, PKCS#1, PKCS#12), or that DER base64-encoded with
/// its armor stripped, on one line or wrapped over several (as in a diff, where each line
/// carries a `+`, `-` or space in front).
///
/// It decides two things: whether a drift diff may be shown (neither side of the file may hold
/// key material), and whether a report may leave the host (see ``ReportGuard``). It recognises
/// structure, not secrecy: certificates and CSRs are SEQUENCEs of other shapes and pass.
public enum KeyMaterialSniffer {
    /// What kind of material was found, for messages.
    public enum Finding: Sendable, Equatable, CustomStringConvertible {
        case pem(label: String)
        case der(format: String)
        case base64DER(format: String)

        public var description: String {
            switch self {
            case .pem(let label): return "a PEM \(label) block"
            case .der(let format): return "a DER \(format) private key"
            case .base64DER(let format): return "a base64-encoded DER \(format) private key"
            }
        }
    }

    public static func containsKeyMaterial(_ bytes: some Collection<UInt8>) -> Bool { firstFinding(bytes) != nil }

    public static func firstFinding(_ bytes: some Collection<UInt8>) -> Finding? {
        let bytes = Array(bytes)
        if let pem = PrivateKeyScanner.scan(bytes).first { return .pem(label: pem.label) }
        if let format = DERKeyShape.find(in: bytes) { return .der(format: format) }
        for chunk in base64Chunks(bytes) {
            // Not anchored: a run may start with other base64 lines (whole lines keep the alignment).
            if let der = Data(base64Encoded: chunk), let format = DERKeyShape.find(in: Array(der)) {
                return .base64DER(format: format)
            }
        }
        return nil
    }

    /// Base64 texts worth decoding: long tokens on one line, and runs of lines that are all
    /// base64 (a PEM body without its armor), JSON `\n` and `\/` escapes undone first.
    ///
    /// A run is decoded twice: as it stands, and with a diff marker (`+`, `-`, space) taken off
    /// each line that has one. Only one of the two can be the key (`+` is also a base64
    /// character), so both are tried rather than guessed between.
    static func base64Chunks(_ bytes: [UInt8]) -> [String] {
        // Byte by byte: base64 is ASCII, and Character's Unicode properties cost a no-op pass
        // about 3 % of its instructions on the report it checks.
        let text = unescaped(bytes)
        var chunks: [[UInt8]] = []
        var raw: [UInt8] = [], unmarked: [UInt8] = []
        func flush() {
            for block in [raw, unmarked] where block.count >= minimumLength { chunks.append(block) }
            raw = []
            unmarked = []
        }
        for rawLine in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            // JSON around the value: the end of a string (`",`), and everything up to the quote
            // that opens it (`"error" : "MIGH…`).
            while let last = line.last, jsonTail.contains(last) { line = line.dropLast() }
            if let quote = line.lastIndex(of: UInt8(ascii: "\"")) { line = line[(quote + 1)...] }
            let indentless = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            var stripped = indentless
            if let first = stripped.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { stripped = stripped.dropFirst() }
            if !stripped.isEmpty, stripped.allSatisfy(PrivateKeyScanner.isBase64) {
                raw += indentless.allSatisfy(PrivateKeyScanner.isBase64) ? indentless : stripped
                unmarked += stripped
                continue
            }
            flush()
            // Long tokens anywhere in the line.
            var token: [UInt8] = []
            for byte in rawLine {
                if PrivateKeyScanner.isBase64(byte) { token.append(byte) } else {
                    if token.count >= minimumLength { chunks.append(token) }
                    token = []
                }
            }
            if token.count >= minimumLength { chunks.append(token) }
        }
        flush()
        return chunks.map { padded(String(decoding: $0, as: UTF8.self)) }
    }

    /// What ends a JSON string value on its line: `"`, `,`, a space, `}` and `]`.
    private static let jsonTail: [UInt8] = Array("\", }]".utf8)

    /// JSON's escapes that can sit inside base64 text undone: `\\/` to `/`, `\\n` and `\\r` to a line
    /// break. (Byte by byte: Foundation's replacingOccurrences goes through NSString and ICU.)
    static func unescaped(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                switch bytes[index + 1] {
                case UInt8(ascii: "/"): out.append(UInt8(ascii: "/")); index += 2; continue
                case UInt8(ascii: "n"), UInt8(ascii: "r"): out.append(UInt8(ascii: "\n")); index += 2; continue
                default: break
                }
            }
            out.append(byte)
            index += 1
        }
        return out
    }

    /// The shortest DER private key Berth could meet (P-256 SEC1) is 121 bytes, 164 in base64.
    static let minimumLength = 100

    static func padded(_ text: String) -> String {
        let unpadded = text.filter { $0 != "=" }
        let remainder = unpadded.count % 4
        return remainder == 0 ? unpadded : unpadded + String(repeating: "=", count: 4 - remainder)
    }
}

/// The DER shapes of private keys, recognised by their first fields (no crypto needed).
enum DERKeyShape {
    /// The format of the first private-key structure in `bytes`, if any.
    static func find(in bytes: [UInt8], anchoredAtStart: Bool = false) -> String? {
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x30, let format = shape(bytes, at: index) { return format }
            if anchoredAtStart { break }
            index += 1
        }
        return nil
    }

    struct Element {
        var tag: UInt8
        var content: Range<Int>
        var end: Int { content.upperBound }
    }

    static func element(_ bytes: [UInt8], at index: Int, limit: Int) -> Element? {
        guard index + 2 <= limit else { return nil }
        let tag = bytes[index]
        var length = Int(bytes[index + 1])
        var start = index + 2
        if length & 0x80 != 0 {
            let count = length & 0x7f
            guard count >= 1, count <= 3, start + count <= limit else { return nil }
            length = 0
            for byte in bytes[start..<(start + count)] { length = length << 8 | Int(byte) }
            start += count
        }
        guard start + length <= limit else { return nil }
        return Element(tag: tag, content: start..<(start + length))
    }

    static func children(_ bytes: [UInt8], of parent: Element, max: Int = 10) -> [Element]? {
        var out: [Element] = []
        var index = parent.content.lowerBound
        while index < parent.content.upperBound, out.count < max {
            guard let child = element(bytes, at: index, limit: parent.content.upperBound) else { return nil }
            out.append(child)
            index = child.end
        }
        return out
    }

    static func smallInteger(_ bytes: [UInt8], _ element: Element) -> Int? {
        guard element.tag == 0x02, element.content.count == 1 else { return nil }
        return Int(bytes[element.content.lowerBound])
    }

    static func shape(_ bytes: [UInt8], at index: Int) -> String? {
        guard let top = element(bytes, at: index, limit: bytes.count), top.content.count >= 32,
              let fields = children(bytes, of: top), fields.count >= 2 else { return nil }
        let tags = fields.map(\.tag)
        let version = smallInteger(bytes, fields[0])
        // PKCS#8 PrivateKeyInfo / OneAsymmetricKey: version 0|1, AlgorithmIdentifier, OCTET STRING key.
        if (version == 0 || version == 1), fields.count >= 3, tags[1] == 0x30, tags[2] == 0x04,
           let algorithm = children(bytes, of: fields[1]), algorithm.first?.tag == 0x06 {
            return "PKCS#8"
        }
        // SEC1 ECPrivateKey: version 1, OCTET STRING of the key's size, then [0]/[1].
        if version == 1, tags[1] == 0x04, [32, 48, 66].contains(fields[1].content.count) {
            return "SEC1 EC"
        }
        // PKCS#1 RSAPrivateKey: version 0 and eight more INTEGERs.
        if version == 0, fields.count >= 9, tags.prefix(9).allSatisfy({ $0 == 0x02 }) {
            return "PKCS#1 RSA"
        }
        // PKCS#12 PFX: version 3, ContentInfo (data or signedData).
        if version == 3, tags[1] == 0x30, let content = children(bytes, of: fields[1]), content.first?.tag == 0x06 {
            return "PKCS#12"
        }
        // EncryptedPrivateKeyInfo: AlgorithmIdentifier (a PBES OID), OCTET STRING.
        if fields.count == 2, tags[0] == 0x30, tags[1] == 0x04, fields[1].content.count >= 32,
           let algorithm = children(bytes, of: fields[0]), let oid = algorithm.first, oid.tag == 0x06,
           bytes[oid.content].starts(with: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05]) || bytes[oid.content].starts(with: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c]) {
            return "encrypted PKCS#8"
        }
        return nil
    }
}

/// The last check before a report leaves the host: its encoded bytes must hold no key material.
public enum ReportGuard {
    public static func check(_ encoded: [UInt8], what: String) throws {
        if let finding = KeyMaterialSniffer.firstFinding(encoded) {
            throw BerthError(.privateKeyFound, "\(what) holds \(finding); it was not written or pushed")
        }
    }
}
