import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Logging

/// One pass of the agent, in named stages (`docs/design.md`):
///
///  1. lock: one pass at a time;
///  2. ``SourceStage``: the desired tree, exactly at a commit the host trusts;
///  3. ``DesiredStage``: validated desired state, this host resolved, key and certificate settled,
///     the managed set rendered;
///  4. ``HostObserver`` and ``ListenerProber``: what the host has and serves;
///  5. ``Planner``: what must change (pure; `plan` stops here);
///  6. ``ApplyStage``: writes, reload, restart, verification, rollback, last-known-good;
///  7. the report, signed and written.
///
/// `plan()` and `reconcile()` share stages 2 to 5, so what `plan` shows is what `reconcile` would do.
public struct Pass: Sendable {
    public var settings: AgentSettings
    public var environment: AgentEnvironment

    public init(settings: AgentSettings, environment: AgentEnvironment) {
        self.settings = settings
        self.environment = environment
    }

    /// Everything decided before anything changes.
    struct Prepared: Sendable {
        var desired: DesiredStage.Desired
        var observation: Observation
        var listeners: [ListenerStatus]
        var plan: HostPlan
        var report: ReconcileReport
    }

    enum Preparation: Sendable {
        case ready(Prepared)
        /// The host is `retired: true` and its retirement is not done yet (``RetirementStage``).
        case retiring(RetirementStage.Prepared)
        case finished(ReconcileReport)
    }

    // MARK: Entry points

    /// What a pass would do; changes nothing on the host (no key made, no fetch, nothing written).
    public func plan() async -> (report: ReconcileReport, plan: HostPlan?) {
        switch await prepare(create: false) {
        case .finished(let report): return (report, nil)
        case .retiring(let prepared): return (prepared.report, prepared.plan)
        case .ready(let prepared):
            var report = prepared.report
            report.state = expectedState(prepared)
            return (report, prepared.plan)
        }
    }

    /// What a pass left: its report, and the report as written (bytes and signature) for publishing;
    /// nil when another pass held the lock and nothing was written.
    public struct Outcome: Sendable {
        public var report: ReconcileReport
        public var published: PublishedReport?
    }

    /// One full pass. Always returns a report; writes it (signed) unless another pass held the lock.
    /// `retry` lifts a quarantine first, so the held content is tried once more.
    public func reconcile(retry: Bool = false) async -> Outcome {
        let lock: AgentLock
        do {
            lock = try await AgentLock.acquire(settings.hostPath(HostLayout.lock), timeout: settings.lockTimeout, clock: environment.clock)
        } catch {
            var report = baseReport(state: .failed, message: "\(error)", source: SourceStatus(kind: .none, location: ""))
            report.error = "\(error)"
            return Outcome(report: report, published: nil)  // Another pass is writing the report; do not race it.
        }
        defer { withExtendedLifetime(lock) {} }
        let started = ContinuousClock.now
        if retry { try? Quarantine.store(root: settings.root).remove() }
        var report: ReconcileReport
        switch await prepare(create: true) {
        case .finished(let finished): report = finished
        case .retiring(let prepared): report = await RetirementStage(settings: settings, environment: environment).apply(prepared)
        case .ready(let prepared): report = await apply(prepared)
        }
        let published = finish(&report)
        // Under the lock, so two passes never count into the metrics' ledger at once.
        PassLog.details(report, logger: environment.logger)
        MetricsWriter(settings: settings, logger: environment.logger).record(report, duration: ContinuousClock.now - started)
        return Outcome(report: report, published: published)
    }

    // MARK: Preparation (stages 2 to 5)

    func baseReport(state: HostState, message: String, source: SourceStatus) -> ReconcileReport {
        var report = ReconcileReport(host: settings.host, agentVersion: environment.agentVersion, time: environment.now(),
                                     state: state, message: message, source: source, intervalSeconds: Int(settings.interval.seconds))
        let last = ReportStore(settings: settings).last()
        report.appliedRevision = last?.appliedRevision
        report.lastKnownGoodRevision = LastKnownGood.store(root: settings.root).read()?.revision
        return report
    }

    func prepare(create: Bool) async -> Preparation {
        let applied = ReportStore(settings: settings).last()?.appliedRevision
        let observer = HostObserver(settings: settings, environment: environment)
        async let systemd = observer.systemdUnit() // overlaps git's processes; unused when the pass stops early
        let source = await SourceStage(settings: settings, environment: environment).sync(fetch: create, applied: applied)
        var report = baseReport(state: .inSync, message: "", source: source.status)
        report.desiredRevision = source.revision
        report.actions += source.actions
        if let refusal = source.refusal {
            report.state = .untrusted
            report.message = "refused \(source.revision.prefix(12)): \(refusal)"
            report.error = refusal
            return .finished(report)
        }
        guard let root = source.root else {
            report.state = .failed
            report.message = "no desired state yet: \(source.status.error ?? "the source is empty")"
            report.error = source.status.error
            return .finished(report)
        }

        let desired: DesiredStage.Desired
        switch await DesiredStage(settings: settings, environment: environment).load(root: root, revision: source.revision, create: create) {
        case .failure(.invalid(let error)):
            report.state = .invalidState
            report.message = "desired state at \(source.revision.prefix(12)) is invalid; nothing was changed"
            report.error = error
            return .finished(report)
        case .failure(.failed(let error)):
            report.state = .failed
            report.message = "could not prepare the pass: \(error)"
            report.error = error
            return .finished(report)
        case .failure(.notDeclared(let known)):
            return .finished(RetirementStage(settings: settings, environment: environment).notDeclared(known: known, report: report))
        case .failure(.retired(let input)):
            return await RetirementStage(settings: settings, environment: environment).prepare(input, report: report)
        case .success(let value):
            desired = value
            if create { RetirementStage(settings: settings, environment: environment).returnToService(into: &report) }
        }
        report.fleet = desired.fleet
        if !desired.warnings.isEmpty {
            report.warnings = desired.warnings.map(\.description)
            for warning in desired.warnings { environment.logger.warning("\(warning)") }
        }
        report.actions += desired.certificate.actions
        report.pendingCSR = desired.certificate.pendingCSR
        report.serverCertificate = desired.certificate.installedSummary

        let observation = await observer.observe(paths: desired.files.map(\.path), unit: desired.unit,
                                                 usesTLS: desired.host.needsServerCertificate, systemd: await systemd)
        let listeners = await ListenerProber(settings: settings, environment: environment).probe(desired.expectation, unitActive: observation.unit.isActive)
        let quarantine = Quarantine.store(root: settings.root).read()
        let plan = Planner.plan(PlanInput(host: desired.host, desired: desired.files, desiredArguments: desired.rendered.dropIn.arguments,
                                          observation: observation, now: environment.now(), expectedOwner: environment.expectedOwner,
                                          quarantine: quarantine))
        report.drift = plan.drift
        report.daemon = DaemonStatus(active: observation.unit.isActive, pid: observation.unit.mainPID, version: observation.engine?.version,
                                     containersRunning: observation.engine?.containersRunning, liveRestore: observation.engine?.liveRestore,
                                     listeners: listeners)
        if plan.held != nil { report.quarantine = quarantine }
        for listener in listeners where listener.result.isFailure && plan.actions.isEmpty && plan.held == nil {
            report.drift.append(DriftItem(.listenerProbe, listener.url, listener.result.reason ?? "probe failed"))
        }
        return .ready(Prepared(desired: desired, observation: observation, listeners: listeners, plan: plan, report: report))
    }

    /// The state a plan leads to when applied without trouble; `plan` reports it, `apply` starts from it.
    func expectedState(_ prepared: Prepared) -> HostState {
        if !prepared.plan.blockers.isEmpty { return .failed }
        if prepared.plan.held != nil { return .rolledBack }
        if case .deferred = prepared.plan.restart { return .pendingRestart }
        if prepared.desired.host.needsServerCertificate && prepared.desired.rendered.dropIn.tls == nil { return .awaitingCertificate }
        if prepared.report.drift.contains(where: { $0.kind == .listenerProbe }) { return .failed }
        return prepared.plan.actions.isEmpty ? .inSync : .repaired
    }

    // MARK: Apply (stage 6)

    func apply(_ prepared: Prepared) async -> ReconcileReport {
        var report = prepared.report
        let plan = prepared.plan
        // What the stage logs while it works (a failed restart before its rollback) names the
        // revision it applies, as the pass's own lines do (``PassLog``).
        var environment = environment
        environment.logger[metadataKey: "revision"] = "\(ReportFormatter.short(report.desiredRevision))"
        let stage = ApplyStage(settings: settings, environment: environment)
        report.state = expectedState(prepared)
        if report.refuses(plan, to: "change the host") { return report }
        if !plan.actions.isEmpty {
            await stage.apply(plan, desired: prepared.desired, into: &report)
            guard report.state != .failed && report.state != .rolledBack else { return report }
        }
        if case .deferred(let because, let policy) = plan.restart {
            report.message = (plan.actions.isEmpty ? "" : "files repaired; ") + "restart needed (\(because)) but not now: \(policy)"
            return report
        }
        if prepared.desired.certificate.promotesStagedKey {
            do {
                try KeyMaterial(settings: settings, environment: environment).promoteStaged()
                report.actions.append(ActionRecord(.promoteKey, HostLayout.hostKey, reason: "the staged key's certificate arrived and serves now; the old key is retired"))
            } catch {
                environment.logger.error("\(error)")
            }
        }
        // dockerd was verified on the desired set (after a restart), or the probes of this pass found
        // it serving the set already: that set is the new last-known-good.
        if report.state == .inSync || report.state == .repaired || report.state == .awaitingCertificate,
           report.daemon?.active == true, report.daemon?.listeners.allSatisfy({ !$0.result.isFailure }) == true {
            stage.settle(desired: prepared.desired, into: &report)
        }
        return report
    }

    // MARK: Finishing (stage 7)

    /// Sets the applied revision and next pass, writes the report.
    func finish(_ report: inout ReconcileReport) -> PublishedReport? {
        switch report.state {
        case .inSync, .repaired, .awaitingCertificate, .retired:
            report.appliedRevision = report.desiredRevision
        case .rolledBack:
            report.appliedRevision = report.lastKnownGoodRevision ?? report.appliedRevision
        default:
            break
        }
        if report.message.isEmpty { report.message = defaultMessage(report) }
        report.nextPassAt = report.time.addingTimeInterval(settings.interval.seconds)
        do {
            return try ReportStore(settings: settings).write(&report, logger: environment.logger)
        } catch {
            environment.logger.error("could not write the report: \(error)")
            return nil
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
