/// Cross-field and cross-file rules of `fleet.yaml`: the ones a single value cannot check.
///
/// Certificate contents (parse, expiry, SANs) are checked by `BerthPKI`, which owns the crypto;
/// this stays pure so it can run anywhere, given the list of files in the repository.
public enum FleetValidator {
    /// Adds the cross-checks' findings to the parser's. `repositoryFiles` are paths relative to the repository root.
    public static func validate(_ document: FleetDocument, repositoryFiles: Set<String>) -> [Diagnostic] {
        var out = document.diagnostics
        guard let spec = document.spec else { return out }
        func error(_ field: String, _ message: String) {
            out.append(Diagnostic(.error, at: document.location(field), field: field, message))
        }
        func warning(_ field: String, _ message: String) {
            out.append(Diagnostic(.warning, at: document.location(field), field: field, message))
        }

        if !repositoryFiles.contains(spec.ca) {
            error("ca", "\"\(spec.ca)\" is not in the repository; restore the fleet CA certificate there (berthctl init creates it)")
        }

        func checkClients(_ names: [String]?, field: String) {
            for (index, name) in (names ?? []).enumerated() where !repositoryFiles.contains(FleetLayout.clientCertificate(name)) {
                error("\(field)[\(index)]", "client \"\(name)\" has no certificate \(FleetLayout.clientCertificate(name)); create it with `berthctl client new \(name)` or add one with `berthctl client add \(name) --cert FILE`")
            }
        }
        checkClients(spec.defaults.clients, field: "defaults.clients")

        for entry in spec.hosts {
            let field = "hosts.\(entry.name)"
            checkClients(entry.settings.clients, field: "\(field).clients")
            let host = spec.resolve(entry)
            let listenersField = entry.settings.listeners != nil ? "\(field).listeners" : "defaults.listeners"
            // A retired host serves no TLS any more: it needs no addresses for a certificate.
            if host.needsServerCertificate && entry.addresses == nil && !entry.retired {
                error(field, "has tcp:// listeners (\(listenersField)), served with mutual TLS, but no addresses for its server certificate; add addresses: [IP or DNS name] or addresses: auto")
            }
            if entry.insecure && host.tcpListeners.isEmpty {
                warning("\(field).insecure", "has no effect: the host has no tcp:// listener; remove it")
            }
            let renewField = entry.settings.renewBefore != nil ? "\(field).tls.renewBefore" : "defaults.tls.renewBefore"
            if host.renewBefore.seconds >= host.serverCertDays * 86_400 {
                error(renewField, "\(host.renewBefore) is not shorter than the certificate's life of \(host.serverCertDays) days, so the agent would renew on every pass; make it smaller than serverCertDays, e.g. \(max(1, host.serverCertDays / 3))d")
            }
            if host.restartWindow != nil && host.restartPolicy != .whenSafe {
                let windowField = entry.settings.restartWindow != nil ? "\(field).restart.window" : "defaults.restart.window"
                warning(windowField, "only matters with policy when-safe; this host's policy is \(host.restartPolicy.rawValue)")
            }
        }
        if spec.defaults.renewBefore != nil || spec.defaults.serverCertDays != nil, spec.hosts.isEmpty {
            let days = spec.defaults.serverCertDays ?? ResolvedHost.defaultServerCertDays
            let renew = spec.defaults.renewBefore ?? ResolvedHost.defaultRenewBefore
            if renew.seconds >= days * 86_400 {
                error("defaults.tls.renewBefore", "\(renew) is not shorter than the certificate's life of \(days) days; make it smaller than serverCertDays")
            }
        }
        return out
    }
}
