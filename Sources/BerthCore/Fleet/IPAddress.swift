#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address in network byte order.
///
/// Parsed with `inet_pton`, so the accepted text is exactly what the C library accepts.
public struct IPAddress: Sendable, Hashable, TextCodable {
    /// 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8]

    public var isV6: Bool { bytes.count == 16 }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = isV6 ? AF_INET6 : AF_INET
        return bytes.withUnsafeBytes { raw in
            guard inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
            return String(cString: buffer)
        }
    }

    public var isLoopback: Bool {
        isV6 ? bytes == [UInt8](repeating: 0, count: 15) + [1] : bytes[0] == 127
    }

    public var isLinkLocal: Bool {
        isV6 ? (bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80) : (bytes[0] == 169 && bytes[1] == 254)
    }
}

/// An address block such as `10.0.0.0/8`, used by `tls.autoSign`.
public struct CIDR: Sendable, Hashable, TextCodable {
    public var network: IPAddress
    public var prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = IPAddress(String(parts[0])), let prefix = Int(parts[1]),
              prefix >= 0, prefix <= ip.bytes.count * 8
        else { return nil }
        self.network = ip
        self.prefix = prefix
    }

    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == network.bytes.count else { return false }
        var remaining = prefix
        for (a, b) in zip(ip.bytes, network.bytes) {
            if remaining <= 0 { return true }
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }

    public var description: String { "\(network)/\(prefix)" }

}

/// DNS host names as certificates and Docker clients accept them (RFC 1123 labels).
public enum DNSName {
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        // An all-numeric last label would be mistaken for a malformed IP address.
        if let last = labels.last, last.allSatisfy(\.isNumber) { return false }
        return labels.allSatisfy { label in
            guard !label.isEmpty, label.utf8.count <= 63,
                  label.first != "-", label.last != "-"
            else { return false }
            return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}

/// Host and client names: `[a-z0-9][a-z0-9.-]*`. They become file names
/// (`certs/HOST.pem`, `clients/NAME.pem`, `HOST.json`), so nothing path-like gets through.
public enum ResourceName {
    public static let rule = "[a-z0-9][a-z0-9.-]* (lowercase letters, digits, '.' and '-'; at most 63 characters)"

    public static func isValid(_ name: String) -> Bool {
        guard let first = name.first, name.count <= 63,
              first.isASCII, first.isLowercase || first.isNumber,
              !name.contains(".."), !name.hasSuffix(".")
        else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "." || $0 == "-") }
    }

    /// A valid name close to `name`, for "write X instead" hints.
    public static func suggestion(for name: String) -> String {
        var out = ""
        for ch in name.lowercased() {
            if ch.isASCII && (ch.isLetter || ch.isNumber) { out.append(ch) }
            else if !out.isEmpty && out.last != "-" { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "web-1" : String(out.prefix(63))
    }
}
