import BerthAgent
import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

/// The pass on a scratch root with a fake systemd and Engine: fast checks of the logic that the
/// end-to-end suite proves on real hosts.
@Suite("a reconcile pass on a scratch root")
struct ReconcilerTests {
    let fleet: TestFleet
    let root: TemporaryDirectory
    let reports: TemporaryDirectory
    let systemd: FakeSystemd
    let engine = FakeEngine()

    init() throws {
        fleet = try TestFleet(yaml: """
            apiVersion: berth/v1
            fleet: prod
            defaults:
              listeners: [fd://, tcp://0.0.0.0:2376]
              clients: [alice]
              restart: {policy: always}
            hosts:
              web-1:
                addresses: [10.0.0.5]

            """)
        root = try TemporaryDirectory("berth-root")
        reports = try TemporaryDirectory("berth-reports")
        try root.write("lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n")
        systemd = FakeSystemd(root: root.path)
    }

    func reconciler() -> Reconciler {
        var settings = AgentSettings(host: "web-1")
        settings.root = root.path
        settings.statePath = fleet.root
        settings.reportDir = reports.path
        settings.verifyTimeout = 2
        let systemd = self.systemd
        return Reconciler(settings: settings, environment: AgentEnvironment(
            runner: systemd, engine: engine, expectedOwner: nil, pollInterval: 0.01,
            processStartTime: { systemd.startTime(pid: $0) }))
    }

    func sign(_ report: ReconcileReport) throws {
        let csr = try #require(report.pendingCSR)
        let ca = try FleetCA(certificatePEM: try String(contentsOfFile: fleet.directory.file("ca.pem"), encoding: .utf8), privateKeyPEM: fleet.caKeyPEM)
        try fleet.write("certs/web-1.pem", try ca.issueServerCertificate(csrPEM: csr.pem, days: 90, now: Date()))
    }

    func mode(_ hostPath: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: root.file(String(hostPath.dropFirst())))[.posixPermissions] as? Int)
    }

    @Test("first pass: key made 0600, CSR reported, TCP left out; after signing: converged; then a no-op")
    func lifecycle() async throws {
        let first = await reconciler().reconcile()
        #expect(first.state == .awaitingCertificate, "\(first)")
        #expect(try mode(HostLayout.serverKey) == 0o600)
        let dropIn = try root.read(String(HostLayout.dropIn.dropFirst()))
        #expect(!dropIn.contains("-H tcp://"))
        #expect(first.pendingCSR?.sans == ["ip:10.0.0.5", "dns:web-1"])
        let stable = await reconciler().reconcile()
        #expect(stable.pendingCSR?.sha256 == first.pendingCSR?.sha256, "the CSR must not change between passes")

        try sign(first)
        systemd.reset()
        let second = await reconciler().reconcile()
        #expect(second.state == .repaired, "\(second)")
        #expect(systemd.restarts == 1)
        #expect(systemd.reloads == 1)
        #expect(try root.read(String(HostLayout.dropIn.dropFirst())).contains("--tlsverify"))
        #expect(try root.read("etc/docker/berth/clients.pem").contains("# client: alice"))
        #expect(try root.read("etc/docker/berth/clients.pem").contains("# client: berth-agent-probe"))
        #expect(engine.probes.last?.port == 2376)
        #expect(second.serverCertificate?.sans.contains("ip:10.0.0.5") == true)
        #expect(second.appliedRevision == second.desiredRevision)

        systemd.reset()
        let third = await reconciler().reconcile()
        #expect(third.state == .inSync, "\(third)")
        #expect(third.actions.isEmpty)
        #expect(systemd.restarts == 0)
        let written = try #require(FileManager.default.contents(atPath: reports.file("web-1.json")))
        #expect(PrivateKeyScanner.scan(Array(written)).isEmpty)
    }

    @Test("invalid desired state changes nothing and says why")
    func invalidState() async throws {
        try fleet.write("fleet.yaml", "apiVersion: berth/v1\nfleet: prod\nhosts:\n  web-1:\n    listeners: [tcp://0.0.0.0]\n")
        let report = await reconciler().reconcile()
        #expect(report.state == .invalidState)
        #expect(report.state.exitCode == 7)
        #expect(report.error?.contains("fleet.yaml:5:") == true, "\(report.error ?? "")")
        #expect(!root.exists(String(HostLayout.dropIn.dropFirst())))
        #expect(!root.exists("etc/docker/berth/server-key.pem"))
    }

    @Test("a host missing from fleet.yaml is invalid-state")
    func unknownHost() async throws {
        var settings = reconciler().settings
        settings.host = "web-9"
        let report = await Reconciler(settings: settings, environment: reconciler().environment).reconcile()
        #expect(report.state == .invalidState)
        #expect(report.error?.contains("web-9") == true)
    }

    @Test("plan changes nothing and shows what reconcile would do")
    func planChangesNothing() async throws {
        let (report, plan) = await reconciler().plan()
        let p = try #require(plan)
        #expect(!p.isNoOp)
        #expect(report.actions.contains { $0.kind == "generate-key" })
        #expect(!root.exists("etc/docker/berth/server-key.pem"))
        #expect(!root.exists(String(HostLayout.dropIn.dropFirst())))
        #expect(systemd.commands.allSatisfy { $0.arguments.first == "show" })
    }

    @Test("a restart that leaves dockerd unhealthy is rolled back to the last-known-good files")
    func rollBack() async throws {
        let first = await reconciler().reconcile()
        try sign(first)
        _ = await reconciler().reconcile()
        let good = try root.read(String(HostLayout.dropIn.dropFirst()))
        try fleet.write("fleet.yaml", try String(contentsOfFile: fleet.directory.file("fleet.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "tcp://0.0.0.0:2376]", with: "tcp://0.0.0.0:2376, tcp://10.255.255.1:2376]"))
        systemd.failRestartWhen = { $0.contains("tcp://10.255.255.1:2376") }
        let report = await reconciler().reconcile()
        #expect(report.state == .rolledBack, "\(report)")
        #expect(report.journal?.first?.contains("cannot assign requested address") == true)
        #expect(try root.read(String(HostLayout.dropIn.dropFirst())) == good)
        #expect(report.actions.contains { $0.kind == "rollback" })
    }

    @Test("a symlink at a managed path is refused, not followed")
    func symlinkRefused() async throws {
        try root.write("tmp/elsewhere", "x")
        try FileManager.default.createDirectory(atPath: root.file("etc/systemd/system/docker.service.d"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.file(String(HostLayout.dropIn.dropFirst())), withDestinationPath: root.file("tmp/elsewhere"))
        let report = await reconciler().reconcile()
        #expect(report.state == .failed)
        #expect(report.message.contains("symbolic link"))
        #expect(try root.read("tmp/elsewhere") == "x")
    }

    @Test("renewal stages a new key while the old certificate keeps serving, then promotes it")
    func renewal() async throws {
        let first = await reconciler().reconcile()
        try sign(first)
        _ = await reconciler().reconcile()
        let oldKey = try root.read("etc/docker/berth/server-key.pem")
        // The host's addresses change: the certificate no longer matches them.
        try fleet.write("fleet.yaml", try String(contentsOfFile: fleet.directory.file("fleet.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "addresses: [10.0.0.5]", with: "addresses: [10.0.0.5, 10.0.0.6]"))
        let renewing = await reconciler().reconcile()
        #expect(renewing.pendingCSR?.reason.contains("SANs") == true, "\(renewing)")
        #expect(renewing.pendingCSR?.sans.contains("ip:10.0.0.6") == true)
        #expect(root.exists("etc/docker/berth/server.pem"), "the old certificate must keep serving")
        #expect(try root.read("etc/docker/berth/server-key.pem") == oldKey)
        #expect(try mode("/var/lib/berth/staged-key.pem") == 0o600)

        try sign(renewing)
        let promoted = await reconciler().reconcile()
        #expect(promoted.state == .repaired, "\(promoted)")
        #expect(promoted.actions.contains { $0.kind == "promote-key" })
        #expect(try root.read("etc/docker/berth/server-key.pem") != oldKey)
        #expect(!root.exists("var/lib/berth/staged-key.pem"))
        #expect(promoted.pendingCSR == nil)
        #expect(promoted.serverCertificate?.sans.contains("ip:10.0.0.6") == true)
    }
}
