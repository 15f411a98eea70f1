import BerthCore
import SwiftASN1
import X509

/// One subjectAltName entry, typed the way TLS clients match it.
///
/// Go's TLS stack (and so `docker`) matches an IP it dials only against `iPAddress` SANs and
/// a name only against `dNSName` SANs; an IP written as a DNS name never matches. So the type
/// is part of the value, and a SAN reads as `ip:10.0.0.5` or `dns:web-1.example.com` in every
/// message. Other kinds of names are kept as `unsupported` so policy can refuse them by name
/// instead of silently dropping them.
public enum SubjectAltName: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// An `iPAddress` SAN: the raw 4 or 16 address bytes.
    case ip(IPAddress)
    /// A `dNSName` SAN, lowercased: DNS names compare case-insensitively.
    case dns(String)
    /// Any other kind (email, URI, an IP with a bad length, ...), as it describes itself.
    case unsupported(String)

    /// The SAN a declared `fleet.yaml` address becomes.
    public init(_ address: HostAddress) {
        switch address {
        case .ip(let ip): self = .ip(ip)
        case .dns(let name): self = .dns(name.lowercased())
        }
    }

    /// A DNS SAN for `name`, normalised for comparison.
    public static func dnsName(_ name: String) -> SubjectAltName { .dns(name.lowercased()) }

    /// The same SAN with a DNS name lowercased, for comparisons with values built by hand.
    public var normalized: SubjectAltName {
        if case .dns(let name) = self { return .dns(name.lowercased()) }
        return self
    }

    init(_ name: GeneralName) {
        switch name {
        case .dnsName(let text):
            self = .dns(text.lowercased())
        case .ipAddress(let octets):
            if let ip = IPAddress(bytes: Array(octets.bytes)) {
                self = .ip(ip)
            } else {
                self = .unsupported("ip(\(octets.bytes.count) bytes)")
            }
        default:
            self = .unsupported(String(describing: name))
        }
    }

    var generalName: GeneralName? {
        switch self {
        case .ip(let ip): return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip.bytes)))
        case .dns(let name): return .dnsName(name)
        case .unsupported: return nil
        }
    }

    /// `ip:10.0.0.5`, `dns:web-1.example.com`, `other:...`.
    public var description: String {
        switch self {
        case .ip(let ip): return "ip:\(ip)"
        case .dns(let name): return "dns:\(name)"
        case .unsupported(let text): return "other:\(text)"
        }
    }

    /// The bare value (`10.0.0.5`, `web-1.example.com`), as `fleet.yaml` would spell it.
    public var value: String {
        switch self {
        case .ip(let ip): return ip.description
        case .dns(let name): return name
        case .unsupported(let text): return text
        }
    }

    /// Sorts by description, so SAN lists print and compare in a stable order.
    public static func < (lhs: SubjectAltName, rhs: SubjectAltName) -> Bool {
        lhs.description < rhs.description
    }
}
