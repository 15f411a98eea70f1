/// The addresses a host is reached at; they become the SANs of its server certificate.
///
/// `auto` lets the agent use the host's own non-loopback IPs and hostname, for fleets where
/// addresses come from DHCP. The first explicit address is the one `berthctl env` advertises.
public enum HostAddresses: Sendable, Hashable, Codable {
    case auto
    case explicit([HostAddress])

    public var explicitList: [HostAddress] {
        if case .explicit(let list) = self { return list }
        return []
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), text == "auto" {
            self = .auto
        } else {
            self = .explicit(try container.decode([HostAddress].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .auto: try container.encode("auto")
        case .explicit(let list): try container.encode(list)
        }
    }
}

/// One address: an IP (an `iPAddress` SAN) or a DNS name (a `dNSName` SAN).
public enum HostAddress: Sendable, Hashable, TextCodable {
    case ip(IPAddress)
    case dns(String)

    public init?(_ text: String) {
        if let ip = IPAddress(text) { self = .ip(ip) }
        else if DNSName.isValid(text) { self = .dns(text.lowercased()) }
        else { return nil }
    }

    public var description: String {
        switch self {
        case .ip(let ip): return ip.description
        case .dns(let name): return name
        }
    }
}
