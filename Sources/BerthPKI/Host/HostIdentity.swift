import BerthCore
import X509

/// The host's side of "server certificates without moving keys" (docs/design.md): its key is
/// made on the host and only a CSR leaves it.
///
/// The SANs a host asks for are computed by one pure function,
/// ``subjectAltNames(for:observed:)``, used both to build the CSR and by
/// ``RenewalDecision`` to notice that the installed certificate no longer matches, so the
/// two can never disagree.
public enum HostIdentity {
    /// A new host key as PKCS#8 PEM (for `/etc/docker/berth/server-key.pem`, mode 0600).
    public static func generateKey(keyType: KeyType = .ecdsa) throws -> String {
        try PrivateKeyPEM.generate(keyType)
    }

    /// The SANs the host's server certificate must carry.
    ///
    /// Declared addresses in `fleet.yaml` order, each typed as what it is (an IP becomes an
    /// `iPAddress` SAN with the raw bytes, a name a `dNSName`), then the Berth host name as a
    /// `dNSName`, since clients also dial hosts by name. For `addresses: auto` the observed
    /// IPs and hostname take the place of the declaration; with nothing observed only the
    /// host name remains. Duplicates are dropped, first occurrence wins.
    ///
    /// A hostname that differs from the Berth host name is requested too (clients may dial
    /// it), which means ``SANPolicy`` will not sign it through `autoSign` alone.
    public static func subjectAltNames(for host: ResolvedHost, observed: ObservedAddresses? = nil) -> [SubjectAltName] {
        var names: [SubjectAltName] = []
        switch host.addresses {
        case .explicit(let addresses):
            names = addresses.map(SubjectAltName.init)
        case .auto:
            names = (observed?.ips ?? []).map(SubjectAltName.ip)
            if let hostname = observed?.hostname { names.append(.dnsName(hostname)) }
        }
        names.append(.dnsName(host.name))
        var seen = Set<SubjectAltName>()
        return names.filter { seen.insert($0).inserted }
    }

    /// A PEM `CERTIFICATE REQUEST` with subject `CN=HOST` and the given SANs in an
    /// extensionRequest attribute, signed by the host key.
    public static func makeCSR(hostName: String, subjectAltNames: [SubjectAltName], privateKeyPEM: String) throws -> String {
        let generalNames = subjectAltNames.compactMap(\.generalName)
        guard !generalNames.isEmpty else {
            throw BerthError(.invalidCSR, "a CSR for \(hostName) needs at least one IP or DNS name")
        }
        let key = try PrivateKeyPEM.load(privateKeyPEM)
        let subject = try DistinguishedName {
            CommonName(hostName)
        }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(generalNames)
        }
        let attributes = try CertificateSigningRequest.Attributes([
            .init(ExtensionRequest(extensions: extensions)),
        ])
        let csr = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: key, attributes: attributes)
        return try csr.serializeAsPEM().pemString
    }

    /// The SANs a CSR asks for, after checking its signature.
    public static func subjectAltNames(ofCSRPEM pem: String) throws -> [SubjectAltName] {
        try PEMParsing.subjectAltNames(of: PEMParsing.csr(pem))
    }

    /// The commonName a CSR's subject carries (the host name for Berth's own CSRs).
    public static func commonName(ofCSRPEM pem: String) throws -> String? {
        try PEMParsing.csr(pem).subject.commonName
    }

    /// Whether the CSR was made with this private key: the agent checks it before
    /// publishing a staged CSR next to a staged key.
    public static func pairing(csrPEM: String, privateKeyPEM: String) throws -> KeyPairing {
        let csr = try PEMParsing.csr(csrPEM)
        return try PrivateKeyPEM.load(privateKeyPEM).publicKey == csr.publicKey ? .matches : .mismatch
    }
}
