import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// The certificate situation of a pass: which key and certificate the host serves and signs its
/// reports with, and the CSR waiting for `berthctl sign`, if any.
struct CertificateOutcome: Sendable {
    /// The host key (nil only in `plan` before the first key exists).
    var keyPEM: String?
    /// The certificate that belongs to `keyPEM`, when one is usable.
    var certificatePEM: String?
    var pendingCSR: PendingCSR?
    var actions: [ActionRecord] = []
    var installedSummary: CertificateInfo?
    /// The certificate arrived for the staged key: the staged key becomes the host key once the
    /// new set is in place.
    var promotesStagedKey = false
}

/// Keys born on the host: the host key, a staged key during renewal, the cached CSR, the join
/// token, and the agent's probe identity. Private keys are written 0600 under `/var/lib/berth`
/// (0700) and never leave this type except as the desired content of dockerd's key file.
///
/// Every host has a key and asks for a certificate, whether or not it serves TLS: the key also
/// signs its reports, and the certificate is how `berthctl` knows a report came from the host.
struct KeyMaterial: Sendable {
    var settings: AgentSettings
    var environment: AgentEnvironment

    func path(_ hostPath: String) -> String { settings.hostPath(hostPath) }

    func read(_ hostPath: String) -> String? {
        (try? BoundedFile.readText(path(hostPath), limit: BoundedFile.pemLimit)) ?? nil
    }

    /// The agent's own client identity for probing its TCP listeners; made on first use.
    func probeIdentity(create: Bool) throws -> ProbeIdentity? {
        if let key = read(HostLayout.probeKey), let cert = read(HostLayout.probeCertificate) {
            return ProbeIdentity(certificatePEM: cert, privateKeyPEM: key)
        }
        guard create else { return nil }
        let made = try ClientCertificate.create(name: "berth-agent-probe.\(settings.host)", days: 3650, keyType: .ecdsa, now: environment.now())
        try AtomicFile.write(made.privateKeyPEM, to: path(HostLayout.probeKey), mode: 0o600, directoryMode: 0o700)
        try AtomicFile.write(made.certificatePEM, to: path(HostLayout.probeCertificate), mode: 0o644, directoryMode: 0o700)
        return ProbeIdentity(certificatePEM: made.certificatePEM, privateKeyPEM: made.privateKeyPEM)
    }

    /// Decides which certificate serves and whether a CSR is needed. With `create` false
    /// (`plan`) nothing is written and no key is made.
    func assess(host: ResolvedHost, certificate repoCert: String?, caPEM: String, create: Bool) async throws -> CertificateOutcome {
        var outcome = CertificateOutcome()
        let observed = host.addresses == .auto ? ObservedAddresses.current() : nil
        let sans = HostIdentity.subjectAltNames(for: host, observed: observed)
        let now = environment.now()

        adoptLegacyKey(create: create)
        guard let currentKey = try hostKey(create: create, into: &outcome) else { return outcome }
        outcome.keyPEM = currentKey
        let staged = read(HostLayout.stagedKey)

        // A certificate for the staged key has arrived: it serves from now on.
        if let staged, let repoCert, (try? PrivateKeyPEM.pairing(privateKeyPEM: staged, certificatePEM: repoCert)) == .matches,
           case .valid = try await RenewalDecision.evaluate(certificatePEM: repoCert, privateKeyPEM: staged, desiredSANs: sans,
                                                            caCertificatePEM: caPEM, renewBefore: host.renewBefore, now: now) {
            outcome.keyPEM = staged
            outcome.certificatePEM = repoCert
            outcome.promotesStagedKey = true
            outcome.installedSummary = summary(repoCert)
            return outcome
        }

        let decision = try await RenewalDecision.evaluate(certificatePEM: repoCert, privateKeyPEM: currentKey, desiredSANs: sans,
                                                          caCertificatePEM: caPEM, renewBefore: host.renewBefore, now: now)
        switch decision {
        case .valid:
            outcome.certificatePEM = repoCert
            outcome.installedSummary = repoCert.flatMap(summary)
            if create {
                if staged != nil || read(HostLayout.csr) != nil { discardStaged() }
                forgetJoinToken(into: &outcome)
            }
        case .needsCertificate(let reason):
            switch reason {
            case .insideRenewWindow, .sanMismatch:
                // Renewal: the old certificate keeps serving while a staged key waits for its certificate.
                outcome.certificatePEM = repoCert
                outcome.installedSummary = repoCert.flatMap(summary)
                var stagedKey = staged
                if stagedKey == nil && create {
                    let key = try HostIdentity.generateKey()
                    try AtomicFile.write(key, to: path(HostLayout.stagedKey), mode: 0o600, directoryMode: 0o700)
                    outcome.actions.append(ActionRecord(.stageKey, HostLayout.stagedKey, reason: "\(reason); the current certificate keeps serving until the new one arrives"))
                    stagedKey = key
                }
                if let stagedKey {
                    // Signed by the current certified key, the report vouches for this CSR: no token needed.
                    outcome.pendingCSR = try csr(for: stagedKey, host: host, sans: sans, reason: "\(reason)", save: create, joinToken: nil)
                }
            default:
                outcome.pendingCSR = try csr(for: currentKey, host: host, sans: sans, reason: "\(reason)", save: create, joinToken: read(HostLayout.joinToken))
            }
        }
        return outcome
    }

    /// The host key, made here on first use.
    func hostKey(create: Bool, into outcome: inout CertificateOutcome) throws -> String? {
        if let key = read(HostLayout.hostKey) { return key }
        guard create else {
            outcome.actions.append(ActionRecord(.generateKey, HostLayout.hostKey, reason: "no host key on this host yet"))
            return nil
        }
        let key = try HostIdentity.generateKey()
        try AtomicFile.write(key, to: path(HostLayout.hostKey), mode: 0o600, directoryMode: 0o700)
        outcome.actions.append(ActionRecord(.generateKey, HostLayout.hostKey, reason: "no host key on this host; made one here (it never leaves the host)"))
        return key
    }

    /// Agents before 0.2 kept the key in `/etc/docker/berth/server-key.pem`: keep using it.
    func adoptLegacyKey(create: Bool) {
        let legacy = path("\(HostLayout.tlsDir)/server-key.pem")
        guard create, read(HostLayout.hostKey) == nil, let key = try? BoundedFile.readText(legacy, limit: BoundedFile.pemLimit) else { return }
        try? AtomicFile.write(key, to: path(HostLayout.hostKey), mode: 0o600, directoryMode: 0o700)
    }

    /// The CSR for `key`: the cached one while it still fits, else a new one (saved when allowed),
    /// so its fingerprint stays stable from pass to pass until `berthctl sign`. A join token, when
    /// present, vouches for it with `HMAC-SHA256(token, CSR DER)`.
    func csr(for key: String, host: ResolvedHost, sans: [SubjectAltName], reason: String, save: Bool, joinToken: String?) throws -> PendingCSR {
        var pem: String
        if let cached = read(HostLayout.csr),
           (try? HostIdentity.pairing(csrPEM: cached, privateKeyPEM: key)) == .matches,
           (try? HostIdentity.subjectAltNames(ofCSRPEM: cached)) == sans {
            pem = cached
        } else {
            pem = try HostIdentity.makeCSR(hostName: host.name, subjectAltNames: sans, privateKeyPEM: key)
            if save { try AtomicFile.write(pem, to: path(HostLayout.csr), mode: 0o644, directoryMode: 0o700) }
        }
        let mac = try joinToken.map { try JoinToken.mac(token: $0, csrPEM: pem) }
        return PendingCSR(pem: pem, sha256: try Fingerprint.sha256(ofCSRPEM: pem), sans: sans.map(\.description), reason: reason, joinMAC: mac)
    }

    func summary(_ pem: String) -> CertificateInfo? {
        guard let s = try? CertificateSummary(pem: pem) else { return nil }
        return CertificateInfo(subject: s.subject, sans: s.subjectAltNames, notAfter: s.notAfter, sha256: s.fingerprint)
    }

    /// The staged key becomes the host key (one rename), and the CSR goes.
    func promoteStaged() throws {
        guard rename(path(HostLayout.stagedKey), path(HostLayout.hostKey)) == 0 else {
            throw AtomicFile.posixError("promote \(HostLayout.stagedKey) to \(HostLayout.hostKey)")
        }
        try AtomicFile.syncDirectory((path(HostLayout.hostKey) as NSString).deletingLastPathComponent)
        try? AtomicFile.remove(path(HostLayout.csr))
    }

    /// Removes the staged key and its CSR once they are no longer needed.
    func discardStaged() {
        try? AtomicFile.remove(path(HostLayout.stagedKey))
        try? AtomicFile.remove(path(HostLayout.csr))
    }

    /// The join token vouched for the first certificate, which is here now: it is no longer needed.
    func forgetJoinToken(into outcome: inout CertificateOutcome) {
        guard FileManager.default.fileExists(atPath: path(HostLayout.joinToken)) else { return }
        if (try? AtomicFile.remove(path(HostLayout.joinToken))) != nil {
            outcome.actions.append(ActionRecord(.remove, HostLayout.joinToken, reason: "the host has its certificate; the one-time join token is no longer needed"))
        }
    }
}
