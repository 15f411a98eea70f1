#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import BerthCore

extension ObservedAddresses {
    /// Reads this machine's hostname and interface addresses.
    ///
    /// The only effectful code in BerthPKI, kept in its own file; every decision takes
    /// the resulting value instead of calling this.
    public static func current() -> ObservedAddresses {
        ObservedAddresses(hostname: currentHostname(), ips: selecting(from: interfaceAddresses()))
    }

    /// `gethostname`, or nil when it fails.
    public static func currentHostname() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }

    /// Every IPv4 and IPv6 address `getifaddrs` lists, unfiltered.
    public static func interfaceAddresses() -> [InterfaceAddress] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }

        var result: [InterfaceAddress] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, let cName = entry.pointee.ifa_name else { continue }
            let name = String(cString: cName)
            let isUp = entry.pointee.ifa_flags & UInt32(IFF_UP) != 0
            let ip: IPAddress?
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                ip = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var raw = sin.pointee.sin_addr
                    return IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) })
                }
            case AF_INET6:
                ip = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var raw = sin6.pointee.sin6_addr
                    return IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) })
                }
            default:
                ip = nil
            }
            if let ip { result.append(InterfaceAddress(interface: name, ip: ip, isUp: isUp)) }
        }
        return result
    }
}
