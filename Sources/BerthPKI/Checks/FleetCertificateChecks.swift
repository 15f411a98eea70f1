import BerthCore
import Foundation
import X509

/// The certificate half of `berthctl validate`: everything about `ca.pem`, `clients/*.pem`
/// and `certs/*.pem` that needs crypto, as diagnostics located at the file.
///
/// BerthCore's validator already reports files that `fleet.yaml` names but the repository
/// lacks; these checks look inside the files that exist. Severity follows what would break:
/// a certificate that cannot work (unparsable, expired, not from the fleet CA, a CA pinned as
/// a client, another host's certificate) is an error; one that works today but needs
/// attention (inside `renewBefore`, SANs that lag behind a just-edited `addresses` list) is a
/// warning. The SAN lag must not be an error: changing a host's addresses is the commit
/// that makes the agent ask for a new certificate, so refusing it would deadlock renewal.
public enum FleetCertificateChecks {
    /// Client certificates expiring within this many days get a warning.
    public static let clientExpiryWarningDays = 30

    /// Runs every check at `now`.
    /// - Parameters:
    ///   - caFile: the repository path of the CA certificate (`fleet.yaml`'s `ca`).
    ///   - caPEM: its contents, nil when missing (BerthCore reports that).
    ///   - clients: `clients/NAME.pem` contents by NAME.
    ///   - serverCertificates: `certs/HOST.pem` contents by HOST.
    ///   - hosts: every host of the fleet, resolved.
    public static func run(
        caFile: String = "ca.pem",
        caPEM: String?,
        clients: [String: String],
        serverCertificates: [String: String],
        hosts: [ResolvedHost],
        now: Date
    ) async -> [Diagnostic] {
        var out: [Diagnostic] = []
        let ca = caPEM.flatMap { checkCA($0, file: caFile, hosts: hosts, now: now, into: &out) }
        for name in clients.keys.sorted() {
            checkClient(name: name, pem: clients[name]!, now: now, into: &out)
        }
        let hostsByName = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in serverCertificates.keys.sorted() {
            await checkServer(name: name, pem: serverCertificates[name]!, host: hostsByName[name], ca: ca, caFile: caFile, now: now, into: &out)
        }
        return out
    }

    private static func at(_ file: String) -> SourceLocation {
        SourceLocation(file: file, line: 1, column: 1)
    }

    /// Returns the CA when it can anchor the server certificate checks.
    private static func checkCA(_ pem: String, file: String, hosts: [ResolvedHost], now: Date, into out: inout [Diagnostic]) -> Certificate? {
        let certificate: Certificate
        do {
            certificate = try PEMParsing.certificate(pem, what: file)
        } catch {
            out.append(Diagnostic(.error, at: at(file), field: "", "\(error); it must hold the fleet CA certificate (berthctl init writes it)"))
            return nil
        }
        guard certificate.isCertificateAuthority else {
            out.append(Diagnostic(.error, at: at(file), field: "", "\(certificate.subject) is not a CA certificate (basicConstraints CA:TRUE is missing); ca.pem must hold the fleet CA, not a host or client certificate"))
            return nil
        }
        switch CertificateExpiry(notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, now: now) {
        case .expired(let notAfter):
            out.append(Diagnostic(.error, at: at(file), field: "", "the fleet CA expired at \(notAfter.berthTimestamp); no server certificate it signed verifies any more. Create a new CA and re-sign every host"))
        case .notYetValid(let notBefore):
            out.append(Diagnostic(.error, at: at(file), field: "", "the fleet CA is not valid before \(notBefore.berthTimestamp); check the clock of the machine that created it"))
        case .valid(let notAfter):
            let longest = hosts.filter(\.needsServerCertificate).map(\.serverCertDays).max() ?? 0
            if notAfter.timeIntervalSince(now) < TimeInterval(longest) * 86_400 {
                out.append(Diagnostic(.warning, at: at(file), field: "", "the fleet CA expires at \(notAfter.berthTimestamp), sooner than the \(longest)-day server certificates it signs; plan a CA rotation"))
            }
        }
        return certificate
    }

    private static func checkClient(name: String, pem: String, now: Date, into out: inout [Diagnostic]) {
        let file = FleetLayout.clientCertificate(name)
        switch ClientCertificate.check(pem: pem, now: now) {
        case .rejected(let rejection):
            out.append(Diagnostic(.error, at: at(file), field: "", "client \"\(name)\": \(rejection)"))
        case .acceptable(let summary):
            if summary.notAfter.timeIntervalSince(now) <= TimeInterval(clientExpiryWarningDays) * 86_400 {
                out.append(Diagnostic(.warning, at: at(file), field: "", "client \"\(name)\" expires at \(summary.notAfter.berthTimestamp); make a new one with berthctl client new \(name)"))
            }
        }
    }

    private static func checkServer(
        name: String, pem: String, host: ResolvedHost?, ca: Certificate?, caFile: String, now: Date,
        into out: inout [Diagnostic]
    ) async {
        let file = FleetLayout.serverCertificate(name)
        func error(_ message: String) { out.append(Diagnostic(.error, at: at(file), field: "", message)) }
        func warning(_ message: String) { out.append(Diagnostic(.warning, at: at(file), field: "", message)) }
        let sign = "sign the host's pending CSR with berthctl sign \(name)"

        let certificate: Certificate
        do {
            certificate = try PEMParsing.certificate(pem, what: file)
        } catch let failure {
            error("\(failure); certs/ holds server certificates written by berthctl sign, \(sign)")
            return
        }
        guard let host else {
            warning("is a certificate for \"\(name)\", which is not a host in fleet.yaml; remove the file (berthctl host rm removes both)")
            return
        }
        if certificate.isCertificateAuthority {
            error("is a CA certificate (\(certificate.subject)); certs/ holds the server certificate of host \(name); \(sign)")
            return
        }

        switch CertificateExpiry(notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, now: now) {
        case .expired(let notAfter):
            error("expired at \(notAfter.berthTimestamp); clients can no longer connect to \(name) over TLS; \(sign)")
        case .notYetValid(let notBefore):
            error("is not valid before \(notBefore.berthTimestamp); check the clock of the machine that signed it, then \(sign)")
        case .valid(let notAfter):
            if let ca, case .untrusted(let details) = await FleetChain.verify(certificate, ca: ca, now: now) {
                error("is not signed by the fleet CA in \(caFile): \(details); \(sign)")
            }
            if notAfter.timeIntervalSince(now) <= TimeInterval(host.renewBefore.seconds) {
                warning("expires at \(notAfter.berthTimestamp), inside hosts.\(name) renewBefore (\(host.renewBefore)); the agent asks for a new certificate, \(sign)")
            }
        }

        let have = Set(certificate.berthSubjectAltNames)
        let want = Set(HostIdentity.subjectAltNames(for: host))
        if have.isDisjoint(with: want) {
            let list = have.sorted().map(\.description).joined(separator: ", ")
            error("is not host \(name)'s certificate: its SANs [\(list)] name neither \(name) nor hosts.\(name).addresses; \(sign)")
        } else if case .explicit = host.addresses, have != want {
            var parts: [String] = []
            let missing = want.subtracting(have).sorted()
            let extra = have.subtracting(want).sorted()
            if !missing.isEmpty { parts.append("lacks " + missing.map(\.description).joined(separator: ", ")) }
            if !extra.isEmpty { parts.append("still names " + extra.map(\.description).joined(separator: ", ")) }
            warning("does not match hosts.\(name).addresses: it \(parts.joined(separator: " and ")); the agent asks for a new certificate once this is committed, \(sign)")
        }
    }
}
