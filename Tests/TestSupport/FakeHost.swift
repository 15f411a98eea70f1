import BerthCore
import BerthHost
import Foundation

/// A recording stand-in for systemd, journalctl and git on a scratch root: `daemon-reload`
/// re-reads the drop-in under the root, `restart` "starts" dockerd with the loaded command line.
/// Fast tests of the reconciler use it; the real thing is tested on booted hosts.
public final class FakeSystemd: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    public let root: String
    private var loadedExecStart: [String] = []
    private var active = true
    private var pid = 0
    public private(set) var commands: [Command] = []
    /// When set, `restart` leaves the unit failed (dockerd would not start with this config).
    public var failRestartWhen: (@Sendable ([String]) -> Bool)?
    /// When set, `restart` hangs like a stuck `ExecStartPre=` until its timeout kills it.
    public var hangRestartWhen: (@Sendable ([String]) -> Bool)?
    /// Start times of the fake dockerd processes, on the boot clock the agent is given.
    public let bootClock: FakeBootClock
    /// The clock a hung restart's timeout passes on.
    public let clock: ImmediateClock
    /// `EnvironmentFiles=` lines `systemctl show` reports, e.g. `/etc/default/docker (ignore_errors=yes)`.
    public var environmentFiles: [String] = []

    /// The command line systemd has loaded (what a restart runs).
    public var loadedArguments: [String] { lock.withLock { loadedExecStart } }

    public init(root: String, bootClock: FakeBootClock = FakeBootClock(), clock: ImmediateClock = ImmediateClock()) {
        self.root = root
        self.bootClock = bootClock
        self.clock = clock
        loadedExecStart = Self.readExecStart(root: root)
        bootClock.start(pid: 0)
    }

    static func readExecStart(root: String) -> [String] {
        var exec = (try? DesiredFiles.findUnit(root: root))?.execStart ?? []
        if let data = FileManager.default.contents(atPath: HostLayout.path(HostLayout.dropIn, under: root)),
           let unit = try? DockerUnit.parse(String(decoding: data, as: UTF8.self), path: HostLayout.dropIn) {
            exec = unit.execStart
        }
        return exec
    }

    public var restarts: Int { lock.withLock { commands.filter { $0.arguments.first == "restart" }.count } }
    public var reloads: Int { lock.withLock { commands.filter { $0.arguments.first == "daemon-reload" }.count } }
    public func reset() { lock.withLock { commands = [] } }

    public func run(_ command: Command) async throws -> CommandResult {
        if command.executable == "git" { return try await SubprocessRunner().run(command) }
        if command.executable == "systemctl", command.arguments.first == "restart", let hang = hangRestartWhen,
           hang(lock.withLock { loadedExecStart }) {
            lock.withLock { commands.append(command); active = false }
            let timeout = command.timeout ?? .seconds(3600)
            clock.advance(by: timeout)
            throw BerthError(.commandTimedOut, "`\(command)` did not finish within \(Int(timeout.seconds)) s and was killed")
        }
        return lock.withLock {
            commands.append(command)
            switch (command.executable, command.arguments.first ?? "") {
            case ("systemctl", "show"):
                let current = Self.readExecStart(root: root)
                let needReload = current != loadedExecStart
                return CommandResult(status: 0, stdout: Array("""
                    LoadState=loaded
                    ActiveState=\(active ? "active" : "failed")
                    MainPID=\(active ? pid : 0)
                    ExecStart={ path=\(loadedExecStart.first ?? "") ; argv[]=\(loadedExecStart.joined(separator: " ")) ; ignore_errors=no }
                    DropInPaths=\(FileManager.default.fileExists(atPath: HostLayout.path(HostLayout.dropIn, under: root)) ? HostLayout.dropIn : "")
                    NeedDaemonReload=\(needReload ? "yes" : "no")
                    \(environmentFiles.map { "EnvironmentFiles=\($0)" }.joined(separator: "\n"))

                    """.utf8))
            case ("systemctl", "daemon-reload"):
                loadedExecStart = Self.readExecStart(root: root)
                return CommandResult(status: 0)
            case ("systemctl", "restart"):
                pid += 1
                bootClock.start(pid: pid)
                active = !(failRestartWhen?(loadedExecStart) ?? false)
                return CommandResult(status: active ? 0 : 1, stderr: Array("Job for docker.service failed".utf8))
            case ("systemctl", "is-active"):
                return CommandResult(status: active ? 0 : 3)
            case ("journalctl", _):
                return CommandResult(status: 0, stdout: Array("dockerd[7]: failed to load listeners: listen tcp 10.255.255.1:2376: bind: cannot assign requested address\n".utf8))
            default:
                return CommandResult(status: 0)
            }
        }
    }
}

/// A stand-in for the Engine API with settable answers.
public final class FakeEngine: EngineClient, @unchecked Sendable {
    public var state = EngineState(version: "20.10.24", containersRunning: 0, liveRestore: false)
    public var healthy: @Sendable () -> Bool = { true }
    public private(set) var probes: [(host: String, port: Int, fingerprint: String?)] = []

    public init() {}

    public func ping(socket: String) async throws {
        guard healthy() else { throw BerthError(.io, "connection refused") }
    }

    public func info(socket: String) async throws -> EngineState {
        guard healthy() else { throw BerthError(.io, "connection refused") }
        return state
    }

    public func probeTLS(host: String, port: Int, identity: ProbeIdentity, caPEM: String, expectedFingerprint: String?) async -> ProbeOutcome {
        probes.append((host, port, expectedFingerprint))
        return healthy() ? .passed : .failed(reason: "connection refused")
    }

    public func shutdown() async {}
}
