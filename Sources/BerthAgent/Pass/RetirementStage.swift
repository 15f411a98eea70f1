import BerthCore
import BerthHost
import Foundation

/// The pass of a host that fleet.yaml marks `retired: true`, in the same stages as any pass:
/// observe, plan (``RetirementPlanner``: `plan` shows it), apply through ``ApplyStage`` (the
/// restart policy, verification, rollback and quarantine apply as to any change), report.
///
/// The retirement is done once dockerd was verified serving its packaged configuration (the unix
/// socket answers `/_ping`); then the state Berth kept for rollbacks goes, ``RetiredMarker`` is
/// written and every later pass only reports `retired`. The host key stays in
/// `/var/lib/berth/keys`: it signs those reports, which `berthctl host rm` checks before it takes
/// the host out of fleet.yaml (docs/operations.md#retiring-a-host).
struct RetirementStage: Sendable {
    var settings: AgentSettings
    var environment: AgentEnvironment

    /// What the desired state says about a retired host.
    struct Input: Sendable {
        var host: ResolvedHost
        var fleet: String
        var revision: String
        var warnings: [Diagnostic]
    }

    /// Everything decided before anything changes.
    struct Prepared: Sendable {
        var input: Input
        var plan: HostPlan
        /// The report so far, its state the one the plan leads to.
        var report: ReconcileReport
    }

    /// dockerd's packaged configuration: Debian's and Docker's units both serve `-H fd://`, the
    /// socket unit's `/var/run/docker.sock`.
    var expectation: HealthExpectation {
        let socket = Listener.unix(path: settings.dockerSocket)
        return HealthExpectation(declared: [socket], effective: [socket], insecure: false, caPEM: nil, serverCertificatePEM: nil, probe: nil)
    }

    // MARK: A host fleet.yaml does not name

    /// A host missing from fleet.yaml is never torn down: it says so, and how to retire it. Once a
    /// host is retired, being taken out of fleet.yaml afterwards (`berthctl host rm`) is expected.
    func notDeclared(known: [String], report: ReconcileReport) -> ReconcileReport {
        var report = report
        let host = settings.host
        let revision = ReportFormatter.short(report.desiredRevision)
        if let marker = RetiredMarker.store(root: settings.root).read() {
            report.state = .retired
            report.message = "retired since \(UTCTime.format(marker.since)) (at \(ReportFormatter.short(marker.revision))) and no longer in fleet.yaml at \(revision): nothing is left to do here; uninstall berth-agent"
            return report
        }
        report.state = .invalidState
        report.message = "\(host) is not in fleet.yaml at \(revision); nothing was changed: a host missing from fleet.yaml is never torn down. "
            + "To take it out of service, declare it with retired: true (`berthctl host retire \(host)`), wait for it to report retired, then `berthctl host rm \(host)`"
        report.error = "host \"\(host)\" is not in \(FleetRepository.specFile)" + (known.isEmpty ? " (it declares no hosts)" : "; known hosts: \(known.joined(separator: ", "))")
        return report
    }

    // MARK: Preparation

    func prepare(_ input: Input, report: ReconcileReport) async -> Pass.Preparation {
        var report = report
        report.fleet = input.fleet
        if !input.warnings.isEmpty { report.warnings = input.warnings.map(\.description) }

        if let marker = RetiredMarker.store(root: settings.root).read() {
            report.state = .retired
            report.daemon = await observeDaemon()
            report.message = "retired since \(UTCTime.format(marker.since)) (at \(ReportFormatter.short(marker.revision))): Berth's files are gone and the agent only reports; "
                + "remove the host with `berthctl host rm \(input.host.name)`"
            return .finished(report)
        }

        let unit: DockerUnit
        do {
            unit = try DesiredFiles.findUnit(root: settings.root)
        } catch {
            report.state = .failed
            report.message = "cannot retire the host: \(error)"
            report.error = "\(error)"
            return .finished(report)
        }
        let tlsFiles = berthTLSFiles()
        let observer = HostObserver(settings: settings, environment: environment)
        let observation = await observer.observe(paths: [HostLayout.dropIn] + tlsFiles, unit: unit, usesTLS: false, systemd: await observer.systemdUnit())
        let ledger = RestartLedger.store(root: settings.root).read()
        let mayRunBerthSet = (ledger.map { $0.contentHash != RetirementInput.contentHash } ?? false) || observation.daemonPredatesFiles
        let quarantine = Quarantine.store(root: settings.root).read()
        let plan = RetirementPlanner.plan(RetirementInput(host: input.host, tlsFiles: tlsFiles, observation: observation,
                                                          daemonMayRunBerthSet: mayRunBerthSet, now: environment.now(), quarantine: quarantine))
        let listeners = await ListenerProber(settings: settings, environment: environment).probe(expectation, unitActive: observation.unit.isActive)
        report.drift = plan.drift
        report.daemon = DaemonStatus(active: observation.unit.isActive, pid: observation.unit.mainPID, version: observation.engine?.version,
                                     containersRunning: observation.engine?.containersRunning, liveRestore: observation.engine?.liveRestore,
                                     listeners: listeners)
        if plan.held != nil { report.quarantine = quarantine }
        report.state = expectedState(plan, listeners: listeners)
        if report.state == .retired {
            report.message = plan.actions.isEmpty
                ? "retired: nothing of Berth's is left and dockerd serves its packaged configuration"
                : "retiring: would remove Berth's files and hand dockerd back its packaged configuration"
        }
        return .retiring(Prepared(input: input, plan: plan, report: report))
    }

    /// The state the plan leads to when applied without trouble.
    func expectedState(_ plan: HostPlan, listeners: [ListenerStatus]) -> HostState {
        if !plan.blockers.isEmpty { return .failed }
        if plan.held != nil { return .rolledBack }
        if case .deferred = plan.restart { return .pendingRestart }
        if plan.actions.isEmpty && listeners.contains(where: \.result.isFailure) { return .failed }
        return .retired
    }

    /// Berth's files in `/etc/docker/berth`, as host paths, in name order.
    func berthTLSFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: settings.hostPath(HostLayout.tlsDir))) ?? []
        return names.filter(HostLayout.isBerthTLSFile).sorted().map { "\(HostLayout.tlsDir)/\($0)" }
    }

    // MARK: Apply

    func apply(_ prepared: Prepared) async -> ReconcileReport {
        var report = prepared.report
        let plan = prepared.plan
        let host = prepared.input.host.name
        if report.refuses(plan, to: "retire the host") { return report }
        if !plan.actions.isEmpty {
            let target = ApplyTarget(revision: prepared.input.revision, contentHash: RetirementInput.contentHash, expectation: expectation, probe: nil)
            await ApplyStage(settings: settings, environment: environment).apply(plan, target: target, into: &report)
            guard report.state != .failed && report.state != .rolledBack else { return report }
        }
        if case .deferred(let because, let policy) = plan.restart {
            report.state = .pendingRestart
            report.message = (plan.actions.isEmpty ? "retiring: " : "retiring: Berth's files are removed; ") + "restart needed (\(because)) but not now: \(policy)"
            return report
        }
        // dockerd was verified after the restart, or (nothing to restart) answered this pass's probe.
        guard let daemon = report.daemon, daemon.active, !daemon.listeners.isEmpty, daemon.listeners.allSatisfy({ !$0.result.isFailure }) else {
            report.state = .failed
            report.message = "retiring: dockerd does not serve its packaged configuration (the unix socket \(settings.dockerSocket) does not answer /_ping); the host is not retired yet"
            return report
        }
        settle(revision: prepared.input.revision, into: &report)
        report.state = .retired
        report.message = "retired: Berth's drop-in and TLS files are removed and dockerd serves its packaged configuration (pid \(daemon.pid)); "
            + "from now on the agent only reports. Next: `berthctl host rm \(host)`"
        return report
    }

    /// Forgets what only a managed host needs (the last-known-good set with its key copy, the
    /// ledger, a quarantine, a staged key and CSR, the probe identity, a join token), then writes
    /// the marker: a pass killed in between finds nothing left to remove and settles again.
    func settle(revision: String, into report: inout ReconcileReport) {
        for path in HostLayout.retiredStateFiles where FileManager.default.fileExists(atPath: settings.hostPath(path)) {
            do {
                try AtomicFile.remove(settings.hostPath(path))
                report.actions.append(ActionRecord(.remove, path, reason: "the host is retired: no rollback, renewal or probe needs it any more"))
            } catch {
                environment.logger.error("could not remove \(path): \(error)")
            }
        }
        // Empty now unless someone else keeps files there; then it stays.
        _ = rmdir(settings.hostPath(HostLayout.tlsDir))
        report.lastKnownGoodRevision = nil
        report.quarantine = nil
        report.serverCertificate = nil
        report.pendingCSR = nil
        do {
            try RetiredMarker.store(root: settings.root).write(RetiredMarker(revision: revision, since: environment.now()))
        } catch {
            environment.logger.error("could not record the retirement: \(error)")
        }
    }

    /// A host taken back into service (fleet.yaml no longer says `retired: true`): forget the
    /// retirement, so the pass converges it like a new host.
    func returnToService(into report: inout ReconcileReport) {
        let store = RetiredMarker.store(root: settings.root)
        guard store.read() != nil else { return }
        do {
            try store.remove()
            report.actions.append(ActionRecord(.remove, HostLayout.retiredMarker, reason: "fleet.yaml no longer says retired: true; the host is managed again"))
        } catch {
            environment.logger.error("could not remove \(HostLayout.retiredMarker): \(error)")
        }
    }

    /// dockerd as a retired host's report shows it: read-only, the unix socket probed.
    func observeDaemon() async -> DaemonStatus? {
        guard let unit = try? await Systemctl(runner: environment.runner).show() else { return nil }
        let listeners = await ListenerProber(settings: settings, environment: environment).probe(expectation, unitActive: unit.isActive)
        let engine = unit.isActive ? try? await environment.engine.info(socket: settings.dockerSocket) : nil
        return DaemonStatus(active: unit.isActive, pid: unit.mainPID, version: engine?.version, containersRunning: engine?.containersRunning,
                            liveRestore: engine?.liveRestore, listeners: listeners)
    }
}

/// The record that this host's retirement passed verification (`/var/lib/berth/retired.json`):
/// from then on its passes only report.
struct RetiredMarker: Sendable, Codable, Equatable {
    /// The revision that retired it.
    var revision: String
    var since: Date

    static func store(root: String) -> StateFile<RetiredMarker> {
        StateFile(path: HostLayout.path(HostLayout.retiredMarker, under: root))
    }
}
