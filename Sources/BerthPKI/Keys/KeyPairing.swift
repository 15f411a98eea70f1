/// Whether a private key and a certificate belong together.
public enum KeyPairing: Sendable, Hashable {
    case matches
    /// The certificate's public key is not the key's: the certificate was issued for another key.
    case mismatch
}
