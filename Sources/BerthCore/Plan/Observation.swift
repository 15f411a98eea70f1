import Foundation

/// What the agent saw on the host before deciding anything. Filled by the host layer,
/// consumed by the pure ``Planner``.
public struct Observation: Sendable, Equatable {
    /// Managed paths (host paths) → what is there now.
    public var files: [String: ObservedFile]
    public var unit: UnitState
    /// Settings outside Berth's files that would clash with its flags: `daemon.json` keys and
    /// `-H`/`--tls*` in the unit's `EnvironmentFile`s, each naming the file and the setting.
    public var conflicts: [Conflict]
    /// Other drop-ins whose `ExecStart=` comes after ours and so replaces it.
    public var overridingDropIns: [String]
    public var engine: EngineState?
    /// dockerd started before the managed files on disk were last written, so it runs an older
    /// configuration. Judged on the boot clock by the host layer (`RestartLedger`), so a step of
    /// the wall clock cannot hide a pending restart.
    public var daemonPredatesFiles: Bool

    public init(files: [String: ObservedFile] = [:], unit: UnitState = .init(), conflicts: [Conflict] = [],
                overridingDropIns: [String] = [], engine: EngineState? = nil, daemonPredatesFiles: Bool = false) {
        self.files = files
        self.unit = unit
        self.conflicts = conflicts
        self.overridingDropIns = overridingDropIns
        self.engine = engine
        self.daemonPredatesFiles = daemonPredatesFiles
    }
}

/// A setting outside Berth's files that would make dockerd refuse to start, or open a socket
/// Berth does not manage.
public struct Conflict: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A key of `/etc/docker/daemon.json`.
        case daemonJSON
        /// A variable of an `EnvironmentFile` that the unit's command line expands.
        case environmentFile
    }

    public var kind: Kind
    /// The file it is in.
    public var file: String
    /// What is wrong and what to do.
    public var message: String

    public init(_ kind: Kind, file: String, _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }
}

/// A managed file as found: missing, a link (refused), something else, or a regular file.
public enum ObservedFile: Sendable, Equatable {
    case missing
    case symlink(target: String)
    case notRegular
    case regular(contents: [UInt8], mode: UInt16, uid: UInt32, gid: UInt32)
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
    /// `EnvironmentFiles=`: the files systemd reads variables from (a leading `-` dropped).
    public var environmentFiles: [String]
    /// `Environment=`: variables set in the unit itself.
    public var environment: [String]

    public init(loaded: Bool = false, activeState: String = "inactive", mainPID: Int = 0, execStart: [String] = [],
                dropInPaths: [String] = [], needDaemonReload: Bool = false, environmentFiles: [String] = [], environment: [String] = []) {
        self.loaded = loaded
        self.activeState = activeState
        self.mainPID = mainPID
        self.execStart = execStart
        self.dropInPaths = dropInPaths
        self.needDaemonReload = needDaemonReload
        self.environmentFiles = environmentFiles
        self.environment = environment
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
