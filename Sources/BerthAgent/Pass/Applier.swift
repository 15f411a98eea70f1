import BerthCore
import BerthHost
import Foundation

extension Reconciler {
    /// Applies a plan: last-known-good copies, atomic writes, reload, restart under the policy,
    /// verification, and automatic rollback when dockerd does not come back healthy.
    func apply(_ prepared: Prepared) async -> ReconcileReport {
        var report = prepared.report
        let plan = prepared.plan
        report.state = expectedState(prepared)
        if !plan.blockers.isEmpty {
            report.message = "refused to change the host: " + plan.blockers.joined(separator: "; ")
            report.error = plan.blockers.joined(separator: "\n")
            return report
        }
        if plan.actions.isEmpty {
            if case .deferred(let because, let policy) = plan.restart {
                report.message = "restart needed (\(because)) but not now: \(policy)"
            }
            return report
        }

        let systemctl = Systemctl(runner: environment.runner)
        let backup = LastKnownGood(settings: settings)
        let written = plan.actions.compactMap { action -> ManagedFile? in
            if case .write(let file, _) = action { return file }
            return nil
        }
        do {
            try backup.save(paths: written.map(\.path))
        } catch {
            report.state = .failed
            report.message = "could not save last-known-good copies, so nothing was changed: \(error)"
            report.error = "\(error)"
            return report
        }

        var restarted = false
        for action in plan.actions {
            do {
                switch action {
                case .write(let file, let reason):
                    try AtomicFile.write(file.contents, to: settings.hostPath(file.path), mode: file.mode)
                    report.actions.append(ActionRecord(kind: "write", object: file.path, reason: reason))
                case .setMode(let path, let mode, let reason):
                    guard chmod(settings.hostPath(path), mode_t(mode)) == 0 else { throw AtomicFile.posixError("chmod \(path)") }
                    report.actions.append(ActionRecord(kind: "chmod", object: path, reason: reason))
                case .setOwner(let path, let reason):
                    guard let owner = environment.expectedOwner, lchown(settings.hostPath(path), owner.uid, owner.gid) == 0 else {
                        throw AtomicFile.posixError("chown \(path)")
                    }
                    report.actions.append(ActionRecord(kind: "chown", object: path, reason: reason))
                case .daemonReload(let reason):
                    try await systemctl.daemonReload()
                    report.actions.append(ActionRecord(kind: "daemon-reload", object: "systemd", reason: reason))
                case .restartDocker(let reason):
                    await systemctl.resetFailed()
                    do {
                        try await systemctl.restart()
                    } catch {
                        // A failed start is judged by verification below, which then rolls back.
                        environment.logger.warning("systemctl restart docker failed: \(error)")
                    }
                    restarted = true
                    report.actions.append(ActionRecord(kind: "restart", object: "docker.service", reason: reason))
                }
            } catch {
                report.actions.append(ActionRecord(kind: "error", object: "\(action.summary)", reason: "\(error)", ok: false))
                return await rollBack(prepared, report: report, backup: backup, written: written, reason: "applying \(action.summary) failed: \(error)")
            }
        }

        if restarted {
            let verdict = await verify(prepared, timeout: settings.verifyTimeout)
            if case .unhealthy(let reason) = verdict {
                return await rollBack(prepared, report: report, backup: backup, written: written, reason: reason)
            }
            report.daemon = verdict.daemon ?? report.daemon
        }
        if prepared.certificate.promotesStagedKey {
            KeyMaterial(settings: settings, environment: environment).discardStaged()
            report.actions.append(ActionRecord(kind: "promote-key", object: HostLayout.serverKey, reason: "the staged key's certificate arrived; the old key is retired"))
        }
        if case .deferred(let because, let policy) = plan.restart {
            report.message = "files repaired; restart needed (\(because)) but not now: \(policy)"
        }
        return report
    }

    enum Verdict {
        case healthy(DaemonStatus)
        case unhealthy(String)

        var daemon: DaemonStatus? {
            if case .healthy(let status) = self { return status }
            return nil
        }
    }

    /// Waits until the unit is active, the unix socket answers and every TCP listener answers mTLS
    /// with the expected certificate — or the timeout passes.
    func verify(_ prepared: Prepared, timeout: TimeInterval) async -> Verdict {
        let systemctl = Systemctl(runner: environment.runner)
        let deadline = Date().addingTimeInterval(timeout)
        let dropIn = prepared.dropIn
        var lastProblem = "dockerd did not become active"
        repeat {
            if let unit = try? await systemctl.show(), unit.isActive {
                let listeners = await probeListeners(dropIn.effectiveListeners, host: prepared.host, unitActive: true, probe: prepared.probe,
                                                     caPEM: prepared.caPEM, serverCertificatePEM: prepared.certificate.serverCertificatePEM)
                let failed = listeners.filter { $0.probe == "failed" }
                if failed.isEmpty {
                    let engine = try? await environment.engine.info(socket: settings.dockerSocket)
                    return .healthy(DaemonStatus(active: true, pid: unit.mainPID, version: engine?.version, containersRunning: engine?.containersRunning,
                                                 liveRestore: engine?.liveRestore, listeners: listeners))
                }
                lastProblem = failed.map { "\($0.url): \($0.detail ?? "failed")" }.joined(separator: "; ")
            } else if let unit = try? await systemctl.show() {
                lastProblem = "docker.service is \(unit.activeState)"
                if unit.activeState == "failed" && Date().addingTimeInterval(5) < deadline {
                    // systemd gave up (start limit); no point waiting the whole timeout.
                    break
                }
            }
            try? await Task.sleep(nanoseconds: UInt64(environment.pollInterval * 1_000_000_000))
        } while Date() < deadline
        return .unhealthy("dockerd was not healthy within \(Int(timeout)) s after the restart: \(lastProblem)")
    }

    /// Puts the last-known-good files back, reloads, restarts and verifies again.
    func rollBack(_ prepared: Prepared, report: ReconcileReport, backup: LastKnownGood, written: [ManagedFile], reason: String) async -> ReconcileReport {
        var report = report
        let systemctl = Systemctl(runner: environment.runner)
        report.journal = await systemctl.journal()
        report.state = .rolledBack
        report.error = reason
        do {
            try backup.restore(paths: written.map(\.path))
            report.actions.append(ActionRecord(kind: "rollback", object: written.map(\.path).joined(separator: ", "), reason: "restored last-known-good copies"))
            try await systemctl.daemonReload()
            await systemctl.resetFailed()
            try? await systemctl.restart()
            report.actions.append(ActionRecord(kind: "restart", object: "docker.service", reason: "roll back to the last-known-good configuration"))
        } catch {
            report.state = .failed
            report.message = "\(reason); rolling back failed too: \(error)"
            return report
        }
        // The previous configuration is judged on the unix socket: its TLS files are the old ones.
        let deadline = Date().addingTimeInterval(settings.verifyTimeout)
        var healthy = false
        repeat {
            if await systemctl.isActive(), (try? await environment.engine.ping(socket: settings.dockerSocket)) != nil {
                healthy = true
                break
            }
            try? await Task.sleep(nanoseconds: UInt64(environment.pollInterval * 1_000_000_000))
        } while Date() < deadline
        if healthy {
            report.message = "rolled back: \(reason)"
            let unit = try? await systemctl.show()
            report.daemon?.active = true
            report.daemon?.pid = unit?.mainPID ?? 0
        } else {
            report.state = .failed
            report.message = "\(reason); after rolling back dockerd is still not healthy"
        }
        return report
    }
}

/// Copies of managed files taken before a pass changes them, in `/var/lib/berth/last-known-good/`.
struct LastKnownGood {
    var settings: AgentSettings

    var directory: String { settings.hostPath("\(HostLayout.stateDir)/last-known-good") }

    func copyPath(_ hostPath: String) -> String {
        "\(directory)/" + hostPath.split(separator: "/").joined(separator: "__")
    }

    /// Saves the current version of each path; a path that does not exist is recorded as absent.
    func save(paths: [String]) throws {
        for path in paths {
            let state = FileState.observe(settings.hostPath(path))
            let copy = copyPath(path)
            switch state.kind {
            case .regular(let contents, let mode, _, _):
                try AtomicFile.write(contents, to: copy, mode: 0o600, directoryMode: 0o700)
                try AtomicFile.write("\(String(mode, radix: 8))\n", to: copy + ".mode", mode: 0o600, directoryMode: 0o700)
            default:
                try AtomicFile.remove(copy)
                try AtomicFile.write("absent\n", to: copy + ".mode", mode: 0o600, directoryMode: 0o700)
            }
        }
    }

    func restore(paths: [String]) throws {
        for path in paths {
            let copy = copyPath(path)
            let mode = (try? String(contentsOfFile: copy + ".mode", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if mode == "absent" || mode == nil {
                try AtomicFile.remove(settings.hostPath(path))
            } else if let data = FileManager.default.contents(atPath: copy) {
                try AtomicFile.write(Array(data), to: settings.hostPath(path), mode: UInt16(mode!, radix: 8) ?? 0o644)
            }
        }
    }
}
