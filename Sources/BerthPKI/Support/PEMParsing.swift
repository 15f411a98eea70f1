import BerthCore
import SwiftASN1
import X509

/// Parsing shared by every PEM-taking entry point, so each one fails with the same
/// `BerthError` code and a message that names what was expected.
enum PEMParsing {
    /// Exactly one `CERTIFICATE` block.
    static func certificate(_ pem: String, what: String = "certificate") throws -> Certificate {
        let documents = try documents(pem, what: what)
        guard documents.count == 1 else {
            throw BerthError(.certificate, "\(what) holds \(documents.count) PEM blocks; expected exactly one CERTIFICATE")
        }
        return try certificate(documents[0], what: what)
    }

    static func certificate(_ document: PEMDocument, what: String) throws -> Certificate {
        guard document.discriminator == Certificate.defaultPEMDiscriminator else {
            throw BerthError(.certificate, "\(what) is a \(document.discriminator) PEM block; expected a CERTIFICATE")
        }
        do {
            return try Certificate(derEncoded: document.derBytes)
        } catch {
            throw BerthError(.certificate, "\(what) is not a valid X.509 certificate", underlying: error)
        }
    }

    /// Every PEM block in `pem`; throws when there is none or one is malformed.
    static func documents(_ pem: String, what: String) throws -> [PEMDocument] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw BerthError(.certificate, "\(what) is not valid PEM", underlying: error)
        }
        guard !documents.isEmpty else {
            throw BerthError(.certificate, "\(what) contains no PEM block (-----BEGIN CERTIFICATE-----)")
        }
        return documents
    }

    /// Exactly one `CERTIFICATE REQUEST` block whose self-signature verifies.
    static func csr(_ pem: String) throws -> CertificateSigningRequest {
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: pem)
        } catch {
            throw BerthError(.invalidCSR, "the CSR is not a valid PEM CERTIFICATE REQUEST", underlying: error)
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw BerthError(.invalidCSR, "the CSR's signature does not verify against its own public key; ask the host for a fresh CSR")
        }
        return csr
    }

    /// The DER bytes of a CSR's one `CERTIFICATE REQUEST` block (what fingerprints and join-token
    /// MACs are computed over).
    static func csrDER(_ pem: String) throws -> [UInt8] {
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem)
        } catch {
            throw BerthError(.invalidCSR, "the CSR is not valid PEM", underlying: error)
        }
        guard document.discriminator == CertificateSigningRequest.defaultPEMDiscriminator else {
            throw BerthError(.invalidCSR, "expected a CERTIFICATE REQUEST PEM block, found \(document.discriminator)")
        }
        return document.derBytes
    }

    /// The subjectAltName entries a CSR asks for (empty when it has no extension request).
    static func subjectAltNames(of csr: CertificateSigningRequest) throws -> [SubjectAltName] {
        do {
            guard let request = try csr.attributes.extensionRequest,
                  let sans = try request.extensions.subjectAlternativeNames
            else { return [] }
            return sans.map(SubjectAltName.init)
        } catch {
            throw BerthError(.invalidCSR, "the CSR's extension request does not parse", underlying: error)
        }
    }

    static func der(_ value: some DERSerializable) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(value)
        return serializer.serializedBytes
    }
}

extension Certificate {
    /// The certificate's subjectAltName entries, empty when it has none or they do not parse.
    var berthSubjectAltNames: [SubjectAltName] {
        guard let sans = try? extensions.subjectAlternativeNames else { return [] }
        return sans.map(SubjectAltName.init)
    }

    /// CA:TRUE in basicConstraints. A certificate without the extension is not a CA (RFC 5280 §4.2.1.9).
    var isCertificateAuthority: Bool {
        guard let constraints = try? extensions.basicConstraints else { return false }
        if case .isCertificateAuthority = constraints { return true }
        return false
    }

    var pemString: String {
        get throws { try serializeAsPEM().pemString }
    }
}

extension DistinguishedName {
    /// The first commonName, or nil when the name has none (or it is not a string).
    var commonName: String? {
        for rdn in self {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let text = String(attribute.value) { return text }
            }
        }
        return nil
    }
}
