import BerthCore

/// What a host with `addresses: auto` finds out about itself: its hostname and the IPs a
/// client could reach it at. The agent observes them (``ObservedAddresses/current()``);
/// everything that decides with them takes the value, so tests pass any addresses they like.
public struct ObservedAddresses: Sendable, Hashable, Codable {
    /// The kernel's hostname (`gethostname`), nil when it is not a valid DNS name.
    public var hostname: String?
    /// Reachable IPs, in interface order, without duplicates.
    public var ips: [IPAddress]

    public init(hostname: String?, ips: [IPAddress]) {
        self.hostname = hostname.flatMap { DNSName.isValid($0) ? $0.lowercased() : nil }
        var seen = Set<IPAddress>()
        self.ips = ips.filter { seen.insert($0).inserted }
    }

    /// One address of one network interface, as `getifaddrs` reports it.
    public struct InterfaceAddress: Sendable, Hashable {
        public var interface: String
        public var ip: IPAddress
        public var isUp: Bool

        public init(interface: String, ip: IPAddress, isUp: Bool = true) {
            self.interface = interface
            self.ip = ip
            self.isUp = isUp
        }
    }

    /// Interfaces whose addresses are never how a client reaches the daemon: Docker's own
    /// bridges and veth pairs (`docker0` is 172.17.0.1 on every host), and common
    /// container/VM bridges. Putting them in a certificate would only add noise.
    public static let ignoredInterfacePrefixes = ["lo", "docker", "br-", "veth", "virbr", "cni", "flannel", "cali", "tun", "tap"]

    /// Picks the addresses that belong in a server certificate: up, not loopback, not
    /// link-local (fe80::/10 needs a zone a URL cannot carry; 169.254/16 is not routed),
    /// and not on an ignored interface.
    public static func selecting(from interfaces: [InterfaceAddress]) -> [IPAddress] {
        interfaces.filter { entry in
            entry.isUp && !entry.ip.isLoopback && !entry.ip.isLinkLocal
                && !ignoredInterfacePrefixes.contains { entry.interface.hasPrefix($0) }
        }.map(\.ip)
    }
}
