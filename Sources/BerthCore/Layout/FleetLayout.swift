/// Where things live in a fleet repository. Every path into the repository is spelled here,
/// so a client's or a host's file is named the same way by the agent, `berthctl` and the tests.
public enum FleetLayout {
    public static let specFile = "fleet.yaml"
    public static let clientsDirectory = "clients"
    public static let certsDirectory = "certs"
    /// The allowed-signers list a signed commit may rotate (OpenSSH's allowed-signers format).
    public static let signersFile = "signers"

    /// `clients/NAME.pem`: the public certificate of an authorized client.
    public static func clientCertificate(_ name: String) -> String { "\(clientsDirectory)/\(name).pem" }

    /// `certs/HOST.pem`: the server certificate `berthctl sign` issued for a host.
    public static func serverCertificate(_ host: String) -> String { "\(certsDirectory)/\(host).pem" }

    /// The client name of `clients/NAME.pem`, nil for any other path.
    public static func clientName(of path: String) -> String? { name(of: path, in: clientsDirectory) }

    /// The host name of `certs/HOST.pem`, nil for any other path.
    public static func hostName(ofCertificate path: String) -> String? { name(of: path, in: certsDirectory) }

    static func name(of path: String, in directory: String) -> String? {
        let prefix = directory + "/"
        guard path.hasPrefix(prefix), path.hasSuffix(".pem") else { return nil }
        let name = path.dropFirst(prefix.count).dropLast(4)
        guard !name.isEmpty, !name.contains("/") else { return nil }
        return String(name)
    }
}
