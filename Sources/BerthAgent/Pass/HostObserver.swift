import BerthCore
import BerthHost
import Foundation

/// Gathers an ``Observation`` of the host: the managed files, systemd's view of docker.service,
/// settings outside Berth's files that would clash with it, the Engine API, and (from the
/// ``RestartLedger``) whether the running dockerd predates the files on disk.
struct HostObserver: Sendable {
    var settings: AgentSettings
    var environment: AgentEnvironment

    /// systemd's view of docker.service (`systemctl show`), or nil when systemd cannot say. A
    /// pass asks while its source stage runs, so this child process and git's overlap.
    func systemdUnit() async -> UnitState? {
        try? await Systemctl(runner: environment.runner).show()
    }

    /// The observation, with `systemd` from ``systemdUnit()``.
    func observe(paths: [String], unit dockerUnit: DockerUnit, usesTLS: Bool, systemd: UnitState?) async -> Observation {
        var observation = Observation()
        for path in paths {
            observation.files[path] = observeFile(path)
        }
        if let systemd { observation.unit = systemd }
        observation.conflicts = DaemonJSON.conflicts(root: settings.root, usesTLS: usesTLS)
            + EnvironmentFiles.conflicts(unit: observation.unit, arguments: dockerUnit.keptArguments, root: settings.root)
        observation.overridingDropIns = DropInScanner.overriding(root: settings.root, reported: observation.unit.dropInPaths)
        if observation.unit.isActive {
            if let ledger = RestartLedger.store(root: settings.root).read() {
                observation.daemonPredatesFiles = ledger.predates(pid: observation.unit.mainPID, clock: environment.bootClock)
            }
            observation.engine = try? await environment.engine.info(socket: settings.dockerSocket)
        }
        return observation
    }

    func observeFile(_ path: String) -> ObservedFile {
        switch FileState.observe(settings.hostPath(path)).kind {
        case .missing: return .missing
        case .symlink(let target): return .symlink(target: target)
        case .other: return .notRegular
        case .regular(let contents, let mode, let uid, let gid): return .regular(contents: contents, mode: mode, uid: uid, gid: gid)
        }
    }
}
