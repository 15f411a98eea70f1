import BerthCore
import BerthHost
import Foundation

/// The stage that changes the host: writes, reload, restart, verification, and the way back.
///
/// - Crash consistency: the files are written in the renderer's order, content-addressed TLS
///   files first and the drop-in that names them last, each atomically. dockerd reads the drop-in
///   and the files it names, so at every instant it would start on the complete old set or the
///   complete new one (`docs/design.md`).
/// - Any restart the agent makes is verified; when verification fails, the whole last-known-good
///   set is put back, dockerd restarted and verified on it, and the failed content quarantined.
struct ApplyStage: Sendable {
    var settings: AgentSettings
    var environment: AgentEnvironment

    var systemctl: Systemctl { Systemctl(runner: environment.runner) }

    func apply(_ plan: HostPlan, desired: DesiredStage.Desired, into report: inout ReconcileReport) async {
        await apply(plan, target: ApplyTarget(desired), into: &report)
    }

    func apply(_ plan: HostPlan, target: ApplyTarget, into report: inout ReconcileReport) async {
        let desiredHash = target.contentHash
        let writes = plan.actions.compactMap { action -> ManagedFile? in
            if case .write(let file, _) = action { return file }
            return nil
        }
        let removes = plan.actions.contains { if case .remove = $0 { return true } else { return false } }
        if writes.contains(where: \.restartsDocker) || removes {
            // Recorded before the writes: a pass killed halfway still leaves a restart pending.
            try? RestartLedger.store(root: settings.root).write(RestartLedger(contentHash: desiredHash, written: environment.bootClock.now()))
        }

        var restartReason: String?
        do {
            // Drop-in last: its rename is the switch.
            for action in plan.actions {
                switch action {
                case .write(let file, let reason) where !file.isUnitFile:
                    try write(file, reason: reason, into: &report)
                default: continue
                }
            }
            for action in plan.actions {
                switch action {
                case .write(let file, let reason) where file.isUnitFile:
                    try write(file, reason: reason, into: &report)
                case .write:
                    continue
                case .remove(let path, let reason):
                    // In plan order: a retired host's drop-in goes first, so it never names a missing file.
                    try AtomicFile.remove(settings.hostPath(path))
                    report.actions.append(ActionRecord(.remove, path, reason: reason))
                case .setMode(let path, let mode, let reason):
                    guard chmod(settings.hostPath(path), mode_t(mode)) == 0 else { throw AtomicFile.posixError("chmod \(path)") }
                    report.actions.append(ActionRecord(.chmod, path, reason: reason))
                case .setOwner(let path, let reason):
                    guard let owner = environment.expectedOwner, lchown(settings.hostPath(path), owner.uid, owner.gid) == 0 else {
                        throw AtomicFile.posixError("chown \(path)")
                    }
                    report.actions.append(ActionRecord(.chown, path, reason: reason))
                case .daemonReload(let reason):
                    try await systemctl.daemonReload()
                    report.actions.append(ActionRecord(.daemonReload, "systemd", reason: reason))
                case .restartDocker(let reason):
                    restartReason = reason
                }
            }
        } catch {
            report.actions.append(ActionRecord(.error, "apply", reason: "\(error)", ok: false))
            report.state = .failed
            report.error = "\(error)"
            report.message = "applying the plan failed (\(error)); dockerd was not restarted"
            return
        }

        guard let restartReason else { return }
        report.actions.append(ActionRecord(.restart, "docker.service", reason: restartReason))
        let verifier = Verifier(settings: settings, environment: environment)
        switch await verifier.restartAndVerify(target.expectation) {
        case .healthy(let daemon):
            report.daemon = daemon
            recordVerified(pid: daemon.pid)
        case .unhealthy(let reason):
            await rollBack(reason: reason, target: target, into: &report)
        }
    }

    func write(_ file: ManagedFile, reason: String, into report: inout ReconcileReport) throws {
        try AtomicFile.write(file.contents, to: settings.hostPath(file.path), mode: file.mode, directoryMode: 0o755)
        report.actions.append(ActionRecord(.write, file.path, reason: reason))
    }

    /// The ledger notes that the running dockerd (pid and start) runs the files on disk.
    func recordVerified(pid: Int) {
        let store = RestartLedger.store(root: settings.root)
        guard var ledger = store.read() else { return }
        ledger.verifiedPID = pid
        ledger.verifiedStart = environment.bootClock.processStart(pid: pid)
        try? store.write(ledger)
    }

    // MARK: Rollback

    /// Puts the whole last-known-good set back (or, with none, removes Berth's drop-in so dockerd
    /// runs its packaged configuration), reloads, restarts, verifies against that set's own
    /// certificate, and quarantines the content that failed.
    func rollBack(reason: String, target: ApplyTarget, into report: inout ReconcileReport) async {
        report.journal = await systemctl.journal()
        report.state = .rolledBack
        report.error = reason
        let quarantine = QuarantineInfo(revision: target.revision, contentHash: target.contentHash, reason: reason, since: environment.now())
        do {
            try Quarantine.store(root: settings.root).write(quarantine)
            report.quarantine = quarantine
            report.actions.append(ActionRecord(.quarantine, String(target.revision.prefix(12)), reason: "its content failed verification; it is not applied again until it changes or `reconcile --retry`"))
        } catch {
            environment.logger.error("could not record the quarantine: \(error)")
        }

        let lastKnownGood = LastKnownGood.store(root: settings.root).read()
        let expectation: HealthExpectation
        do {
            if let lastKnownGood {
                let files = lastKnownGood.managedFiles
                try AtomicFile.makeDirectories(settings.hostPath(HostLayout.tlsDir), mode: 0o755)
                try RestartLedger.store(root: settings.root).write(RestartLedger(contentHash: lastKnownGood.contentHash, written: environment.bootClock.now()))
                for file in files.filter({ !$0.isUnitFile }) + files.filter(\.isUnitFile) {
                    try AtomicFile.write(file.contents, to: settings.hostPath(file.path), mode: file.mode)
                }
                report.actions.append(ActionRecord(.rollback, "last-known-good \(lastKnownGood.revision.prefix(12))", reason: "restored the whole set that last passed verification (\(files.count) files)"))
                report.lastKnownGoodRevision = lastKnownGood.revision
                expectation = HealthExpectation(declared: lastKnownGood.listeners, effective: lastKnownGood.listeners, insecure: lastKnownGood.insecure,
                                                caPEM: lastKnownGood.caPEM, serverCertificatePEM: lastKnownGood.serverCertificatePEM, probe: target.probe)
            } else {
                try AtomicFile.remove(settings.hostPath(HostLayout.dropIn))
                report.actions.append(ActionRecord(.rollback, HostLayout.dropIn, reason: "no set has passed verification on this host yet: removed Berth's drop-in, so dockerd runs its packaged configuration"))
                expectation = HealthExpectation(declared: [], effective: [], insecure: false, caPEM: nil, serverCertificatePEM: nil, probe: nil)
            }
            try await systemctl.daemonReload()
        } catch {
            report.state = .failed
            report.message = "\(reason); putting the last-known-good set back failed too: \(error). dockerd may be down: see the journal lines"
            return
        }
        report.actions.append(ActionRecord(.restart, "docker.service", reason: "roll back to the last-known-good configuration"))
        switch await Verifier(settings: settings, environment: environment).restartAndVerify(expectation) {
        case .healthy(let daemon):
            report.daemon = daemon
            recordVerified(pid: daemon.pid)
            report.message = "rolled back to \(lastKnownGood.map { String($0.revision.prefix(12)) } ?? "dockerd's packaged configuration"): \(reason)"
        case .unhealthy(let again):
            report.state = .failed
            report.journal = await systemctl.journal()
            report.message = "\(reason); after rolling back dockerd is still not healthy (\(again)). The agent will not restart it again until the desired state changes or `reconcile --retry`: see the journal lines"
        }
    }

    // MARK: After a healthy pass

    /// Saves the set dockerd was verified on as the new last-known-good (when it differs), lifts a
    /// quarantine whose content is no longer desired, and removes content-addressed TLS files that
    /// neither the set in force nor the last-known-good one names.
    func settle(desired: DesiredStage.Desired, into report: inout ReconcileReport) {
        let hash = ManagedFile.contentHash(of: desired.files)
        let store = LastKnownGood.store(root: settings.root)
        var lastKnownGood = store.read()
        if lastKnownGood?.contentHash != hash {
            let set = LastKnownGood(revision: desired.revision, savedAt: environment.now(), files: desired.files,
                                    listeners: desired.rendered.dropIn.effectiveListeners, insecure: desired.host.insecure)
            do {
                try store.write(set)
                lastKnownGood = set
                report.actions.append(ActionRecord(.saveLastKnownGood, HostLayout.lastKnownGood, reason: "dockerd was verified on this set (\(desired.files.count) files)"))
            } catch {
                environment.logger.error("could not save the last-known-good set: \(error)")
            }
        }
        report.lastKnownGoodRevision = lastKnownGood?.revision
        let quarantine = Quarantine.store(root: settings.root)
        if let held = quarantine.read(), held.contentHash != hash { try? quarantine.remove() }

        let keep = Set(desired.files.map(\.path) + (lastKnownGood?.files.map(\.path) ?? []))
        let dir = settings.hostPath(HostLayout.tlsDir)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where HostLayout.isContentAddressed(name) {
            let path = "\(HostLayout.tlsDir)/\(name)"
            guard !keep.contains(path) else { continue }
            if (try? AtomicFile.remove(settings.hostPath(path))) != nil {
                report.actions.append(ActionRecord(.remove, path, reason: "no longer named by the drop-in or the last-known-good set"))
            }
        }
    }
}

extension ReconcileReport {
    /// Says in the report why `plan` will not be applied, when it will not: a blocker (the
    /// message and the error name each) or content held back after a rollback.
    /// - Returns: true when the plan must not be applied.
    mutating func refuses(_ plan: HostPlan, to what: String) -> Bool {
        if !plan.blockers.isEmpty {
            message = "refused to \(what): " + plan.blockers.joined(separator: "; ")
            error = plan.blockers.joined(separator: "\n")
            return true
        }
        if let held = plan.held {
            message = held
            return true
        }
        return false
    }
}
