import Foundation

/// What the agent saw on the host before deciding anything. Filled by the host layer,
/// consumed by the pure ``Planner``.
public struct Observation: Sendable, Equatable {
    /// Managed paths (host paths) → what is there now.
    public var files: [String: ObservedFile]
    public var unit: UnitState
    /// Findings in `/etc/docker/daemon.json` that would make dockerd refuse to start with our flags.
    public var daemonJSONConflicts: [String]
    /// Other drop-ins whose `ExecStart=` comes after ours and so replaces it.
    public var overridingDropIns: [String]
    public var engine: EngineState?
    /// When the running dockerd started (nil when it is not running).
    public var dockerStartedAt: Date?

    public init(files: [String: ObservedFile] = [:], unit: UnitState = .init(), daemonJSONConflicts: [String] = [],
                overridingDropIns: [String] = [], engine: EngineState? = nil, dockerStartedAt: Date? = nil) {
        self.files = files
        self.unit = unit
        self.daemonJSONConflicts = daemonJSONConflicts
        self.overridingDropIns = overridingDropIns
        self.engine = engine
        self.dockerStartedAt = dockerStartedAt
    }
}

/// A managed file as found: missing, a link (refused), something else, or a regular file.
public enum ObservedFile: Sendable, Equatable {
    case missing
    case symlink(target: String)
    case notRegular
    case regular(contents: [UInt8], mode: UInt16, uid: UInt32, gid: UInt32, modified: Date)
}

/// `systemctl show docker`: what systemd has loaded and is running.
public struct UnitState: Sendable, Equatable, Codable {
    public var loaded: Bool
    public var activeState: String
    public var mainPID: Int
    /// The argv systemd will run, as `systemctl show -p ExecStart` reports it.
    public var execStart: [String]
    public var dropInPaths: [String]
    public var needDaemonReload: Bool

    public init(loaded: Bool = false, activeState: String = "inactive", mainPID: Int = 0, execStart: [String] = [],
                dropInPaths: [String] = [], needDaemonReload: Bool = false) {
        self.loaded = loaded
        self.activeState = activeState
        self.mainPID = mainPID
        self.execStart = execStart
        self.dropInPaths = dropInPaths
        self.needDaemonReload = needDaemonReload
    }

    public var isActive: Bool { activeState == "active" }
}

/// What the Engine API said over the unix socket.
public struct EngineState: Sendable, Equatable, Codable {
    public var version: String
    public var containersRunning: Int
    public var liveRestore: Bool

    public init(version: String, containersRunning: Int, liveRestore: Bool) {
        self.version = version
        self.containersRunning = containersRunning
        self.liveRestore = liveRestore
    }
}
