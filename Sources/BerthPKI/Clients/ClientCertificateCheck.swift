import Foundation

/// The verdict on one client certificate: pinnable, or why not.
public enum ClientCertificateCheck: Sendable, Hashable {
    case acceptable(CertificateSummary)
    case rejected(Rejection)

    public enum Rejection: Error, Sendable, Hashable, CustomStringConvertible {
        case unparsable(details: String)
        /// The file holds no certificate, several, or something else (a key, a CSR).
        case notASingleCertificate(blocks: [String])
        /// basicConstraints CA:TRUE: pinning it would trust everything it signs.
        case certificateAuthority(subject: String)
        /// extendedKeyUsage is present and lacks clientAuth (e.g. serverAuth only).
        case lacksClientAuth(usages: [String])
        case expired(notAfter: Date)
        case notYetValid(notBefore: Date)

        public var description: String {
            switch self {
            case .unparsable(let details):
                return "not a usable certificate: \(details)"
            case .notASingleCertificate(let blocks):
                let found = blocks.isEmpty ? "nothing" : blocks.joined(separator: ", ")
                return "must hold exactly one CERTIFICATE, found \(found); put one client certificate per file and never a private key"
            case .certificateAuthority(let subject):
                return "\(subject) is a CA certificate; pinning it would authorize every certificate it signs. Use the client's own leaf certificate (berthctl client new)"
            case .lacksClientAuth(let usages):
                return "its extendedKeyUsage (\(usages.joined(separator: ", "))) lacks clientAuth, so dockerd would reject it; issue a client certificate (berthctl client new)"
            case .expired(let notAfter):
                return "expired at \(notAfter.berthTimestamp); issue a new one with berthctl client new, or revoke it"
            case .notYetValid(let notBefore):
                return "is not valid before \(notBefore.berthTimestamp); check the clock of the machine that made it"
            }
        }
    }
}
