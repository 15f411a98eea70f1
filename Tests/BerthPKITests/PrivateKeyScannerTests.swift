import BerthCore
import BerthPKI
import Foundation
import SwiftASN1
import Testing
import _CryptoExtras

@Suite("Private key scanner")
struct PrivateKeyScannerTests {
    /// Real keys, generated now, in the formats operators leak.
    enum Sample: String, CaseIterable, Sendable {
        case pkcs8, sec1, rsa, encrypted, openssh

        var pem: String {
            get throws {
                switch self {
                case .pkcs8:
                    return try PrivateKeyPEM.generate(.ecdsa)
                case .sec1:
                    // The SEC1 ECPrivateKey is the OCTET STRING inside the PKCS#8 wrapper.
                    let pkcs8 = try PEMDocument(pemString: PrivateKeyPEM.generate(.ecdsa)).derBytes
                    guard case .constructed(let children) = try DER.parse(pkcs8).content else { throw BerthError(.invalidInput, "pkcs8") }
                    guard case .primitive(let sec1) = Array(children)[2].content else { throw BerthError(.invalidInput, "sec1") }
                    return PEMDocument(type: "EC PRIVATE KEY", derBytes: Array(sec1)).pemString + "\n"
                case .rsa:
                    return try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation + "\n"
                case .encrypted:
                    // Only the armor and a base64 body matter to the scanner; random bytes stand in for the ciphertext.
                    return PEMDocument(type: "ENCRYPTED PRIVATE KEY", derBytes: random(200)).pemString + "\n"
                case .openssh:
                    return PEMDocument(type: "OPENSSH PRIVATE KEY", derBytes: random(400)).pemString + "\n"
                }
            }
        }

        var kind: PrivateKeyScanner.Kind {
            switch self {
            case .pkcs8: return .pkcs8
            case .sec1: return .sec1
            case .rsa: return .rsa
            case .encrypted: return .encryptedPKCS8
            case .openssh: return .openSSH
            }
        }

        private func random(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in UInt8.random(in: 0...255) }
        }
    }

    @Test("a key file is found at its first line", arguments: Sample.allCases)
    func plainFile(sample: Sample) throws {
        let pem = try sample.pem
        #expect(pem.contains("PRIVATE KEY-----\n"))
        let findings = PrivateKeyScanner.scan(pem)
        #expect(findings.map(\.kind) == [sample.kind])
        #expect(findings.first?.line == 1)
        #expect(findings.first?.column == 1)
    }

    @Test("a key pasted into a YAML block scalar is found at its line", arguments: Sample.allCases)
    func embeddedInYAML(sample: Sample) throws {
        let indented = try sample.pem.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        let yaml = "apiVersion: berth/v1\nhosts:\n  web-1:\n    tls:\n      key: |\n\(indented)\n"
        let findings = PrivateKeyScanner.scan(yaml)
        #expect(findings.map(\.line) == [6])
        #expect(findings.first?.column == 7)
    }

    @Test("a key inside a JSON string with escaped newlines is found", arguments: Sample.allCases)
    func embeddedInJSON(sample: Sample) throws {
        let data = try JSONEncoder().encode(["host": "web-1", "key": sample.pem])
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\\n"))
        #expect(PrivateKeyScanner.scan(data).map(\.kind) == [sample.kind])
        // And once more as JSON inside a JSON string (double escaping).
        let nested = try JSONEncoder().encode(["payload": text])
        #expect(PrivateKeyScanner.scan(nested).count == 1)
    }

    @Test("an RFC 1421 encrypted RSA key with Proc-Type headers is found")
    func legacyEncryptedHeaders() throws {
        let body = PEMDocument(type: "X", derBytes: (0..<300).map { _ in UInt8.random(in: 0...255) }).pemString
            .split(separator: "\n").dropFirst().dropLast().joined(separator: "\n")
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F2A\n\n\(body)\n-----END RSA PRIVATE KEY-----\n"
        #expect(PrivateKeyScanner.scan(pem).map(\.kind) == [.rsa])
    }

    @Test("two keys in one file are two findings, on their own lines")
    func twoKeys() throws {
        let text = try "# keys\n" + Sample.pkcs8.pem + "\n" + Sample.sec1.pem
        let findings = PrivateKeyScanner.scan(text)
        #expect(findings.map(\.kind) == [.pkcs8, .sec1])
        #expect(findings.first?.line == 2)
        #expect((findings.last?.line ?? 0) > 3)
    }

    static let markerOnly = [
        "Never commit a file that starts with -----BEGIN PRIVATE KEY----- to this repository.",
        "Keys look like this:\n\n    -----BEGIN EC PRIVATE KEY-----\n    ...\n    -----END EC PRIVATE KEY-----\n",
        "```\n-----BEGIN RSA PRIVATE KEY-----\n<your key here>\n-----END RSA PRIVATE KEY-----\n```",
        "{\"hint\": \"-----BEGIN OPENSSH PRIVATE KEY-----\\n...\\n-----END OPENSSH PRIVATE KEY-----\"}",
        "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n",
        "the marker -----BEGIN ENCRYPTED PRIVATE KEY----- and the word Proc-Type are documented in RFC 1421",
    ]

    @Test("text that only mentions a marker is not a finding", arguments: markerOnly)
    func markerOnlyText(text: String) {
        #expect(PrivateKeyScanner.scan(text).isEmpty)
    }

    @Test("certificates and CSRs are not private keys")
    func publicMaterial() throws {
        let key = try HostIdentity.generateKey()
        let csr = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: [.dnsName("web-1")], privateKeyPEM: key)
        #expect(PrivateKeyScanner.scan(PKI.fleetCA.certificatePEM + csr).isEmpty)
    }

    @Test("binary contents do not trip the scanner")
    func binary() throws {
        var bytes = (0..<4096).map { _ in UInt8.random(in: 0...255) }
        bytes += Array(try Sample.pkcs8.pem.utf8)
        #expect(PrivateKeyScanner.scan(bytes).count == 1)
    }

    @Test("findings become error diagnostics located at the marker")
    func diagnostics() throws {
        let text = try "a: 1\nkey: |\n  " + Sample.pkcs8.pem.replacingOccurrences(of: "\n", with: "\n  ")
        let diagnostics = PrivateKeyScanner.diagnostics(file: "notes.yaml", contents: Array(text.utf8))
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.severity == .error)
        #expect(diagnostics.first?.location == SourceLocation(file: "notes.yaml", line: 3, column: 3))
        #expect(diagnostics.first?.description.hasPrefix("notes.yaml:3:3: contains a private key (-----BEGIN PRIVATE KEY-----)") == true)
    }
}
