import BerthCore
import Crypto
import _CryptoExtras
import SwiftASN1
import X509

/// Generating, writing and reading private keys as PEM text.
///
/// Keys are generated in PKCS#8 (`-----BEGIN PRIVATE KEY-----`) for both algorithms so every
/// key file Berth writes looks the same; loading also accepts SEC1 (`EC PRIVATE KEY`) and
/// PKCS#1 (`RSA PRIVATE KEY`), which is what `openssl` and older tooling produce, so an
/// operator can bring an existing CA key. Every function works on PEM strings so callers
/// outside BerthPKI never need to import X509.
public enum PrivateKeyPEM {
    /// A new private key as PKCS#8 PEM.
    public static func generate(_ keyType: KeyType = .ecdsa) throws -> String {
        try generateKey(keyType).pem
    }

    /// A new private key, both as the X509 value used for signing and as PKCS#8 PEM.
    public static func generateKey(_ keyType: KeyType = .ecdsa) throws -> (key: Certificate.PrivateKey, pem: String) {
        switch keyType {
        case .ecdsa:
            let key = P256.Signing.PrivateKey()
            return (Certificate.PrivateKey(key), key.pemRepresentation)
        case .rsa:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits3072)
            return (Certificate.PrivateKey(key), key.pkcs8PEMRepresentation)
        }
    }

    /// Loads a PKCS#8, SEC1 or PKCS#1 PEM private key.
    ///
    /// Throws `BerthError` with code `.invalidPrivateKey` when the text is not a supported key;
    /// an `ENCRYPTED PRIVATE KEY` is refused with a hint, since Berth cannot prompt for a passphrase.
    public static func load(_ pem: String) throws -> Certificate.PrivateKey {
        if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || pem.contains("Proc-Type: 4,ENCRYPTED") {
            throw BerthError(.invalidPrivateKey, "the private key is encrypted; Berth needs it unencrypted (openssl pkcs8 -topk8 -nocrypt) in a file only its owner can read (mode 0600)")
        }
        do {
            return try Certificate.PrivateKey(pemEncoded: pem)
        } catch {
            throw BerthError(.invalidPrivateKey, "not a PEM private key Berth can use (PKCS#8, SEC1 EC or PKCS#1 RSA)", underlying: error)
        }
    }

    /// The algorithm of a key, or nil for one Berth did not generate (P-384, Ed25519, ...).
    public static func keyType(of pem: String) throws -> KeyType? {
        let publicKey = try load(pem).publicKey
        if P256.Signing.PublicKey(publicKey) != nil { return .ecdsa }
        if let rsa = _RSA.Signing.PublicKey(publicKey), rsa.keySizeInBits == 3072 { return .rsa }
        return nil
    }

    /// The key as PEM text, in whatever form swift-crypto writes for it (PKCS#8 for EC).
    public static func serialize(_ key: Certificate.PrivateKey) throws -> String {
        try key.serializeAsPEM().pemString
    }

    /// Whether the private key in `privateKeyPEM` belongs to the certificate: the decision
    /// behind "the CA key does not match ca.pem" and the agent's key-mismatch renewal.
    public static func pairing(privateKeyPEM: String, certificatePEM: String) throws -> KeyPairing {
        let key = try load(privateKeyPEM)
        let certificate = try PEMParsing.certificate(certificatePEM)
        return key.publicKey == certificate.publicKey ? .matches : .mismatch
    }
}
