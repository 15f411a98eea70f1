import BerthControl
import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

@Suite("signing a host's CSR only when something vouches for it")
struct CertificateSignerTests {
    let fleet: TestFleet
    let tokenDir: TemporaryDirectory
    let web1: TestHostIdentity
    /// The names fleet.yaml declares for web-1, and its Berth name.
    let sans: [SubjectAltName] = [.ip(IPAddress("10.0.0.5")!), .dnsName("web-1.example.com"), .dnsName("web-1")]

    init() throws {
        fleet = try TestFleet()
        tokenDir = try TemporaryDirectory("berth-tokens")
        web1 = try TestHostIdentity(name: "web-1")
    }

    var tokens: JoinTokenStore {
        var store = JoinTokenStore(fleet: "prod")
        store.directory = tokenDir.file("prod/tokens")
        return store
    }

    func signer(confirmed: Bool = false) throws -> CertificateSigner {
        let ca = try FleetCA(certificatePEM: try fleet.directory.read("ca.pem"), privateKeyPEM: fleet.caKeyPEM)
        return CertificateSigner(loaded: try FleetRepository(root: fleet.root).loadValid(), ca: ca, tokens: tokens, confirmed: confirmed, now: Date())
    }

    /// The host's report carrying `csr`, judged `trust` by the controller.
    func checked(_ csr: PendingCSR, trust: ReportTrust, host: String = "web-1") throws -> CheckedReport {
        var report = web1.report(.awaitingCertificate, revision: "r1", csr: csr)
        report.host = host
        return CheckedReport(fetched: FetchedReport(host: host, json: try report.encoded(), signature: nil), trust: trust)
    }

    func refusal(_ request: CertificateSigner.Request, confirmed: Bool = false) throws -> BerthError? {
        let signer = try signer(confirmed: confirmed)
        do {
            _ = try signer.sign(request)
            Issue.record("signed \(request.host) although nothing should vouch for it")
            return nil
        } catch let error as BerthError {
            return error
        }
    }

    var certPath: String { fleet.directory.file("certs/web-1.pem") }
    var certWritten: Bool { fleet.directory.exists("certs/web-1.pem") }

    // MARK: vouchers

    @Test("a report verified with the host's current certificate vouches for its CSR")
    func currentCertificate() throws {
        let csr = try web1.pendingCSR(sans: sans)
        let issued = try signer().sign(.init(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .verified), fingerprint: nil))
        #expect(issued.voucher == .currentCertificate)
        #expect(issued.host == "web-1")
        #expect(issued.path == certPath)
        #expect(issued.csrFingerprint == csr.sha256)
        #expect(issued.days == 90)
        let summary = try CertificateSummary(pem: try fleet.directory.read("certs/web-1.pem"))
        #expect(summary.commonName == "web-1")
        #expect(Set(summary.subjectAltNames) == Set(sans.map(\.description)))
        #expect(try PrivateKeyPEM.pairing(privateKeyPEM: web1.keyPEM, certificatePEM: try fleet.directory.read("certs/web-1.pem")) == .matches)
    }

    @Test("a join token vouches for a first CSR that carries its MAC, and is forgotten once used")
    func joinToken() throws {
        let token = try tokens.issue("web-1")
        #expect(tokens.token("web-1") == token)
        let csr = try web1.pendingCSR(sans: sans, joinToken: token)
        let request = CertificateSigner.Request(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .pending), fingerprint: nil)
        let issued = try signer().sign(request)
        #expect(issued.voucher == .joinToken)
        #expect(certWritten)
        #expect(tokens.token("web-1") == nil, "the token still vouches")
        #expect(!FileManager.default.fileExists(atPath: tokens.path("web-1")))

        // Used once: the same request is now refused.
        try FileManager.default.removeItem(atPath: certPath)
        let again = try refusal(request)
        #expect(again?.code == .policy)
        #expect(again?.message.contains("no join token is outstanding") == true, "\(again?.message ?? "")")
        #expect(!certWritten)
    }

    @Test("a token written with stray whitespace still matches the MAC the host made")
    func tokenWhitespace() throws {
        let token = JoinToken.generate()
        try AtomicFile.write("  \(token)\n\n", to: tokens.path("web-1"), mode: 0o600)
        let csr = try web1.pendingCSR(sans: sans, joinToken: token)
        let issued = try signer().sign(.init(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .pending), fingerprint: nil))
        #expect(issued.voucher == .joinToken)
    }

    @Test("--fingerprint vouches when it matches, in any case and with or without SHA256: and colons", arguments: [
        { (fp: String) in fp },
        { (fp: String) in fp.lowercased() },
        { (fp: String) in "SHA256:" + fp },
        { (fp: String) in fp.replacingOccurrences(of: ":", with: "") },
    ] as [@Sendable (String) -> String])
    func fingerprint(_ spell: @Sendable (String) -> String) throws {
        let csr = try web1.pendingCSR(sans: sans)
        let issued = try signer().sign(.init(host: "web-1", csrPEM: csr.pem, report: nil, fingerprint: spell(csr.sha256)))
        #expect(issued.voucher == .fingerprint)
        #expect(certWritten)
    }

    @Test("a matching --fingerprint also retires an outstanding join token")
    func fingerprintForgetsToken() throws {
        _ = try tokens.issue("web-1")
        let csr = try web1.pendingCSR(sans: sans)
        _ = try signer().sign(.init(host: "web-1", csrPEM: csr.pem, report: nil, fingerprint: csr.sha256))
        #expect(tokens.token("web-1") == nil)
    }

    // MARK: refusals

    @Test("a CSR from a file with nothing vouching for it is refused")
    func nothingVouches() throws {
        let csr = try web1.pendingCSR(sans: sans)
        let error = try refusal(.init(host: "web-1", csrPEM: csr.pem, report: nil, fingerprint: nil))
        #expect(error?.code == .policy)
        #expect(error?.message.contains("nothing vouches for a CSR from a file") == true)
        #expect(!certWritten)
    }

    @Test("a --fingerprint that is not the CSR's is refused, whatever else vouches")
    func wrongFingerprint() throws {
        let csr = try web1.pendingCSR(sans: sans)
        let other = try TestHostIdentity(name: "web-1").pendingCSR(sans: sans)
        let error = try refusal(.init(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .verified), fingerprint: other.sha256))
        #expect(error?.code == .policy)
        #expect(error?.message.contains("is not the CSR's (\(csr.sha256))") == true, "\(error?.message ?? "")")
        #expect(!certWritten)
    }

    @Test("a report that does not verify is never signed for, even with a valid join token", arguments: [false, true])
    func unverifiedReport(_ withToken: Bool) throws {
        let token = withToken ? try tokens.issue("web-1") : nil
        let csr = try web1.pendingCSR(sans: sans, joinToken: token)
        let error = try refusal(.init(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .unverified("the signature was not made by the host's key")), fingerprint: nil))
        #expect(error?.code == .untrusted)
        #expect(error?.message.contains("the signature was not made by the host's key") == true)
        #expect(!certWritten)
        if let token { #expect(tokens.token("web-1") == token, "a refusal must not use up the token") }
    }

    @Test("a pending report without an outstanding token is refused")
    func pendingWithoutToken() throws {
        let csr = try web1.pendingCSR(sans: sans, joinToken: JoinToken.generate())
        let error = try refusal(.init(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .pending), fingerprint: nil))
        #expect(error?.code == .policy)
        #expect(error?.message.contains("berthctl host token web-1") == true)
    }

    @Test("a pending report whose CSR carries no MAC is refused, and the token kept")
    func pendingWithoutMAC() throws {
        let token = try tokens.issue("web-1")
        let csr = try web1.pendingCSR(sans: sans)
        let error = try refusal(.init(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .pending), fingerprint: nil))
        #expect(error?.code == .policy)
        #expect(error?.message.contains("carries no join-token MAC") == true)
        #expect(tokens.token("web-1") == token)
    }

    @Test("a MAC made with another token, or over another CSR, is refused and the token kept")
    func forgedMAC() throws {
        let token = try tokens.issue("web-1")
        let forged = try web1.pendingCSR(sans: sans, joinToken: JoinToken.generate())
        var error = try refusal(.init(host: "web-1", csrPEM: forged.pem, report: try checked(forged, trust: .pending), fingerprint: nil))
        #expect(error?.code == .policy)
        #expect(error?.message.contains("was not made with the token issued for web-1") == true)

        // A genuine MAC lifted from one CSR onto another (the attacker's key).
        let genuine = try web1.pendingCSR(sans: sans, joinToken: token)
        var swapped = try TestHostIdentity(name: "web-1").pendingCSR(sans: sans)
        swapped.joinMAC = genuine.joinMAC
        error = try refusal(.init(host: "web-1", csrPEM: swapped.pem, report: try checked(swapped, trust: .pending), fingerprint: nil))
        #expect(error?.code == .policy)
        #expect(tokens.token("web-1") == token)
        #expect(!certWritten)
    }

    @Test("a token issued for another host does not vouch")
    func otherHostsToken() throws {
        let token = try tokens.issue("web-2")
        let csr = try web1.pendingCSR(sans: sans, joinToken: token)
        let error = try refusal(.init(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .pending), fingerprint: nil))
        #expect(error?.code == .policy)
        #expect(tokens.token("web-2") == token)
    }

    @Test("names fleet.yaml does not declare are refused even when the host vouches, naming each; the token is kept")
    func undeclaredNames() throws {
        let token = try tokens.issue("web-1")
        let csr = try web1.pendingCSR(sans: sans + [.ip(IPAddress("10.9.9.9")!), .dnsName("evil.example.com")], joinToken: token)
        let error = try refusal(.init(host: "web-1", csrPEM: csr.pem, report: try checked(csr, trust: .pending), fingerprint: nil))
        #expect(error?.code == .policy)
        #expect(error?.message.contains("2 names not covered by hosts.web-1.addresses; nothing was written") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("ip:10.9.9.9") == true)
        #expect(error?.message.contains("dns:evil.example.com") == true)
        #expect(!certWritten)
        #expect(tokens.token("web-1") == token, "a refused CSR must not use up the token")
    }

    @Test("an addresses: auto host is signed only with the operator's confirmation")
    func autoHost() throws {
        let web2 = try TestHostIdentity(name: "web-2")
        let csr = try web2.pendingCSR(sans: [.ip(IPAddress("192.168.1.20")!), .dnsName("web-2")])
        let request = CertificateSigner.Request(host: "web-2", csrPEM: csr.pem, report: nil, fingerprint: csr.sha256)
        let error = try refusal(request)
        #expect(error?.code == .policy)
        #expect(error?.message.contains("addresses is auto") == true, "\(error?.message ?? "")")
        #expect(!fleet.directory.exists("certs/web-2.pem"))
        let issued = try signer(confirmed: true).sign(request)
        #expect(issued.path == fleet.directory.file("certs/web-2.pem"))
    }

    @Test("a host not in fleet.yaml, a certificate instead of a CSR, and armored garbage are refused")
    func badRequests() throws {
        let csr = try web1.pendingCSR(sans: sans)
        #expect(try refusal(.init(host: "web-9", csrPEM: csr.pem, report: nil, fingerprint: csr.sha256))?.code == .notFound)
        // Armor around bytes that are no CSR: fingerprinted, then refused for want of a voucher, or,
        // when the operator vouches for exactly those bytes, because they do not parse.
        let garbage = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
        #expect(try refusal(.init(host: "web-1", csrPEM: garbage, report: nil, fingerprint: nil))?.code == .policy)
        #expect(try refusal(.init(host: "web-1", csrPEM: garbage, report: nil, fingerprint: Fingerprint.sha256([0, 0, 0])))?.code == .invalidCSR)
        #expect(!certWritten)
        #expect(try refusal(.init(host: "web-1", csrPEM: try fleet.directory.read("ca.pem"), report: nil, fingerprint: nil))?.code == .invalidCSR)
    }
}
