import BerthCore
import BerthPKI
import Testing

@Suite("SAN policy for berthctl sign")
struct SANPolicyTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var host: ResolvedHost
        var sans: [SubjectAltName]
        var confirmed = false
        /// nil: covered; otherwise a fragment every expected reason list must contain.
        var reason: String?

        var description: String { name }
    }

    static let web1 = PKI.host()
    static let auto = PKI.host("web-2", addresses: .auto)
    static let autoSigned = PKI.host("web-2", addresses: .auto, autoSign: ["10.0.0.0/8", "fd00::/8"])

    static let cases: [Case] = [
        Case(name: "declared addresses and the host name are covered", host: web1,
             sans: [PKI.ip("10.0.0.5"), .dns("web-1.example.com"), .dns("web-1")]),
        Case(name: "DNS names compare case-insensitively", host: web1,
             sans: [.dns("WEB-1.Example.COM"), .dns("Web-1")]),
        Case(name: "an undeclared IP is not covered", host: web1,
             sans: [PKI.ip("10.0.0.5"), PKI.ip("10.0.0.9")],
             reason: "SAN ip:10.0.0.9 is not among hosts.web-1.addresses [10.0.0.5, web-1.example.com]"),
        Case(name: "an undeclared DNS name is not covered", host: web1,
             sans: [.dns("evil.example.com")],
             reason: "SAN dns:evil.example.com is not among hosts.web-1.addresses [10.0.0.5, web-1.example.com]"),
        Case(name: "a declared IP carried as a DNS name is not covered", host: web1,
             sans: [.dns("10.0.0.5")],
             reason: "SAN dns:10.0.0.5 is an IP address written as a DNS name"),
        Case(name: "a SAN of another kind is not covered", host: web1,
             sans: [.dns("web-1"), .unsupported("rfc822Name(ops@example.com)")],
             reason: "neither an IP address nor a DNS name"),
        Case(name: "a CSR without SANs is not covered", host: web1, sans: [], reason: "asks for no subjectAltName"),
        Case(name: "an auto host without --yes is not covered", host: auto,
             sans: [PKI.ip("10.0.0.7"), .dns("web-2")], reason: "then sign with --yes"),
        Case(name: "an auto host with --yes is covered", host: auto,
             sans: [PKI.ip("192.168.1.7"), .dns("node7"), .dns("web-2")], confirmed: true),
        Case(name: "an auto host whose IPs are inside autoSign is covered", host: autoSigned,
             sans: [PKI.ip("10.1.2.3"), PKI.ip("fd00::7"), .dns("web-2")]),
        Case(name: "an auto host with an IP outside autoSign is not covered", host: autoSigned,
             sans: [PKI.ip("10.1.2.3"), PKI.ip("192.168.1.7"), .dns("web-2")],
             reason: "SAN ip:192.168.1.7 is outside hosts.web-2 tls.autoSign [10.0.0.0/8, fd00::/8]"),
        Case(name: "autoSign covers only the auto host's own name", host: autoSigned,
             sans: [PKI.ip("10.1.2.3"), .dns("node7")],
             reason: "SAN dns:node7 is not the host name web-2"),
        Case(name: "--yes does not make an unsupported SAN signable", host: auto,
             sans: [.unsupported("uniformResourceIdentifier(https://x)")], confirmed: true,
             reason: "neither an IP address nor a DNS name"),
    ]

    @Test("CSR SANs are checked against the host's declaration", arguments: cases)
    func evaluate(_ c: Case) {
        let decision = SANPolicy.evaluate(c.sans, host: c.host, confirmed: c.confirmed)
        if let reason = c.reason {
            #expect(decision != .covered)
            #expect(decision.reasons.contains { $0.contains(reason) }, "reasons: \(decision.reasons)")
        } else {
            #expect(decision == .covered)
        }
    }

    @Test("every offending SAN gets its own reason")
    func allReasons() {
        let decision = SANPolicy.evaluate([PKI.ip("10.0.0.8"), PKI.ip("10.0.0.9"), .dns("x.example.com")], host: Self.web1, confirmed: false)
        #expect(decision.reasons.count == 3)
    }

    @Test("a PEM CSR is evaluated on the SANs it carries")
    func fromCSR() throws {
        let key = try HostIdentity.generateKey()
        let good = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: HostIdentity.subjectAltNames(for: Self.web1), privateKeyPEM: key)
        #expect(try SANPolicy.evaluate(csrPEM: good, host: Self.web1, confirmed: false) == .covered)
        let bad = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: [PKI.ip("10.0.0.9")], privateKeyPEM: key)
        #expect(try SANPolicy.evaluate(csrPEM: bad, host: Self.web1, confirmed: false).reasons.count == 1)
    }
}
