import BerthAgent
import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

/// The pass on a scratch root with a fake systemd and Engine and clocks the test steps: fast
/// checks of the logic that the end-to-end suite proves on real hosts.
@Suite("a reconcile pass on a scratch root")
struct PassTests {
    let fleet: TestFleet
    let root: TemporaryDirectory
    let reports: TemporaryDirectory
    let systemd: FakeSystemd
    let engine = FakeEngine()
    let clock = ImmediateClock()
    let bootClock = FakeBootClock()

    static let yaml = FleetFixtures.scratchFleet()

    init() throws {
        fleet = try TestFleet(yaml: Self.yaml)
        root = try TemporaryDirectory("berth-root")
        reports = try TemporaryDirectory("berth-reports")
        try root.write("lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n")
        systemd = FakeSystemd(root: root.path, bootClock: bootClock, clock: clock)
    }

    func settings() -> AgentSettings {
        var settings = AgentSettings(host: "web-1")
        settings.root = root.path
        settings.statePath = fleet.root
        settings.reportDir = reports.path
        settings.verifyTimeout = .seconds(60)
        return settings
    }

    func pass(now: Date = Date(), settings: AgentSettings? = nil) -> Pass {
        Pass(settings: settings ?? self.settings(), environment: AgentEnvironment(
            runner: systemd, engine: engine, now: { now }, clock: clock, bootClock: bootClock, expectedOwner: nil, pollInterval: .milliseconds(250)))
    }

    func reconcile(retry: Bool = false, now: Date = Date()) async -> ReconcileReport {
        await pass(now: now).reconcile(retry: retry).report
    }

    func sign(_ report: ReconcileReport) throws {
        let csr = try #require(report.pendingCSR)
        let ca = try FleetCA(certificatePEM: try fleet.directory.read("ca.pem"), privateKeyPEM: fleet.caKeyPEM)
        try fleet.write("certs/web-1.pem", try ca.issueServerCertificate(csrPEM: csr.pem, days: 90, now: Date()))
    }

    func setYAML(_ transform: (String) -> String) throws {
        try fleet.write("fleet.yaml", transform(try fleet.directory.read("fleet.yaml")))
    }

    var dropIn: String { (try? root.read(String(HostLayout.dropIn.dropFirst()))) ?? "" }

    /// The content-addressed TLS file the drop-in names for `flag` (`--tlscert=` …).
    func named(_ flag: String) throws -> String {
        let line = try #require(dropIn.split(separator: "\n").first { $0.contains(flag) })
        let path = line.split(separator: "=", maxSplits: 1)[1].split(separator: " ")[0]
        return String(path.dropFirst())
    }

    func mode(_ hostPath: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: root.file(hostPath.hasPrefix("/") ? String(hostPath.dropFirst()) : hostPath))[.posixPermissions] as? Int)
    }

    /// Two passes and a signature: a host serving mTLS, in sync.
    func converge() async throws {
        let first = await reconcile()
        try sign(first)
        let second = await reconcile()
        #expect(second.state == .repaired, "\(second)")
        systemd.reset()
    }

    @Test("first pass: key made 0600, CSR reported, TCP left out; after signing: converged, last-known-good saved; then a no-op")
    func lifecycle() async throws {
        let first = await reconcile()
        #expect(first.state == .awaitingCertificate, "\(first)")
        #expect(try mode(HostLayout.hostKey) == 0o600)
        #expect(!dropIn.contains("-H tcp://"))
        #expect(first.pendingCSR?.sans == ["ip:10.0.0.5", "dns:web-1"])
        let stable = await reconcile()
        #expect(stable.pendingCSR?.sha256 == first.pendingCSR?.sha256, "the CSR must not change between passes")

        try sign(first)
        systemd.reset()
        let second = await reconcile()
        #expect(second.state == .repaired, "\(second)")
        #expect(systemd.restarts == 1)
        #expect(systemd.reloads == 1)
        #expect(dropIn.contains("--tlsverify"))
        let bundle = try named("--tlscacert=")
        #expect(bundle.hasPrefix("etc/docker/berth/clients-"))
        #expect(try root.read(bundle).contains("# client: alice"))
        #expect(try root.read(bundle).contains("# client: berth-agent-probe"))
        let key = try named("--tlskey=")
        #expect(try mode(key) == 0o600)
        #expect(try root.read(key) == (try root.read(String(HostLayout.hostKey.dropFirst()))))
        #expect(key == (try named("--tlscert=")).replacingOccurrences(of: ".pem", with: "-key.pem"), "the key sits beside its certificate")
        #expect(engine.probes.last?.port == 2376)
        #expect(second.serverCertificate?.sans.contains("ip:10.0.0.5") == true)
        #expect(second.appliedRevision == second.desiredRevision)
        #expect(second.actions.contains { $0.kind == .saveLastKnownGood })
        #expect(second.lastKnownGoodRevision == second.desiredRevision)

        systemd.reset()
        let third = await reconcile()
        #expect(third.state == .inSync, "\(third)")
        #expect(third.actions.isEmpty, "\(third.actions)")
        #expect(systemd.restarts == 0)
        let written = try #require(FileManager.default.contents(atPath: reports.file("web-1.json")))
        #expect(!KeyMaterialSniffer.containsKeyMaterial(Array(written)))
        // The report is signed by the host key; the signature verifies against its certificate.
        let signature = try ReportSignature.parse(try reports.read("web-1.json.sig"))
        #expect(signature.verify(Array(written), certificatePEM: try fleet.directory.read("certs/web-1.pem")) == .valid)
    }

    @Test("invalid desired state changes nothing and says why")
    func invalidState() async throws {
        try fleet.write("fleet.yaml", "apiVersion: berth/v1\nfleet: prod\nhosts:\n  web-1:\n    listeners: [tcp://0.0.0.0]\n")
        let report = await reconcile()
        #expect(report.state == .invalidState)
        #expect(report.state.exitCode == 7)
        #expect(report.error?.contains("fleet.yaml:5:") == true, "\(report.error ?? "")")
        #expect(!root.exists(String(HostLayout.dropIn.dropFirst())))
        #expect(!root.exists(String(HostLayout.hostKey.dropFirst())))
    }

    @Test("a host missing from fleet.yaml is invalid-state")
    func unknownHost() async throws {
        var settings = self.settings()
        settings.host = "web-9"
        let report = await pass(settings: settings).reconcile().report
        #expect(report.state == .invalidState)
        #expect(report.error?.contains("web-9") == true)
    }

    @Test("plan changes nothing and shows what reconcile would do")
    func planChangesNothing() async throws {
        let (report, plan) = await pass().plan()
        let p = try #require(plan)
        #expect(!p.isNoOp)
        #expect(report.actions.contains { $0.kind == .generateKey })
        #expect(!root.exists(String(HostLayout.hostKey.dropFirst())))
        #expect(!root.exists(String(HostLayout.dropIn.dropFirst())))
        #expect(systemd.commands.allSatisfy { $0.arguments.first == "show" })
    }

    @Test("a restart that leaves dockerd unhealthy is rolled back to the whole last-known-good set and quarantined")
    func rollBackAndQuarantine() async throws {
        try await converge()
        let good = dropIn
        try setYAML { $0.replacingOccurrences(of: "tcp://0.0.0.0:2376]", with: "tcp://0.0.0.0:2376, tcp://10.255.255.1:2376]") }
        systemd.failRestartWhen = { $0.contains("tcp://10.255.255.1:2376") }
        let report = await reconcile()
        #expect(report.state == .rolledBack, "\(report)")
        #expect(report.journal?.first?.contains("cannot assign requested address") == true)
        #expect(dropIn == good)
        #expect(report.actions.contains { $0.kind == .rollback })
        #expect(report.quarantine?.reason.contains("docker.service") == true, "\(String(describing: report.quarantine))")
        #expect(systemd.restarts == 2, "one restart into the bad set, one back")

        // The same content again: held, nothing restarted, every pass says so.
        for _ in 0..<2 {
            systemd.reset()
            let held = await reconcile()
            #expect(held.state == .rolledBack, "\(held)")
            #expect(held.message.contains("failed verification and was rolled back"), "\(held.message)")
            #expect(held.quarantine?.revision == report.quarantine?.revision)
            #expect(systemd.restarts == 0, "a quarantined revision must not restart dockerd again")
        }
        // --retry tries it once more (and fails again).
        systemd.reset()
        let retried = await reconcile(retry: true)
        #expect(retried.state == .rolledBack)
        #expect(systemd.restarts == 2)
        // New content that fixes the listener is applied, and the quarantine lifted.
        systemd.reset()
        try setYAML { $0.replacingOccurrences(of: "tcp://10.255.255.1:2376", with: "tcp://0.0.0.0:2377") }
        let fixed = await reconcile()
        #expect(fixed.state == .repaired, "\(fixed)")
        #expect(fixed.quarantine == nil)
        #expect(dropIn.contains("tcp://0.0.0.0:2377"))
        #expect(!root.exists(String(HostLayout.quarantine.dropFirst())))
    }

    @Test("a deferred restart into a bad set, made in a later pass, rolls back the whole set written earlier")
    func deferredRestartRollsBack() async throws {
        try await converge()
        let good = dropIn
        let goodBundle = try named("--tlscacert=")
        try setYAML { $0.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: when-safe}")
            .replacingOccurrences(of: "clients: [alice]", with: "clients: [alice, ci]")
            .replacingOccurrences(of: "tcp://0.0.0.0:2376]", with: "tcp://0.0.0.0:2376, tcp://10.255.255.1:2376]") }
        systemd.failRestartWhen = { $0.contains("tcp://10.255.255.1:2376") }
        engine.state = EngineState(version: "20.10.24", containersRunning: 1, liveRestore: false)
        let deferred = await reconcile()
        #expect(deferred.state == .pendingRestart, "\(deferred)")
        #expect(systemd.restarts == 0)
        #expect(dropIn != good)
        // A later pass, the container gone: the restart happens, fails, and everything goes back.
        engine.state = EngineState(version: "20.10.24", containersRunning: 0, liveRestore: false)
        let later = await reconcile()
        #expect(later.state == .rolledBack, "\(later)")
        #expect(dropIn == good)
        #expect(try named("--tlscacert=") == goodBundle)
        #expect(root.exists(goodBundle))
    }

    @Test("a hung start is given up after verifyTimeout and rolled back, on a fake clock in well under a second")
    func hungRestartTiming() async throws {
        try await converge()
        let before = clock.elapsed
        let goodArguments = systemd.loadedArguments
        try setYAML { $0.replacingOccurrences(of: "clients: [alice]", with: "clients: [alice, ci]") }
        systemd.hangRestartWhen = { $0 != goodArguments }
        // On a thread of its own, so the verify loop's fake sleeps do not queue behind other tests.
        let (outcome, took) = await timedOnOwnThread { await reconcile() }
        let report = try outcome.get()
        #expect(report.state == .rolledBack, "\(report)")
        #expect(report.error?.contains("did not finish starting within 60 s") == true, "\(report.error ?? "")")
        #expect(systemd.loadedArguments == goodArguments)
        let waited = clock.elapsed - before
        #expect(waited >= .seconds(60) && waited <= .seconds(65), "fake time waited: \(waited)")
        #expect(took < .seconds(10), "the test must not wait its 60 s in real time: \(took)")
    }

    @Test("a deferred restart stays pending across a wall-clock step of an hour either way")
    func clockStep() async throws {
        // fd:// only: no certificate, whose validity would rightly depend on the wall clock.
        try setYAML { $0.replacingOccurrences(of: "listeners: [fd://, tcp://0.0.0.0:2376]", with: "listeners: [fd://]") }
        #expect(await reconcile().state == .repaired)
        try setYAML { $0.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: manual}\n  daemon: {labels: [tier=web]}") }
        let now = Date()
        let deferred = await reconcile(now: now)
        #expect(deferred.state == .pendingRestart, "\(deferred)")
        for step in [-3600.0, 3600.0] {
            let later = await reconcile(now: now.addingTimeInterval(step))
            #expect(later.state == .pendingRestart, "after a clock step of \(step) s: \(later)")
            #expect(later.drift.contains { $0.kind == .staleDaemon }, "\(later.drift)")
        }
        // Restarted by hand: the new dockerd runs the files; nothing is pending.
        _ = try await systemd.run(Command("systemctl", ["restart", "docker.service"]))
        let afterRestart = await reconcile(now: now.addingTimeInterval(-7200))
        #expect(afterRestart.state == .inSync, "\(afterRestart.drift) \(afterRestart.message)")
    }

    @Test("-H in the unit's EnvironmentFile is refused with the file and variable named, and nothing changes")
    func environmentFileConflict() async throws {
        try await converge()
        let good = dropIn
        try root.write("etc/default/docker", "# Docker Upstart and SysVinit configuration file\nDOCKER_OPTS=\"-H tcp://0.0.0.0:2375\"\n")
        systemd.environmentFiles = ["/etc/default/docker (ignore_errors=yes)"]
        try setYAML { $0.replacingOccurrences(of: "clients: [alice]", with: "clients: [alice, ci]") }
        let report = await reconcile()
        #expect(report.state == .failed)
        let item = try #require(report.drift.first { $0.kind == .environmentConflict })
        #expect(item.object == "/etc/default/docker")
        #expect(item.reason.contains("DOCKER_OPTS sets -H tcp://0.0.0.0:2375"), "\(item.reason)")
        #expect(dropIn == good)
        #expect(systemd.restarts == 0)
    }

    @Test("key material in a managed file never reaches a report: the diff is replaced, the report scanned")
    func keyNeverReported() async throws {
        try await converge()
        let key = try root.read(String(HostLayout.hostKey.dropFirst()))
        // `cp server-key.pem server.pem`, and a key pasted into the client bundle.
        try root.write(try named("--tlscert="), key)
        try root.write(try named("--tlscacert="), try root.read(try named("--tlscacert=")) + key)
        let report = await reconcile()
        #expect(report.state == .repaired)
        let bytes = Array(try reports.read("web-1.json").utf8)
        #expect(!KeyMaterialSniffer.containsKeyMaterial(bytes))
        #expect(!String(decoding: bytes, as: UTF8.self).contains("PRIVATE KEY"))
        let body = key.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        #expect(!String(decoding: bytes, as: UTF8.self).contains(body.prefix(40)), "the key's DER, base64, is in the report")
        #expect(report.drift.filter { $0.kind == .fileContent }.allSatisfy { $0.diff == nil && $0.reason.contains("private-key material") })
    }

    @Test("a symlink at a managed path is refused, not followed")
    func symlinkRefused() async throws {
        try root.write("tmp/elsewhere", "x")
        try FileManager.default.createDirectory(atPath: root.file("etc/systemd/system/docker.service.d"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.file(String(HostLayout.dropIn.dropFirst())), withDestinationPath: root.file("tmp/elsewhere"))
        let report = await reconcile()
        #expect(report.state == .failed)
        #expect(report.message.contains("symbolic link"))
        #expect(try root.read("tmp/elsewhere") == "x")
    }

    @Test("renewal stages a new key while the old certificate keeps serving, then promotes it")
    func renewal() async throws {
        try await converge()
        let oldKey = try root.read(String(HostLayout.hostKey.dropFirst()))
        let oldCert = try named("--tlscert=")
        // The host's addresses change: the certificate no longer matches them.
        try setYAML { $0.replacingOccurrences(of: "addresses: [10.0.0.5]", with: "addresses: [10.0.0.5, 10.0.0.6]") }
        let renewing = await reconcile()
        #expect(renewing.pendingCSR?.reason.contains("SANs") == true, "\(renewing)")
        #expect(renewing.pendingCSR?.sans.contains("ip:10.0.0.6") == true)
        #expect(try named("--tlscert=") == oldCert, "the old certificate must keep serving")
        #expect(try root.read(String(HostLayout.hostKey.dropFirst())) == oldKey)
        #expect(try mode(HostLayout.stagedKey) == 0o600)

        try sign(renewing)
        let promoted = await reconcile()
        #expect(promoted.state == .repaired, "\(promoted)")
        #expect(promoted.actions.contains { $0.kind == .promoteKey })
        #expect(try root.read(String(HostLayout.hostKey.dropFirst())) != oldKey)
        #expect(try root.read(try named("--tlskey=")) == (try root.read(String(HostLayout.hostKey.dropFirst()))))
        #expect(!root.exists(String(HostLayout.stagedKey.dropFirst())))
        #expect(promoted.pendingCSR == nil)
        #expect(promoted.serverCertificate?.sans.contains("ip:10.0.0.6") == true)
        #expect(!root.exists(oldCert), "the old certificate is removed once nothing names it")
    }
}
