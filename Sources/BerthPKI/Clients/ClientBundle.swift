import BerthCore
import Foundation

/// Builds a host's `clients.pem`: the pinned client certificates, checked one by one.
///
/// Every entry gets ``ClientCertificate``'s structural checks, so a bundle never contains a
/// CA certificate (which would turn pinning into CA trust), a serverAuth-only certificate
/// (which `dockerd` would reject at handshake time), a private key, or several certificates
/// hiding under one client name (which would make `client revoke` incomplete). All problems
/// are reported together, and nothing is built when there is one: a partially applied
/// client list is never what the repository says.
///
/// Expiry is deliberately *not* checked here. Refusing to build would freeze every host's
/// configuration the day one client certificate runs out, with no commit to blame; an
/// expired pinned certificate is harmless (`dockerd` refuses it at the handshake), and
/// `berthctl validate` reports it as an error through ``FleetCertificateChecks``.
public enum ClientBundle {
    /// One problem per rejected client, naming the client and its file.
    public static func problems(_ entries: [NamedPEM]) -> [String] {
        entries.compactMap { entry in
            if case .failure(let rejection) = ClientCertificate.inspect(pem: entry.pem) {
                return "\(FleetLayout.clientCertificate(entry.name)): \(rejection)"
            }
            return nil
        }
    }

    /// The bundle's text: each certificate re-encoded as one canonical PEM block, in the
    /// given order, newline-terminated. Throws `BerthError(.certificate)` listing every
    /// rejected entry.
    public static func assemble(_ entries: [NamedPEM]) throws -> String {
        let problems = problems(entries)
        guard problems.isEmpty else {
            throw BerthError(.certificate, problems.joined(separator: "\n"))
        }
        return try entries.map { entry in
            try PEMParsing.certificate(entry.pem, what: "\(FleetLayout.clientCertificate(entry.name))").pemString + "\n"
        }.joined()
    }
}
