import BerthCore
import Foundation
import X509

/// The one way Berth makes a self-signed certificate (the fleet CA, a client, the agent's probe
/// identity): backdated by ``FleetCA/backdating`` so a host whose clock runs a little behind
/// accepts it, valid `days` from `now`, a random serial.
enum SelfSignedCertificate {
    static func make(
        key: Certificate.PrivateKey, subject: DistinguishedName, now: Date, days: Int, what: String,
        @ExtensionsBuilder extensions: () throws -> Result<Certificate.Extensions, any Error>
    ) throws -> Certificate {
        guard days > 0 else {
            throw BerthError(.invalidInput, "\(what) validity must be at least one day, got \(days)")
        }
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-FleetCA.backdating),
            notValidAfter: now.addingTimeInterval(TimeInterval(days) * 86_400),
            issuer: subject,
            subject: subject,
            extensions: try Certificate.Extensions(builder: extensions),
            issuerPrivateKey: key
        )
    }
}
