import BerthCore
import BerthPKI
import Testing

@Suite("Observed addresses of auto hosts")
struct ObservedAddressesTests {
    typealias Entry = ObservedAddresses.InterfaceAddress

    @Test("loopback, link-local, down interfaces and Docker's own bridges are left out")
    func selection() {
        let interfaces = [
            Entry(interface: "lo", ip: IPAddress("127.0.0.1")!),
            Entry(interface: "lo", ip: IPAddress("::1")!),
            Entry(interface: "eth0", ip: IPAddress("10.0.0.7")!),
            Entry(interface: "eth0", ip: IPAddress("fe80::1")!),
            Entry(interface: "eth0", ip: IPAddress("2001:db8::7")!),
            Entry(interface: "eth1", ip: IPAddress("169.254.3.4")!),
            Entry(interface: "eth2", ip: IPAddress("192.168.5.5")!, isUp: false),
            Entry(interface: "docker0", ip: IPAddress("172.17.0.1")!),
            Entry(interface: "br-3f2a", ip: IPAddress("172.18.0.1")!),
            Entry(interface: "veth12ab", ip: IPAddress("fe80::2")!),
        ]
        #expect(ObservedAddresses.selecting(from: interfaces) == [IPAddress("10.0.0.7")!, IPAddress("2001:db8::7")!])
    }

    @Test("a hostname that is not a DNS name is dropped; duplicates IPs are merged")
    func normalisation() {
        let observed = ObservedAddresses(hostname: "bad_name", ips: [IPAddress("10.0.0.7")!, IPAddress("10.0.0.7")!])
        #expect(observed.hostname == nil)
        #expect(observed.ips == [IPAddress("10.0.0.7")!])
        #expect(ObservedAddresses(hostname: "Node-7", ips: []).hostname == "node-7")
    }

    @Test("this machine's own addresses can be read")
    func current() {
        let observed = ObservedAddresses.current()
        #expect(observed.ips.allSatisfy { !$0.isLoopback })
    }
}
