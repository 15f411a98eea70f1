/// One host's desired state with `defaults` merged in: everything the agent and the
/// renderer need, and nothing they must look up elsewhere.
public struct ResolvedHost: Sendable, Equatable, Codable {
    public static let defaultListeners: [Listener] = [.fd(name: nil)]
    public static let defaultServerCertDays = 90
    public static let defaultRenewBefore = TimeSpan.days(30)

    public var fleet: String
    public var name: String
    public var addresses: HostAddresses
    public var listeners: [Listener]
    public var clients: [String]
    public var serverCertDays: Int
    public var renewBefore: TimeSpan
    public var autoSign: [CIDR]
    public var restartPolicy: RestartPolicy
    public var restartWindow: RestartWindow?
    public var labels: [String]
    public var insecure: Bool
    /// `retired: true`: the agent takes Berth's configuration off the host and only reports.
    public var retired: Bool

    public var tcpListeners: [Listener] { listeners.filter(\.isTCP) }

    /// The host serves mutual TLS, so it needs a server certificate from the fleet CA.
    public var needsServerCertificate: Bool { !insecure && !tcpListeners.isEmpty }

    /// The address `berthctl env` and probes use: the first declared one.
    public var advertisedAddress: HostAddress? { addresses.explicitList.first }
}

extension FleetSpec {
    /// Merges `defaults` with the host's entry. Returns nil for a host not in the fleet.
    public func resolve(host name: String) -> ResolvedHost? {
        host(named: name).map(resolve)
    }

    /// Merges `defaults` with one of this fleet's entries. Callers walking every host use this
    /// rather than ``resolve(host:)``, whose lookup by name would make the walk quadratic
    /// (seconds at 10,000 hosts; docs/scale.md).
    public func resolve(_ entry: HostEntry) -> ResolvedHost {
        let s = defaults.overridden(by: entry.settings)
        return ResolvedHost(
            fleet: fleet,
            name: entry.name,
            addresses: entry.addresses ?? .explicit([]),
            listeners: s.listeners ?? ResolvedHost.defaultListeners,
            clients: s.clients ?? [],
            serverCertDays: s.serverCertDays ?? ResolvedHost.defaultServerCertDays,
            renewBefore: s.renewBefore ?? ResolvedHost.defaultRenewBefore,
            autoSign: s.autoSign ?? [],
            restartPolicy: s.restartPolicy ?? .whenSafe,
            restartWindow: s.restartWindow,
            labels: s.labels ?? [],
            insecure: entry.insecure,
            retired: entry.retired
        )
    }
}
