import BerthAgent
import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

/// Retiring a host on a scratch root with a fake systemd and Engine: the stages, the restart
/// policy, verification and rollback as for any change. `LifecycleOnRealHostTests` shows it on a
/// booted host with a real dockerd.
@Suite("retiring a host on a scratch root")
struct RetirementTests {
    let fleet: TestFleet
    let root: TemporaryDirectory
    let reports: TemporaryDirectory
    let systemd: FakeSystemd
    let engine = FakeEngine()
    let clock = ImmediateClock()
    let bootClock = FakeBootClock()

    static let yaml = FleetFixtures.scratchFleet()
    static let packaged = ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"]

    init() throws {
        fleet = try TestFleet(yaml: Self.yaml)
        root = try TemporaryDirectory("berth-root")
        reports = try TemporaryDirectory("berth-reports")
        try root.write("lib/systemd/system/docker.service", "[Service]\nExecStart=\(Self.packaged.joined(separator: " "))\n")
        systemd = FakeSystemd(root: root.path, bootClock: bootClock, clock: clock)
    }

    func settings(host: String = "web-1") -> AgentSettings {
        var settings = AgentSettings(host: host)
        settings.root = root.path
        settings.statePath = fleet.root
        settings.reportDir = reports.path
        return settings
    }

    func pass(_ settings: AgentSettings? = nil) -> Pass {
        Pass(settings: settings ?? self.settings(), environment: AgentEnvironment(
            runner: systemd, engine: engine, now: { Date() }, clock: clock, bootClock: bootClock, expectedOwner: nil, pollInterval: .milliseconds(250)))
    }

    func reconcile(retry: Bool = false) async -> ReconcileReport { await pass().reconcile(retry: retry).report }

    func exists(_ hostPath: String) -> Bool { root.exists(String(hostPath.dropFirst())) }

    /// Berth's files under /etc/docker/berth.
    var tlsFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.file("etc/docker/berth"))) ?? []).filter(HostLayout.isBerthTLSFile).sorted()
    }

    /// A host serving mTLS, in sync, with a last-known-good set.
    func converge() async throws {
        let first = await reconcile()
        let csr = try #require(first.pendingCSR)
        let ca = try FleetCA(certificatePEM: try fleet.directory.read("ca.pem"), privateKeyPEM: fleet.caKeyPEM)
        try fleet.write("certs/web-1.pem", try ca.issueServerCertificate(csrPEM: csr.pem, days: 90, now: Date()))
        #expect(await reconcile().state == .repaired)
        #expect(await reconcile().state == .inSync)
        #expect(exists(HostLayout.lastKnownGood))
        systemd.reset()
    }

    func retire(policy: String = "always") throws {
        var editor = FleetEditor(Self.yaml.replacingOccurrences(of: "policy: always", with: "policy: \(policy)"))
        try editor.retireHost("web-1")
        try fleet.write("fleet.yaml", editor.text)
    }

    @Test("plan shows the retirement and changes nothing; reconcile removes the drop-in and TLS files, restarts once onto the packaged unit, reports retired")
    func retires() async throws {
        try await converge()
        try retire()
        let files = tlsFiles
        #expect(files.count >= 4, "\(files)")

        let (planned, plan) = await pass().plan()
        let p = try #require(plan)
        #expect(planned.state == .retired)
        let removals = p.actions.compactMap { action -> String? in if case .remove(let path, _) = action { return path } else { return nil } }
        #expect(removals.first == HostLayout.dropIn, "the drop-in goes first: \(removals)")
        #expect(Set(removals.dropFirst()) == Set(files.map { "\(HostLayout.tlsDir)/\($0)" }))
        #expect(p.restartsDocker)
        #expect(ReportFormatter.plan(planned, plan: plan).contains("would remove \(HostLayout.dropIn)"))
        #expect(exists(HostLayout.dropIn) && tlsFiles == files, "plan changed the host")
        #expect(systemd.restarts == 0)

        let report = await reconcile()
        #expect(report.state == .retired, "\(report)")
        #expect(report.state.exitCode == 0)
        #expect(!exists(HostLayout.dropIn))
        #expect(tlsFiles.isEmpty, "\(tlsFiles)")
        #expect(systemd.restarts == 1)
        #expect(systemd.reloads == 1)
        #expect(systemd.loadedArguments == Self.packaged, "dockerd runs the packaged command line: \(systemd.loadedArguments)")
        #expect(report.daemon?.listeners.map(\.url) == ["unix://\(HostLayout.dockerSocket)"])
        #expect(report.daemon?.listeners.first?.result == .passed)
        #expect(report.appliedRevision == report.desiredRevision)
        #expect(report.serverCertificate == nil && report.pendingCSR == nil && report.lastKnownGoodRevision == nil)
        // What only a managed host needs is gone (the key copy of last-known-good among it); the host key stays to sign reports.
        for path in [HostLayout.lastKnownGood, HostLayout.restartLedger, HostLayout.probeKey, HostLayout.probeCertificate] {
            #expect(!exists(path), "\(path) is still there")
        }
        #expect(exists(HostLayout.hostKey))
        #expect(exists(HostLayout.retiredMarker))
        let signature = try ReportSignature.parse(try reports.read("web-1.json.sig"))
        #expect(signature.verify(Array(try reports.read("web-1.json").utf8), certificatePEM: try fleet.directory.read("certs/web-1.pem")) == .valid)

        // From now on: nothing but a report.
        systemd.reset()
        try root.write(String(HostLayout.dropIn.dropFirst()), "[Service]\n# put back by hand\n")
        let again = await reconcile()
        #expect(again.state == .retired, "\(again)")
        #expect(again.actions.isEmpty, "\(again.actions)")
        #expect(systemd.restarts == 0 && systemd.reloads == 0)
        #expect(exists(HostLayout.dropIn), "a retired host's agent touched the host")
        #expect(again.message.contains("berthctl host rm web-1"))
    }

    @Test("when-safe with a container running and live-restore off: pending-restart first, retired once the restart is allowed")
    func deferredRetirement() async throws {
        try await converge()
        try retire(policy: "when-safe")
        engine.state = EngineState(version: "20.10.24", containersRunning: 1, liveRestore: false)
        let deferred = await reconcile()
        #expect(deferred.state == .pendingRestart, "\(deferred)")
        #expect(deferred.message.contains("retiring"), "\(deferred.message)")
        #expect(!exists(HostLayout.dropIn), "the files go at once; only the restart waits")
        #expect(systemd.restarts == 0)
        #expect(!exists(HostLayout.retiredMarker))
        let still = await reconcile()
        #expect(still.state == .pendingRestart, "the restart stays pending: \(still)")
        #expect(still.drift.contains { $0.kind == .staleDaemon })

        engine.state = EngineState(version: "20.10.24", containersRunning: 1, liveRestore: true)
        let done = await reconcile()
        #expect(done.state == .retired, "\(done)")
        #expect(done.actions.contains { $0.kind == .restart && $0.reason.contains("live-restore") }, "\(done.actions)")
        #expect(systemd.restarts == 1)
    }

    @Test("a retirement whose restart fails verification is rolled back to the last-known-good set and held back")
    func failedRetirementRollsBack() async throws {
        try await converge()
        let dropIn = try root.read(String(HostLayout.dropIn.dropFirst()))
        let files = tlsFiles
        try retire()
        // dockerd will not start on its packaged configuration (something outside Berth breaks it).
        systemd.failRestartWhen = { !$0.contains("--tlsverify") }
        let report = await reconcile()
        #expect(report.state == .rolledBack, "\(report)")
        #expect(report.actions.contains { $0.kind == .rollback })
        #expect(try root.read(String(HostLayout.dropIn.dropFirst())) == dropIn)
        #expect(tlsFiles == files)
        #expect(systemd.restarts == 2, "one restart into the packaged unit, one back")
        #expect(report.quarantine?.contentHash == RetirementInput.contentHash)
        #expect(!exists(HostLayout.retiredMarker))

        systemd.reset()
        let held = await reconcile()
        #expect(held.state == .rolledBack, "\(held)")
        #expect(held.message.contains("retirement"), "\(held.message)")
        #expect(systemd.restarts == 0, "a held retirement must not restart dockerd again")

        systemd.failRestartWhen = nil
        let retried = await reconcile(retry: true)
        #expect(retried.state == .retired, "\(retried)")
    }

    @Test("a host missing from fleet.yaml is never torn down and says how to retire it; once retired, being removed is fine")
    func missingHost() async throws {
        try await converge()
        try fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "  web-1:\n    addresses: [10.0.0.5]\n", with: "  web-2:\n    addresses: [10.0.0.6]\n"))
        let missing = await reconcile()
        #expect(missing.state == .invalidState, "\(missing)")
        #expect(missing.message.contains("not in fleet.yaml"), "\(missing.message)")
        #expect(missing.message.contains("berthctl host retire web-1"), "\(missing.message)")
        #expect(missing.error?.contains("known hosts: web-2") == true)
        #expect(exists(HostLayout.dropIn) && !tlsFiles.isEmpty)
        #expect(systemd.restarts == 0)

        try retire()
        #expect(await reconcile().state == .retired)
        try fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "  web-1:\n    addresses: [10.0.0.5]\n", with: "  web-2:\n    addresses: [10.0.0.6]\n"))
        let removed = await reconcile()
        #expect(removed.state == .retired, "\(removed)")
        #expect(removed.message.contains("no longer in fleet.yaml"))
    }

    @Test("deleting retired: true takes the host back into service: it converges again")
    func backIntoService() async throws {
        try await converge()
        try retire()
        #expect(await reconcile().state == .retired)
        try fleet.write("fleet.yaml", Self.yaml)
        let back = await reconcile()
        #expect(back.actions.contains { $0.kind == .remove && $0.object == HostLayout.retiredMarker }, "\(back.actions)")
        #expect(back.state == .repaired, "\(back)")
        #expect(exists(HostLayout.dropIn))
        #expect(try root.read(String(HostLayout.dropIn.dropFirst())).contains("--tlsverify"))
    }

    @Test("a symlink where Berth's drop-in was is refused, not followed, and nothing is removed")
    func symlinkRefused() async throws {
        try await converge()
        try retire()
        try root.write("tmp/elsewhere", "x")
        let path = root.file(String(HostLayout.dropIn.dropFirst()))
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: root.file("tmp/elsewhere"))
        let files = tlsFiles
        let report = await reconcile()
        #expect(report.state == .failed, "\(report)")
        #expect(report.message.contains("symbolic link"))
        #expect(try root.read("tmp/elsewhere") == "x")
        #expect(tlsFiles == files)
    }
}
