/// The desired state of a fleet, as written in `fleet.yaml` (docs/fleet-yaml.md).
///
/// Values here are already checked one by one; cross-field rules and references to files
/// in the repository are checked by ``FleetValidator``. Host order is declaration order so
/// that every listing and every report is stable.
public struct FleetSpec: Sendable, Equatable {
    public static let apiVersion = "berth/v1"

    public var fleet: String
    /// Path of the fleet CA certificate, relative to the repository root.
    public var ca: String
    public var defaults: HostSettings
    public var hosts: [HostEntry]

    public init(fleet: String, ca: String = "ca.pem", defaults: HostSettings = .init(), hosts: [HostEntry] = []) {
        self.fleet = fleet
        self.ca = ca
        self.defaults = defaults
        self.hosts = hosts
    }

    public func host(named name: String) -> HostEntry? {
        hosts.first { $0.name == name }
    }
}

/// Settings a host inherits from `defaults` and may override key by key.
/// `nil` means "not said here"; resolution fills in the built-in default.
public struct HostSettings: Sendable, Equatable {
    public var listeners: [Listener]?
    public var clients: [String]?
    public var serverCertDays: Int?
    public var renewBefore: TimeSpan?
    public var autoSign: [CIDR]?
    public var restartPolicy: RestartPolicy?
    public var restartWindow: RestartWindow?
    public var labels: [String]?

    public init(
        listeners: [Listener]? = nil, clients: [String]? = nil, serverCertDays: Int? = nil,
        renewBefore: TimeSpan? = nil, autoSign: [CIDR]? = nil, restartPolicy: RestartPolicy? = nil,
        restartWindow: RestartWindow? = nil, labels: [String]? = nil
    ) {
        self.listeners = listeners
        self.clients = clients
        self.serverCertDays = serverCertDays
        self.renewBefore = renewBefore
        self.autoSign = autoSign
        self.restartPolicy = restartPolicy
        self.restartWindow = restartWindow
        self.labels = labels
    }

    /// These settings with every key `other` says replacing ours.
    public func overridden(by other: HostSettings) -> HostSettings {
        HostSettings(
            listeners: other.listeners ?? listeners,
            clients: other.clients ?? clients,
            serverCertDays: other.serverCertDays ?? serverCertDays,
            renewBefore: other.renewBefore ?? renewBefore,
            autoSign: other.autoSign ?? autoSign,
            restartPolicy: other.restartPolicy ?? restartPolicy,
            restartWindow: other.restartWindow ?? restartWindow,
            labels: other.labels ?? labels
        )
    }
}

/// One entry under `hosts:`.
public struct HostEntry: Sendable, Equatable {
    public var name: String
    public var addresses: HostAddresses?
    /// Serve TCP listeners without TLS. Only a host can say it, never `defaults`, and every command warns.
    public var insecure: Bool
    /// Take the host out of service (`berthctl host retire`): its agent removes Berth's files and
    /// then only reports. Only a host can say it.
    public var retired: Bool
    public var settings: HostSettings

    public init(name: String, addresses: HostAddresses? = nil, insecure: Bool = false, retired: Bool = false, settings: HostSettings = .init()) {
        self.name = name
        self.addresses = addresses
        self.insecure = insecure
        self.retired = retired
        self.settings = settings
    }
}
