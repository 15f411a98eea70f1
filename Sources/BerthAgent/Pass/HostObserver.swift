import BerthCore
import BerthHost
import Foundation

/// Gathers an ``Observation`` of the host: files, systemd, daemon.json, other drop-ins, the Engine API.
struct HostObserver {
    var settings: AgentSettings
    var environment: AgentEnvironment

    func observe(paths: [String], usesTLS: Bool) async -> Observation {
        var observation = Observation()
        for path in paths {
            observation.files[path] = observeFile(path)
        }
        let systemctl = Systemctl(runner: environment.runner)
        if let unit = try? await systemctl.show() {
            observation.unit = unit
        }
        observation.daemonJSONConflicts = DaemonJSON.conflicts(root: settings.root, usesTLS: usesTLS)
        observation.overridingDropIns = DropInScanner.overriding(root: settings.root, reported: observation.unit.dropInPaths)
        if observation.unit.isActive {
            observation.dockerStartedAt = environment.processStartTime(observation.unit.mainPID)
            observation.engine = try? await environment.engine.info(socket: settings.dockerSocket)
        }
        return observation
    }

    func observeFile(_ path: String) -> ObservedFile {
        let full = settings.hostPath(path)
        let state = FileState.observe(full)
        switch state.kind {
        case .missing: return .missing
        case .symlink(let target): return .symlink(target: target)
        case .other: return .notRegular
        case .regular(let contents, let mode, let uid, let gid):
            let modified = (try? FileManager.default.attributesOfItem(atPath: full)[.modificationDate] as? Date) ?? .distantPast
            return .regular(contents: contents, mode: mode, uid: uid, gid: gid, modified: modified)
        }
    }
}
