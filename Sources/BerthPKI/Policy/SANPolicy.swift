import BerthCore

/// The check `berthctl sign` makes before the CA signs anything: every name a CSR asks for
/// must be one `fleet.yaml` vouches for.
///
/// For an explicitly addressed host a SAN is covered when it is the Berth host name (as a
/// DNS name) or one of `hosts.HOST.addresses`, IPs compared by bytes and DNS names
/// case-insensitively. The SAN's *type* must match too: an IP carried as a `dNSName` is
/// refused even though the text matches, because Docker clients dialing that IP would not
/// accept the certificate (they match IPs only against `iPAddress` SANs).
///
/// An `addresses: auto` host declares nothing to compare with, so its CSR is signed only
/// when the operator confirms it (`--yes`, after comparing the CSR fingerprint the agent
/// printed) or when every IP it asks for lies inside one of `tls.autoSign`'s networks and
/// its only DNS name is its own Berth name, the automatic path for DHCP fleets.
public enum SANPolicy {
    /// Checks the SANs of a PEM CSR (whose signature must verify).
    public static func evaluate(csrPEM: String, host: ResolvedHost, confirmed: Bool) throws -> SANCoverage {
        evaluate(try HostIdentity.subjectAltNames(ofCSRPEM: csrPEM), host: host, confirmed: confirmed)
    }

    /// Checks already-parsed SANs.
    /// - Parameter confirmed: the operator passed `--yes`; only consulted for `auto` hosts.
    public static func evaluate(_ sans: [SubjectAltName], host: ResolvedHost, confirmed: Bool) -> SANCoverage {
        guard !sans.isEmpty else {
            return .notCovered(reasons: ["the CSR for \(host.name) asks for no subjectAltName; have the agent send a new CSR (berth-agent run)"])
        }
        var reasons: [String] = []
        for san in sans {
            if case .unsupported = san {
                reasons.append("SAN \(san) is neither an IP address nor a DNS name; Berth signs only those, so have the agent send a new CSR")
            }
        }
        switch host.addresses {
        case .explicit(let declared):
            for san in sans {
                if let reason = explicitReason(for: san, declared: declared, host: host) { reasons.append(reason) }
            }
        case .auto:
            if !confirmed { reasons += autoReasons(for: sans, host: host) }
        }
        return reasons.isEmpty ? .covered : .notCovered(reasons: reasons)
    }

    private static func explicitReason(for san: SubjectAltName, declared: [HostAddress], host: ResolvedHost) -> String? {
        let field = "hosts.\(host.name).addresses"
        let list = "[" + declared.map(\.description).joined(separator: ", ") + "]"
        switch san {
        case .unsupported:
            return nil
        case .ip(let ip):
            if declared.contains(.ip(ip)) { return nil }
            return "SAN \(san) is not among \(field) \(list); add \(ip) there if the host really has this address"
        case .dns(let text):
            let name = text.lowercased()
            if name == host.name.lowercased() { return nil }
            if declared.contains(where: { if case .dns(let d) = $0 { return d.lowercased() == name } else { return false } }) { return nil }
            if let ip = IPAddress(name), declared.contains(.ip(ip)) {
                return "SAN \(san) is an IP address written as a DNS name; \(field) declares ip:\(ip), which the CSR must carry as an iPAddress SAN (clients dialing \(ip) match only those)"
            }
            return "SAN \(san) is not among \(field) \(list) nor the host name \(host.name); add \(name) there if clients reach the host by it"
        }
    }

    private static func autoReasons(for sans: [SubjectAltName], host: ResolvedHost) -> [String] {
        let confirm = "compare the CSR fingerprint with the one berth-agent printed on \(host.name), then sign with --yes"
        guard !host.autoSign.isEmpty else {
            return ["hosts.\(host.name).addresses is auto and tls.autoSign is not set, so nothing vouches for \(sans.map(\.description).joined(separator: ", ")); \(confirm)"]
        }
        let networks = "[" + host.autoSign.map(\.description).joined(separator: ", ") + "]"
        var reasons: [String] = []
        for san in sans {
            switch san {
            case .ip(let ip):
                if !host.autoSign.contains(where: { $0.contains(ip) }) {
                    reasons.append("SAN \(san) is outside hosts.\(host.name) tls.autoSign \(networks); \(confirm)")
                }
            case .dns(let name):
                if name.lowercased() != host.name.lowercased() {
                    reasons.append("SAN \(san) is not the host name \(host.name); tls.autoSign signs an auto host only for its own name, so \(confirm)")
                }
            case .unsupported:
                break
            }
        }
        return reasons
    }
}
