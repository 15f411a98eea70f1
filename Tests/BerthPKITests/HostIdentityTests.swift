import BerthCore
@testable import BerthPKI
import Testing
import X509

@Suite("Host identity: key and CSR")
struct HostIdentityTests {
    @Test("declared addresses become typed SANs, followed by the host name")
    func declaredSANs() {
        let host = PKI.host(addresses: .explicit([HostAddress("10.0.0.5")!, HostAddress("Web-1.Example.com")!, HostAddress("fd00::5")!]))
        #expect(HostIdentity.subjectAltNames(for: host) == [
            PKI.ip("10.0.0.5"), .dns("web-1.example.com"), PKI.ip("fd00::5"), .dns("web-1"),
        ])
    }

    @Test("the host name is not repeated when it is already declared")
    func noDuplicateHostName() {
        let host = PKI.host(addresses: .explicit([HostAddress("web-1")!, HostAddress("10.0.0.5")!]))
        #expect(HostIdentity.subjectAltNames(for: host) == [.dns("web-1"), PKI.ip("10.0.0.5")])
    }

    @Test("an auto host asks for its observed IPs and hostname, plus its Berth name")
    func autoSANs() {
        let host = PKI.host("web-2", addresses: .auto)
        let observed = ObservedAddresses(hostname: "node17", ips: [IPAddress("192.168.1.20")!, IPAddress("192.168.1.20")!, IPAddress("2001:db8::20")!])
        #expect(HostIdentity.subjectAltNames(for: host, observed: observed) == [
            PKI.ip("192.168.1.20"), PKI.ip("2001:db8::20"), .dns("node17"), .dns("web-2"),
        ])
        #expect(HostIdentity.subjectAltNames(for: host, observed: nil) == [.dns("web-2")])
    }

    @Test("the CSR carries IPs as iPAddress SANs with raw bytes and names as dNSName SANs")
    func csrTyping() throws {
        let host = PKI.host(addresses: .explicit([HostAddress("10.0.0.5")!, HostAddress("fd00::5")!, HostAddress("web-1.example.com")!]))
        let key = try HostIdentity.generateKey()
        let pem = try HostIdentity.makeCSR(hostName: host.name, subjectAltNames: HostIdentity.subjectAltNames(for: host), privateKeyPEM: key)
        let csr = try CertificateSigningRequest(pemEncoded: pem)
        let names = try #require(try csr.attributes.extensionRequest?.extensions.subjectAlternativeNames)

        var ipBytes: [[UInt8]] = []
        var dnsNames: [String] = []
        for name in names {
            switch name {
            case .ipAddress(let octets): ipBytes.append(Array(octets.bytes))
            case .dnsName(let text): dnsNames.append(text)
            default: Issue.record("unexpected SAN \(name)")
            }
        }
        #expect(ipBytes == [[10, 0, 0, 5], [0xfd, 0] + [UInt8](repeating: 0, count: 13) + [5]])
        #expect(dnsNames == ["web-1.example.com", "web-1"])
        #expect(csr.subject.commonName == "web-1")
        #expect(try HostIdentity.commonName(ofCSRPEM: pem) == "web-1")
        #expect(try HostIdentity.subjectAltNames(ofCSRPEM: pem) == HostIdentity.subjectAltNames(for: host))
        #expect(try HostIdentity.pairing(csrPEM: pem, privateKeyPEM: key) == .matches)
        #expect(try HostIdentity.pairing(csrPEM: pem, privateKeyPEM: HostIdentity.generateKey()) == .mismatch)
    }

    @Test("a CSR needs at least one name")
    func emptyCSR() throws {
        let key = try HostIdentity.generateKey()
        #expect { try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: [], privateKeyPEM: key) } throws: {
            ($0 as? BerthError)?.code == .invalidCSR
        }
    }
}
