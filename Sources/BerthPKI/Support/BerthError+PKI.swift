import BerthCore

extension BerthError.Code {
    /// A private key and a certificate (or CSR) that do not belong together.
    public static let keyMismatch = BerthError.Code("key-mismatch")
    /// A CSR that does not parse or whose self-signature does not verify: proof of key
    /// possession failed, so nothing may be issued for it.
    public static let invalidCSR = BerthError.Code("invalid-csr")
    /// A private key PEM that does not parse or uses an algorithm Berth does not support.
    public static let invalidPrivateKey = BerthError.Code("invalid-private-key")
}
