import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Logging

/// One pass of the agent (SPEC §4): lock, sync, validate, observe, plan, apply, verify, report.
///
/// `plan()` and `reconcile()` share everything up to the plan, so what `plan` shows is what
/// `reconcile` would do. Every outcome, including failure, ends in a written report.
public struct Reconciler: Sendable {
    public var settings: AgentSettings
    public var environment: AgentEnvironment

    public init(settings: AgentSettings, environment: AgentEnvironment) {
        self.settings = settings
        self.environment = environment
    }

    /// Everything decided before anything changes.
    struct Prepared {
        var host: ResolvedHost
        var revision: String
        var desired: [ManagedFile]
        var dropIn: DropIn
        var plan: HostPlan
        var observation: Observation
        var certificate: CertificateOutcome
        var caPEM: String
        var probe: ProbeIdentity?
        var listeners: [ListenerStatus]
        var report: ReconcileReport
    }

    enum Preparation {
        case ready(Prepared)
        case finished(ReconcileReport)
    }

    // MARK: Entry points

    /// What a pass would do; changes nothing on the host (no keys made, nothing written).
    public func plan() async -> (report: ReconcileReport, plan: HostPlan?) {
        switch await prepare(apply: false) {
        case .finished(let report): return (report, nil)
        case .ready(let prepared):
            var report = prepared.report
            report.state = expectedState(prepared)
            return (report, prepared.plan)
        }
    }

    /// One full pass. Always returns (and writes) a report.
    public func reconcile() async -> ReconcileReport {
        let lock = AgentLock(path: settings.hostPath(HostLayout.lock))
        do {
            try lock.acquire(timeout: settings.lockTimeout)
        } catch {
            var report = baseReport(state: .failed, message: "\(error)", source: SourceStatus(kind: "none", location: ""))
            report.error = "\(error)"
            return report  // Another pass is writing the report; do not race it.
        }
        defer { lock.release() }
        var report: ReconcileReport
        switch await prepare(apply: true) {
        case .finished(let finished): report = finished
        case .ready(let prepared): report = await apply(prepared)
        }
        finish(&report)
        return report
    }

    // MARK: Preparation

    func baseReport(state: HostState, message: String, source: SourceStatus) -> ReconcileReport {
        var report = ReconcileReport(host: settings.host, agentVersion: environment.agentVersion, time: environment.now(),
                                     state: state, message: message, source: source, intervalSeconds: Int(settings.interval))
        report.appliedRevision = ReportStore(settings: settings).last()?.appliedRevision
        return report
    }

    func prepare(apply: Bool) async -> Preparation {
        let source = await FleetSource(settings: settings, git: settings.git(runner: environment.runner)).sync(fetch: apply || settings.statePath != nil)
        guard let repoRoot = source.root else {
            var report = baseReport(state: .failed, message: "no desired state yet: \(source.status.error ?? "the source is empty")", source: source.status)
            report.error = source.status.error
            return .finished(report)
        }
        var report = baseReport(state: .inSync, message: "", source: source.status)
        report.desiredRevision = source.revision

        // Load and validate. Invalid state changes nothing.
        let repository = FleetRepository(root: repoRoot)
        let loaded: LoadedFleet
        let host: ResolvedHost
        do {
            loaded = try repository.loadValid(for: settings.host)
            report.fleet = loaded.spec.fleet
            if !loaded.warnings.isEmpty {
                report.warnings = loaded.warnings.map(\.description)
                for warning in loaded.warnings { environment.logger.warning("\(warning)") }
            }
            host = try loaded.resolve(host: settings.host)
        } catch {
            report.state = .invalidState
            report.message = "desired state at \(source.revision.prefix(12)) is invalid; nothing was changed"
            report.error = "\(error)"
            return .finished(report)
        }

        do {
            let caPEM = try repository.read(loaded.spec.ca)
            let keys = KeyMaterial(settings: settings, environment: environment)
            let probe = try keys.probeIdentity(create: apply)
            let certificate = try await keys.assess(host: host, repository: repository, caPEM: caPEM, create: apply)
            report.actions += certificate.actions
            report.pendingCSR = certificate.pendingCSR
            report.serverCertificate = certificate.installedSummary

            let unit = try DesiredFiles.findUnit(root: settings.root)
            var desired = try DesiredFiles.render(fleet: loaded, host: host, revision: source.revision, root: settings.root, unit: unit,
                                                  serverCertificateFilter: { $0 == certificate.serverCertificatePEM })
            if let key = certificate.serverKeyPEM, host.needsServerCertificate {
                desired.append(ManagedFile(path: HostLayout.serverKey, text: key, mode: 0o600, role: .serverKey))
            }
            let dropIn = DropIn(host: host, revision: source.revision, unit: unit, hasServerCertificate: desired.contains { $0.role == .serverCertificate })

            let observer = HostObserver(settings: settings, environment: environment)
            let paths = Set(desired.map(\.path) + [HostLayout.serverKey]).sorted()
            let observation = await observer.observe(paths: paths, usesTLS: host.needsServerCertificate)
            let listeners = await probeListeners(dropIn.effectiveListeners, host: host, unitActive: observation.unit.isActive,
                                                 probe: probe, caPEM: caPEM, serverCertificatePEM: certificate.serverCertificatePEM)
            let protected: [String: UInt16] = certificate.serverKeyPEM == nil ? [HostLayout.serverKey: 0o600] : [:]
            let plan = Planner.plan(PlanInput(host: host, desired: desired, desiredArguments: dropIn.arguments, protectedFiles: protected,
                                              observation: observation, now: environment.now(), expectedOwner: environment.expectedOwner))
            report.drift = plan.drift
            report.daemon = daemonStatus(observation, listeners: listeners)
            for listener in listeners where listener.probe == "failed" && plan.actions.isEmpty {
                report.drift.append(DriftItem(.listenerProbe, listener.url, listener.detail ?? "probe failed"))
            }
            return .ready(Prepared(host: host, revision: source.revision, desired: desired, dropIn: dropIn, plan: plan, observation: observation,
                                   certificate: certificate, caPEM: caPEM, probe: probe, listeners: listeners, report: report))
        } catch {
            report.state = .failed
            report.message = "could not prepare the pass: \(error)"
            report.error = "\(error)"
            return .finished(report)
        }
    }

    /// The state a plan leads to when applied without trouble; `plan` reports it, `apply` starts from it.
    func expectedState(_ prepared: Prepared) -> HostState {
        if !prepared.plan.blockers.isEmpty { return .failed }
        if case .deferred = prepared.plan.restart { return .pendingRestart }
        if prepared.host.needsServerCertificate && prepared.certificate.serverCertificatePEM == nil { return .awaitingCertificate }
        if prepared.report.drift.contains(where: { $0.kind == .listenerProbe }) { return .failed }
        return prepared.plan.actions.isEmpty ? .inSync : .repaired
    }

    // MARK: Probes

    func probeListeners(_ listeners: [Listener], host: ResolvedHost, unitActive: Bool, probe: ProbeIdentity?, caPEM: String, serverCertificatePEM: String?) async -> [ListenerStatus] {
        var out: [ListenerStatus] = []
        let expected = serverCertificatePEM.flatMap { try? Fingerprint.sha256(ofCertificatePEM: $0) }
        for listener in host.listeners {
            let url = listener.description
            guard listeners.contains(listener) else {
                out.append(ListenerStatus(url: url, probe: "skipped", detail: "awaiting a server certificate"))
                continue
            }
            guard unitActive else {
                out.append(ListenerStatus(url: url, probe: "failed", detail: "dockerd is not running"))
                continue
            }
            switch listener {
            case .fd:
                out.append(await unixProbe(url: url, socket: settings.dockerSocket))
            case .unix(let path):
                out.append(await unixProbe(url: url, socket: path))
            case .tcp(let address, let port):
                if host.insecure {
                    out.append(ListenerStatus(url: url, probe: "skipped", detail: "insecure: plain TCP is not probed"))
                } else if let probe {
                    let outcome = await environment.engine.probeTLS(host: address, port: port, identity: probe, caPEM: caPEM, expectedFingerprint: expected)
                    out.append(ListenerStatus(url: url, probe: outcome.passed ? "passed" : "failed", detail: outcome.reason))
                } else {
                    out.append(ListenerStatus(url: url, probe: "skipped", detail: "the probe identity is made on the first reconcile"))
                }
            }
        }
        return out
    }

    func unixProbe(url: String, socket: String) async -> ListenerStatus {
        do {
            try await environment.engine.ping(socket: socket)
            return ListenerStatus(url: url, probe: "passed")
        } catch {
            return ListenerStatus(url: url, probe: "failed", detail: "\(error)")
        }
    }

    func daemonStatus(_ observation: Observation, listeners: [ListenerStatus]) -> DaemonStatus {
        DaemonStatus(active: observation.unit.isActive, pid: observation.unit.mainPID, version: observation.engine?.version,
                     containersRunning: observation.engine?.containersRunning, liveRestore: observation.engine?.liveRestore, listeners: listeners)
    }

    // MARK: Finishing

    /// Sets the applied revision and next pass, writes the report.
    func finish(_ report: inout ReconcileReport) {
        switch report.state {
        case .inSync, .repaired, .awaitingCertificate:
            report.appliedRevision = report.desiredRevision
        default:
            break
        }
        if report.message.isEmpty { report.message = defaultMessage(report) }
        report.nextPassAt = report.time.addingTimeInterval(settings.interval)
        do {
            try ReportStore(settings: settings).write(report)
        } catch {
            environment.logger.error("could not write the report: \(error)")
        }
    }

    func defaultMessage(_ report: ReconcileReport) -> String {
        switch report.state {
        case .inSync: return "host matches the fleet at \(report.desiredRevision?.prefix(12) ?? "?")"
        case .repaired: return "repaired \(report.drift.count) drift item(s)"
        case .awaitingCertificate: return "waiting for `berthctl sign \(report.host)` (CSR \(report.pendingCSR?.sha256.prefix(23) ?? "?")…)"
        default: return report.state.rawValue
        }
    }
}
