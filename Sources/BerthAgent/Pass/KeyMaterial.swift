import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// The certificate situation of a pass: which key and certificate dockerd should serve, and
/// the CSR waiting for `berthctl sign`, if any.
struct CertificateOutcome {
    /// What `server-key.pem` should hold (nil when no key exists yet, in `plan`).
    var serverKeyPEM: String?
    /// The certificate to install, matching `serverKeyPEM`; nil while none is usable.
    var serverCertificatePEM: String?
    var pendingCSR: PendingCSR?
    var actions: [ActionRecord] = []
    var installedSummary: CertificateInfo?
    /// The certificate arrived for the staged key: the staged key replaces the current one.
    var promotesStagedKey = false

    static let none = CertificateOutcome()
}

/// Keys born on the host (SPEC §3): the server key, a staged key during renewal, the cached CSR,
/// and the agent's probe identity. Private keys are written 0600 and never leave this type except
/// as the desired content of `server-key.pem` (never shown).
struct KeyMaterial {
    var settings: AgentSettings
    var environment: AgentEnvironment

    var stagedKeyPath: String { settings.hostPath("\(HostLayout.stateDir)/staged-key.pem") }
    var csrPath: String { settings.hostPath("\(HostLayout.stateDir)/csr.pem") }
    var serverKeyPath: String { settings.hostPath(HostLayout.serverKey) }

    func read(_ path: String) -> String? {
        guard case .regular(let contents, _, _, _) = FileState.observe(path).kind else { return nil }
        return String(decoding: contents, as: UTF8.self)
    }

    /// The agent's own client identity for probing its TCP listeners; made on first use.
    func probeIdentity(create: Bool) throws -> ProbeIdentity? {
        let keyPath = settings.hostPath(DesiredFiles.probeKey)
        let certPath = settings.hostPath(DesiredFiles.probeCertificate)
        if let key = read(keyPath), let cert = read(certPath) {
            return ProbeIdentity(certificatePEM: cert, privateKeyPEM: key)
        }
        guard create else { return nil }
        let made = try ClientCertificate.create(name: "berth-agent-probe.\(settings.host)", days: 3650, keyType: .ecdsa, now: environment.now())
        try AtomicFile.write(made.privateKeyPEM, to: keyPath, mode: 0o600, directoryMode: 0o700)
        try AtomicFile.write(made.certificatePEM, to: certPath, mode: 0o644, directoryMode: 0o700)
        return ProbeIdentity(certificatePEM: made.certificatePEM, privateKeyPEM: made.privateKeyPEM)
    }

    /// Decides which certificate serves and whether a CSR is needed. With `create` false
    /// (`plan`) nothing is written and no key is made.
    func assess(host: ResolvedHost, repository: FleetRepository, caPEM: String, create: Bool) async throws -> CertificateOutcome {
        guard host.needsServerCertificate else { return .none }
        var outcome = CertificateOutcome()
        let observed = host.addresses == .auto ? ObservedAddresses.current() : nil
        let sans = HostIdentity.subjectAltNames(for: host, observed: observed)
        let now = environment.now()

        var currentKey = read(serverKeyPath)
        if currentKey == nil {
            if create {
                let key = try HostIdentity.generateKey()
                try AtomicFile.write(key, to: serverKeyPath, mode: 0o600, directoryMode: 0o755)
                outcome.actions.append(ActionRecord(kind: "generate-key", object: HostLayout.serverKey, reason: "no server key on this host; made one here (it never leaves the host)"))
                currentKey = key
            } else {
                outcome.actions.append(ActionRecord(kind: "generate-key", object: HostLayout.serverKey, reason: "no server key on this host yet"))
                return outcome
            }
        }
        let repoCert = repository.readIfPresent("certs/\(host.name).pem")
        let staged = read(stagedKeyPath)

        // A certificate for the staged key has arrived: promote it.
        if let staged, let repoCert, (try? PrivateKeyPEM.pairing(privateKeyPEM: staged, certificatePEM: repoCert)) == .matches,
           case .valid = try await RenewalDecision.evaluate(certificatePEM: repoCert, privateKeyPEM: staged, desiredSANs: sans,
                                                            caCertificatePEM: caPEM, renewBefore: host.renewBefore, now: now) {
            outcome.serverKeyPEM = staged
            outcome.serverCertificatePEM = repoCert
            outcome.promotesStagedKey = true
            outcome.installedSummary = summary(repoCert)
            return outcome
        }

        let decision = try await RenewalDecision.evaluate(certificatePEM: repoCert, privateKeyPEM: currentKey, desiredSANs: sans,
                                                          caCertificatePEM: caPEM, renewBefore: host.renewBefore, now: now)
        outcome.serverKeyPEM = currentKey
        switch decision {
        case .valid:
            outcome.serverCertificatePEM = repoCert
            outcome.installedSummary = repoCert.flatMap(summary)
            if create && (staged != nil || read(csrPath) != nil) { discardStaged() }
        case .needsCertificate(let reason):
            var stillServes = false
            switch reason {
            case .insideRenewWindow, .sanMismatch: stillServes = true
            default: break
            }
            if stillServes {
                // Renewal: the old certificate keeps serving while a staged key waits for its certificate.
                outcome.serverCertificatePEM = repoCert
                outcome.installedSummary = repoCert.flatMap(summary)
                var stagedKey = staged
                if stagedKey == nil && create {
                    let key = try HostIdentity.generateKey()
                    try AtomicFile.write(key, to: stagedKeyPath, mode: 0o600, directoryMode: 0o700)
                    outcome.actions.append(ActionRecord(kind: "stage-key", object: "\(HostLayout.stateDir)/staged-key.pem", reason: "\(reason); the current certificate keeps serving until the new one arrives"))
                    stagedKey = key
                }
                if let stagedKey {
                    outcome.pendingCSR = try csr(for: stagedKey, host: host, sans: sans, reason: "\(reason)", save: create)
                }
            } else {
                outcome.pendingCSR = try csr(for: currentKey!, host: host, sans: sans, reason: "\(reason)", save: create)
            }
        }
        return outcome
    }

    /// The CSR for `key`: the cached one while it still fits, else a new one (saved when allowed),
    /// so its fingerprint stays stable from pass to pass until `berthctl sign`.
    func csr(for key: String, host: ResolvedHost, sans: [SubjectAltName], reason: String, save: Bool) throws -> PendingCSR {
        var pem: String
        if let cached = read(csrPath),
           (try? HostIdentity.pairing(csrPEM: cached, privateKeyPEM: key)) == .matches,
           (try? HostIdentity.subjectAltNames(ofCSRPEM: cached)) == sans {
            pem = cached
        } else {
            pem = try HostIdentity.makeCSR(hostName: host.name, subjectAltNames: sans, privateKeyPEM: key)
            if save { try AtomicFile.write(pem, to: csrPath, mode: 0o644, directoryMode: 0o700) }
        }
        return PendingCSR(pem: pem, sha256: try Fingerprint.sha256(ofCSRPEM: pem), sans: sans.map(\.description), reason: reason)
    }

    func summary(_ pem: String) -> CertificateInfo? {
        guard let s = try? CertificateSummary(pem: pem) else { return nil }
        return CertificateInfo(subject: s.subject, sans: s.subjectAltNames, notAfter: s.notAfter, sha256: s.fingerprint)
    }

    /// Removes the staged key and its CSR once they are no longer needed.
    func discardStaged() {
        try? AtomicFile.remove(stagedKeyPath)
        try? AtomicFile.remove(csrPath)
    }
}
