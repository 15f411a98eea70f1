import BerthCore
import BerthPKI
import Foundation
import SwiftASN1
import Testing

/// Keys made once per run (an RSA key takes a moment), in every dress the sniffer must see through.
enum SniffedKeys {
    static let ecPEM = try! PrivateKeyPEM.generate(.ecdsa)
    static let rsaPEM = try! PrivateKeyPEM.generate(.rsa)

    /// The base64 body of a PEM block, armor and line breaks removed.
    static func body(_ pem: String) -> String {
        pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
    }

    static func der(_ pem: String) -> [UInt8] { Array(Data(base64Encoded: body(pem))!) }

    /// The private key inside a PKCS#8 PrivateKeyInfo: SEC1 for EC, PKCS#1 for RSA.
    static func inner(_ pkcs8: [UInt8]) -> [UInt8] {
        guard case .constructed(let children) = try! DER.parse(pkcs8).content,
              case .primitive(let key) = Array(children)[2].content else { fatalError("not PKCS#8") }
        return Array(key)
    }

    static let ecPKCS8 = der(ecPEM)
    static let ecSEC1 = inner(ecPKCS8)
    static let rsaPKCS8 = der(rsaPEM)
    static let rsaPKCS1 = inner(rsaPKCS8)

    static func base64(_ der: [UInt8]) -> String { Data(der).base64EncodedString() }

    /// Base64 wrapped at `width` characters a line.
    static func wrapped(_ text: String, width: Int = 64) -> [String] {
        var lines: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(width)))
            rest = rest.dropFirst(width)
        }
        return lines
    }

    /// Something that is not a key: a CA certificate, a CSR, a report.
    static let ca = try! FleetCA.create(fleet: "prod", keyType: .ecdsa, now: Date(timeIntervalSince1970: 1_767_225_600))
    static let csrPEM = try! HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: [.dnsName("web-1")], privateKeyPEM: ecPEM)
    static let rsaCSRPEM = try! HostIdentity.makeCSR(hostName: "web-2", subjectAltNames: [.dnsName("web-2")], privateKeyPEM: rsaPEM)
}

@Suite("finding private-key material in any dress")
struct KeyMaterialSnifferTests {
    typealias K = SniffedKeys

    func finding(_ text: String) -> KeyMaterialSniffer.Finding? { KeyMaterialSniffer.firstFinding(Array(text.utf8)) }

    // MARK: what it finds

    @Test("a PEM private key is found, bare, indented in YAML or inside JSON with \\n escapes")
    func pem() throws {
        #expect(finding(K.ecPEM) == .pem(label: "PRIVATE KEY"))
        let yaml = "key: |\n" + K.ecPEM.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        #expect(finding(yaml) == .pem(label: "PRIVATE KEY"))
        let json = String(decoding: try JSONEncoder().encode(["message": K.rsaPEM]), as: UTF8.self)
        #expect(json.contains("\\n"), "the PEM is escaped in JSON")
        #expect(finding(json) == .pem(label: "PRIVATE KEY"))
        #expect(KeyMaterialSniffer.firstFinding(Array(K.ecPEM.utf8))?.description == "a PEM PRIVATE KEY block")
    }

    struct DERCase: Sendable, CustomTestStringConvertible {
        var name: String
        var der: [UInt8]
        var format: String
        var testDescription: String { name }
    }

    static let derCases = [
        DERCase(name: "EC PKCS#8", der: K.ecPKCS8, format: "PKCS#8"),
        DERCase(name: "SEC1 ECPrivateKey", der: K.ecSEC1, format: "SEC1 EC"),
        DERCase(name: "RSA PKCS#8", der: K.rsaPKCS8, format: "PKCS#8"),
        DERCase(name: "PKCS#1 RSAPrivateKey", der: K.rsaPKCS1, format: "PKCS#1 RSA"),
    ]

    @Test("raw DER is found alone and in the middle of other bytes", arguments: derCases)
    func rawDER(_ sample: DERCase) {
        #expect(KeyMaterialSniffer.firstFinding(sample.der) == .der(format: sample.format))
        let embedded = Array("binary junk \u{1}\u{2}".utf8) + [0x30, 0x03, 0x02, 0x01] + sample.der + [0x00, 0xff, 0x30]
        #expect(KeyMaterialSniffer.firstFinding(embedded) == .der(format: sample.format))
        #expect(KeyMaterialSniffer.containsKeyMaterial(embedded))
    }

    @Test("base64 DER without armor is found on one line, alone or as a token in a sentence", arguments: derCases)
    func base64OneLine(_ sample: DERCase) {
        let b64 = K.base64(sample.der)
        #expect(finding(b64) == .base64DER(format: sample.format))
        #expect(finding("the key is \(b64) (do not share)\n") == .base64DER(format: sample.format))
        #expect(finding(String(b64.filter { $0 != "=" })) == .base64DER(format: sample.format), "padding stripped")
        #expect(finding(b64)?.description == "a base64-encoded DER \(sample.format) private key")
    }

    @Test("base64 DER wrapped over lines is found, each line with a diff marker or none", arguments: ["+", "-", " ", ""])
    func base64Wrapped(_ marker: String) {
        for sample in Self.derCases {
            let body = K.wrapped(K.base64(sample.der))
            // A body line of its own starting with '+' is the known issue of bodyLineStartingWithPlus.
            if marker == "" || marker == " ", body.dropFirst().contains(where: { $0.hasPrefix("+") }) { continue }
            let lines = body.map { marker + $0 }
            let diff = (["--- a/etc/docker/berth/server.pem", "+++ b/etc/docker/berth/server.pem", "@@ -1,3 +1,3 @@"] + lines).joined(separator: "\n")
            #expect(finding(diff) == .base64DER(format: sample.format), "\(sample.name), marker \"\(marker)\"")
        }
    }

    /// A unified diff that adds `der` as a PEM body without armor, as ``UnifiedDiff`` writes it
    /// (header lines first, a newline after the last line).
    static func addedBodyDiff(_ der: [UInt8], marker: String = "+") -> String {
        (["--- /etc/docker/berth/server.pem (host)", "+++ /etc/docker/berth/server.pem (desired)", "@@ -0,0 +1,30 @@"]
            + K.wrapped(K.base64(der)).map { marker + $0 }).joined(separator: "\n") + "\n"
    }

    static func report(diff: String) -> ReconcileReport {
        var report = ReconcileReport(host: "web-1", agentVersion: "0.3.0", time: Date(timeIntervalSince1970: 1_795_000_000), state: .repaired,
                                     message: "m", source: SourceStatus(kind: .state, location: "/srv/fleet"), intervalSeconds: 300)
        report.drift = [DriftItem(.fileContent, "/etc/docker/berth/server.pem", "content differs", diff: diff)]
        return report
    }

    @Test("base64 DER wrapped over lines in a diff inside a report's JSON, line breaks as \\n, is found", arguments: derCases)
    func base64InJSON(_ sample: DERCase) throws {
        let json = String(decoding: try Self.report(diff: Self.addedBodyDiff(sample.der)).encoded(), as: UTF8.self)
        #expect(!json.contains("\n+"), "the line breaks are escaped")
        #expect(finding(json) == .base64DER(format: sample.format))
        // A JSON array of the lines, as a journal is written.
        let array = String(decoding: try ReconcileReport.encoder.encode(K.wrapped(K.base64(sample.der))), as: UTF8.self)
        #expect(finding(array) == .base64DER(format: sample.format))
    }

    @Test("a JSON string whose last line is the end of a marked base64 key is found", arguments: ["+", "-"])
    func base64AtEndOfJSONValue(_ marker: String) throws {
        // An EC PKCS#8 key is always 138 bytes: 184 base64 characters, no padding.
        #expect(K.ecPKCS8.count == 138)
        var diff = Self.addedBodyDiff(K.ecPKCS8, marker: marker)
        diff.removeLast()  // no newline after the last line
        let json = String(decoding: try Self.report(diff: diff).encoded(), as: UTF8.self)
        #expect(finding(json) == .base64DER(format: "PKCS#8"))
        #expect(finding(diff) == .base64DER(format: "PKCS#8"), "the same diff outside JSON is found")
    }

    @Test("a JSON object value that starts with a wrapped base64 key is found")
    func base64AtStartOfJSONValue() throws {
        func plusFree(_ der: [UInt8]) -> Bool { !K.wrapped(K.base64(der)).dropFirst().contains { $0.hasPrefix("+") } }
        var pkcs8: [UInt8] = []
        for _ in 0..<200 {
            let candidate = K.der(try PrivateKeyPEM.generate(.ecdsa))
            if plusFree(candidate) && plusFree(K.inner(candidate)) { pkcs8 = candidate; break }
        }
        try #require(!pkcs8.isEmpty)
        for (der, format) in [(pkcs8, "PKCS#8"), (K.inner(pkcs8), "SEC1 EC")] {
            let value = K.wrapped(K.base64(der)).joined(separator: "\n") + "\n"
            let json = String(decoding: try ReconcileReport.encoder.encode(["error": value]), as: UTF8.self)
            #expect(finding(json) == .base64DER(format: format), "\(json.prefix(120))")
            // The same value as an element of a JSON array, on a line of its own, is found.
            let array = String(decoding: try ReconcileReport.encoder.encode([value]), as: UTF8.self)
            #expect(finding(array) == .base64DER(format: format))
        }
    }

    @Test("JSON's escaped slashes are undone before decoding")
    func escapedSlashes() throws {
        // Find a key whose base64 holds a '/', so the escape matters.
        var b64 = K.base64(K.rsaPKCS1)
        if !b64.contains("/") { b64 = K.base64(K.rsaPKCS8) }
        try #require(b64.contains("/"))
        let escaped = b64.replacingOccurrences(of: "/", with: "\\/")
        #expect(finding("{\"message\": \"\(escaped)\"}") != nil)
    }

    @Test("a wrapped unarmored key whose body line starts with '+' is found with no diff markers")
    func bodyLineStartingWithPlus() throws {
        // Base64 lines start with '+' one time in 64: make keys until one does.
        var lines: [String] = []
        for _ in 0..<2000 {
            let candidate = K.wrapped(K.base64(K.der(try PrivateKeyPEM.generate(.ecdsa))))
            if candidate.dropFirst().contains(where: { $0.hasPrefix("+") }) { lines = candidate; break }
        }
        try #require(!lines.isEmpty)
        #expect(finding(lines.joined(separator: "\n")) == .base64DER(format: "PKCS#8"))
        #expect(finding(lines.map { " " + $0 }.joined(separator: "\n")) == .base64DER(format: "PKCS#8"), "as diff context lines")
        // With '+' markers (an added key) the marker is stripped and the body's own '+' kept.
        #expect(finding(lines.map { "+" + $0 }.joined(separator: "\n")) == .base64DER(format: "PKCS#8"))
    }

    // MARK: what it must not flag

    @Test("certificates and CSRs pass: as PEM, as DER, as base64 on one line and wrapped")
    func certificatesAndCSRs() throws {
        for pem in [K.ca.certificatePEM, K.csrPEM, K.rsaCSRPEM] {
            #expect(finding(pem) == nil)
            #expect(KeyMaterialSniffer.firstFinding(K.der(pem)) == nil)
            #expect(finding(K.body(pem)) == nil)
            #expect(finding(K.wrapped(K.body(pem)).map { "+" + $0 }.joined(separator: "\n")) == nil)
        }
    }

    @Test("a Berth report with a CSR, certificate details and hashes passes the report guard")
    func reportPasses() throws {
        var report = ReconcileReport(host: "web-1", agentVersion: "0.3.0", time: Date(timeIntervalSince1970: 1_795_000_000), state: .awaitingCertificate,
                                     message: "waiting for `berthctl sign web-1`", source: SourceStatus(kind: .git, location: "https://git.example.com/fleet.git"),
                                     intervalSeconds: 300)
        report.desiredRevision = "0123456789abcdef0123456789abcdef01234567"
        report.pendingCSR = PendingCSR(pem: K.rsaCSRPEM, sha256: try Fingerprint.sha256(ofCSRPEM: K.rsaCSRPEM), sans: ["dns:web-2"], reason: "first certificate",
                                       joinMAC: String(repeating: "ab", count: 32))
        report.serverCertificate = CertificateInfo(subject: "CN=web-1", sans: ["dns:web-1"], notAfter: Date(timeIntervalSince1970: 1_800_000_000),
                                                   sha256: try Fingerprint.sha256(ofCertificatePEM: K.ca.certificatePEM))
        report.drift = [DriftItem(.fileContent, "/etc/docker/berth/ca.pem", "differs",
                                  diff: K.wrapped(K.body(K.ca.certificatePEM)).map { "-" + $0 }.joined(separator: "\n"))]
        report.quarantine = QuarantineInfo(revision: "0123456789abcdef0123456789abcdef01234567", contentHash: String(repeating: "e3b0c442", count: 8),
                                           reason: "dockerd did not come back", since: Date(timeIntervalSince1970: 1_795_000_000))
        let bytes = try report.encoded()
        #expect(KeyMaterialSniffer.firstFinding(bytes) == nil)
        try ReportGuard.check(bytes, what: "the report")
    }

    @Test("the report guard refuses a report that carries a key, naming what it found", arguments: [
        ("message", "PEM"), ("diff", "base64"), ("journal", "base64 one line"),
    ])
    func reportGuardRefuses(_ field: String, _ dress: String) throws {
        var report = ReconcileReport(host: "web-1", agentVersion: "0.3.0", time: Date(timeIntervalSince1970: 1_795_000_000), state: .failed,
                                     message: "m", source: SourceStatus(kind: .state, location: "/srv/fleet"), intervalSeconds: 300)
        switch field {
        case "message": report.message = "oops: " + K.ecPEM
        case "diff": report.drift = Self.report(diff: Self.addedBodyDiff(K.ecSEC1)).drift
        default: report.journal = ["dockerd[1]: loaded key " + K.base64(K.rsaPKCS1)]
        }
        do {
            try ReportGuard.check(try report.encoded(), what: "the report")
            Issue.record("a report with a key in its \(field) passed")
        } catch let error as BerthError {
            #expect(error.code == .privateKeyFound)
            #expect(error.message.hasPrefix("the report holds a "), "\(error.message)")
            #expect(error.message.hasSuffix("; it was not written or pushed"))
        }
    }

    @Test("ordinary text, hashes and random base64 are not keys", arguments: [
        "dockerd did not come back within 60 s; rolled back to 0123456789ab",
        String(repeating: "0123456789abcdef", count: 16),
        String(repeating: "AAAA", count: 200),
        "-----BEGIN PRIVATE KEY-----\n(put your key here)\n-----END PRIVATE KEY-----\n",
        "",
    ])
    func notKeys(_ text: String) {
        #expect(finding(text) == nil)
    }

    @Test("random bytes and their base64, from a fixed seed, are not keys")
    func randomBytes() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for _ in 0..<20 {
            let bytes = (0..<600).map { _ in next() }
            #expect(KeyMaterialSniffer.firstFinding(bytes) == nil)
            #expect(finding(K.base64(bytes)) == nil)
            #expect(finding(K.wrapped(K.base64(bytes)).joined(separator: "\n")) == nil)
        }
    }

    @Test("a DER SEQUENCE that is too short or truncated is not a key")
    func truncated() {
        #expect(KeyMaterialSniffer.firstFinding(Array(K.ecPKCS8.prefix(K.ecPKCS8.count - 1))) == nil)
        #expect(KeyMaterialSniffer.firstFinding([0x30, 0x05, 0x02, 0x01, 0x00, 0x04, 0x00]) == nil)
        #expect(finding(String(K.base64(K.ecPKCS8).prefix(90))) == nil)
    }
}
