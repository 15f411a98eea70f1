/// One way the host differs from its desired state, with the evidence.
public struct DriftItem: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case fileMissing = "file-missing"
        /// A file Berth no longer wants on the host (a retired host's drop-in and TLS files).
        case filePresent = "file-present"
        case fileContent = "file-content"
        case fileMode = "file-mode"
        case fileOwner = "file-owner"
        case symlink
        case notRegularFile = "not-regular-file"
        case unitNotLoaded = "unit-not-loaded"
        case daemonReloadNeeded = "daemon-reload-needed"
        case daemonArguments = "daemon-arguments"
        case daemonDown = "daemon-down"
        case staleDaemon = "stale-daemon"
        case daemonJSONConflict = "daemon-json-conflict"
        case environmentConflict = "environment-conflict"
        case overridingDropIn = "overriding-drop-in"
        case listenerProbe = "listener-probe"
        case certificate
    }

    public var kind: Kind
    /// The path or object (`docker.service`, `tcp://0.0.0.0:2376`) it concerns.
    public var object: String
    public var reason: String
    /// A unified diff, for file contents; never for a file that holds key material.
    public var diff: String?

    public init(_ kind: Kind, _ object: String, _ reason: String, diff: String? = nil) {
        self.kind = kind
        self.object = object
        self.reason = reason
        self.diff = diff
    }
}

/// A change the agent will make, in the order it makes them.
public enum PlannedAction: Sendable, Equatable {
    case write(ManagedFile, reason: String)
    case setMode(path: String, mode: UInt16, reason: String)
    case setOwner(path: String, reason: String)
    /// Removes a file Berth wrote (a retired host's drop-in and TLS files).
    case remove(path: String, reason: String)
    case daemonReload(reason: String)
    case restartDocker(reason: String)

    public var summary: String {
        switch self {
        case .write(let file, let reason): return "write \(file.path) (0\(String(file.mode, radix: 8))): \(reason)"
        case .setMode(let path, let mode, let reason): return "chmod 0\(String(mode, radix: 8)) \(path): \(reason)"
        case .setOwner(let path, let reason): return "chown root:root \(path): \(reason)"
        case .remove(let path, let reason): return "remove \(path): \(reason)"
        case .daemonReload(let reason): return "systemctl daemon-reload: \(reason)"
        case .restartDocker(let reason): return "systemctl restart docker: \(reason)"
        }
    }
}

/// Whether dockerd must restart, and whether the policy lets it now.
public enum RestartDecision: Sendable, Equatable {
    case notNeeded
    case restart(because: String)
    case deferred(because: String, policy: String)
}

/// The planner's verdict for one pass: drift found, actions to take, and what blocks them.
public struct HostPlan: Sendable, Equatable {
    public var drift: [DriftItem]
    public var actions: [PlannedAction]
    public var restart: RestartDecision
    /// Reasons the plan must not be applied at all (dockerd would not come back).
    public var blockers: [String]
    /// Why nothing is applied although the host differs: the desired content is quarantined.
    public var held: String?

    public init(drift: [DriftItem] = [], actions: [PlannedAction] = [], restart: RestartDecision = .notNeeded, blockers: [String] = [], held: String? = nil) {
        self.drift = drift
        self.actions = actions
        self.restart = restart
        self.blockers = blockers
        self.held = held
    }

    public var isNoOp: Bool { actions.isEmpty && blockers.isEmpty && restart == .notNeeded && held == nil }

    /// Whether applying the plan restarts dockerd.
    public var restartsDocker: Bool {
        actions.contains { if case .restartDocker = $0 { return true } else { return false } }
    }
}

extension HostPlan {
    /// A daemon-reload, when Berth changed a unit file (`change` says how) or systemd reports
    /// that unit files changed on disk since it loaded them.
    mutating func reloadSystemd(because change: String?, unit: UnitState) {
        if let change {
            actions.append(.daemonReload(reason: change))
        } else if unit.needDaemonReload {
            drift.append(DriftItem(.daemonReloadNeeded, "docker.service", "systemd reports NeedDaemonReload=yes: unit files changed on disk since they were loaded"))
            actions.append(.daemonReload(reason: "unit files changed on disk since systemd loaded them"))
        }
    }

    /// The end every plan shares: the restart decided, then nothing at all when a blocker stands
    /// (dockerd could not come back: the host stays as it is) or when the same content is
    /// quarantined after a failed verification (`held` says why, in the words of `heldBecause`).
    mutating func conclude(restart decision: RestartDecision, quarantine: QuarantineInfo?, contentHash: String,
                           heldBecause: (QuarantineInfo) -> String) {
        restart = decision
        if case .restart(let because) = decision {
            actions.append(.restartDocker(reason: because))
        }
        if !blockers.isEmpty {
            actions = []
            restart = .notNeeded
        } else if let quarantine, quarantine.contentHash == contentHash, !actions.isEmpty || restart != .notNeeded {
            held = heldBecause(quarantine)
            actions = []
            restart = .notNeeded
        }
    }
}
