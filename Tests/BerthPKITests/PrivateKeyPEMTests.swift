import BerthCore
@testable import BerthPKI
import Testing

@Suite("Private keys as PEM")
struct PrivateKeyPEMTests {
    @Test("a generated key is PKCS#8 PEM that loads back as the same algorithm", arguments: KeyType.allCases)
    func generateAndLoad(keyType: KeyType) throws {
        let pem = try PrivateKeyPEM.generate(keyType)
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try PrivateKeyPEM.keyType(of: pem) == keyType)
        let reloaded = try PrivateKeyPEM.serialize(PrivateKeyPEM.load(pem))
        #expect(try PrivateKeyPEM.load(reloaded).publicKey == PrivateKeyPEM.load(pem).publicKey)
    }

    @Test("text that is not a key is refused with the invalid-private-key code")
    func garbage() {
        #expect { try PrivateKeyPEM.load("hello") } throws: { ($0 as? BerthError)?.code == .invalidPrivateKey }
    }

    @Test("an encrypted key is refused with a hint to decrypt it")
    func encrypted() {
        let pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBX\n-----END ENCRYPTED PRIVATE KEY-----\n"
        #expect { try PrivateKeyPEM.load(pem) } throws: { error in
            guard let error = error as? BerthError else { return false }
            return error.code == .invalidPrivateKey && error.message.contains("-nocrypt")
        }
    }

    @Test("a key pairs with its own certificate and not with another's")
    func pairing() throws {
        let issued = try PKI.serverCertificate(sans: [.dnsName("web-1")])
        #expect(try PrivateKeyPEM.pairing(privateKeyPEM: issued.keyPEM, certificatePEM: issued.certificatePEM) == .matches)
        let other = try PrivateKeyPEM.generate()
        #expect(try PrivateKeyPEM.pairing(privateKeyPEM: other, certificatePEM: issued.certificatePEM) == .mismatch)
    }
}
