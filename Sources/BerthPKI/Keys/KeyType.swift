/// The key algorithms Berth generates.
///
/// ECDSA P-256 is the default: small, fast, and accepted by every Docker client and daemon
/// since Go 1.x. RSA 3072 exists for fleets whose clients or policies still require RSA;
/// 3072 bits is the size NIST rates as equivalent to P-256's 128-bit security.
public enum KeyType: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// ECDSA on NIST P-256, signatures with SHA-256.
    case ecdsa
    /// RSA with a 3072-bit modulus, PKCS#1 v1.5 signatures with SHA-256.
    case rsa

    public var description: String {
        switch self {
        case .ecdsa: return "ecdsa (P-256)"
        case .rsa: return "rsa (3072 bits)"
        }
    }
}
