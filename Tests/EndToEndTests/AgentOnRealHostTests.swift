import BerthAgent
import BerthCore
import BerthPKI
import Foundation
import Testing
import TestSupport

/// One booted systemd + dockerd host, its fleet repository (bind-mounted at /srv/fleet) and
/// report directory (/srv/reports), shared by the scenarios below. Each scenario starts from a
/// converged host (``converge()``) and leaves one behind, so they do not depend on their order.
final class AgentHostFixture: @unchecked Sendable {
    static let address = "10.231.9.2"
    static let yaml = """
        apiVersion: berth/v1
        fleet: prod
        defaults:
          listeners: [fd://, tcp://0.0.0.0:2376]
          clients: [alice]
          restart: {policy: always}
        hosts:
          web-1:
            addresses: [\(address)]

        """

    let fleet: TestFleet
    let reports: TemporaryDirectory
    let certs: TemporaryDirectory
    let host: TestHost

    static let shared = Result { try AgentHostFixture() }

    init() throws {
        fleet = try TestFleet(yaml: Self.yaml, clients: ["alice", "ci"])
        reports = try TemporaryDirectory("berth-reports")
        certs = try TemporaryDirectory("berth-client-certs")
        host = try TestHost(name: "berth-e2e-web-1", network: ("10.231.9.1/30", "\(Self.address)/30"),
                            binds: ["\(fleet.root):/srv/fleet", "\(reports.path):/srv/reports"], containers: true)
    }

    func setYAML(_ text: String) throws { try fleet.write("fleet.yaml", text) }

    /// Runs one agent command inside the host; returns its exit status and the report it wrote.
    @discardableResult
    func agent(_ command: String = "reconcile", _ extra: [String] = []) throws -> (status: Int32, report: ReconcileReport?, output: CLI.Result) {
        let result = try host.exec(["berth-agent", command, "--state", "/srv/fleet", "--report-dir", "/srv/reports", "--host", "web-1", "--verify-timeout", "40"] + extra)
        let report = FileManager.default.contents(atPath: reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
        return (result.status, report, result)
    }

    /// Signs the CSR the last report carries with the real `berthctl sign`, into certs/web-1.pem.
    func signPendingCSR() throws {
        let key = try certs.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600)
        let sign = try CLI.run("berthctl", ["sign", "web-1", "--reports", reports.path, "--ca-key", key, "--repo", fleet.root])
        #expect(sign.status == 0, "\(sign)")
        #expect(sign.stdout.contains("web-1: CSR sha256"), "\(sign)")
    }

    /// `berthctl` on the fixture's repository.
    @discardableResult
    func berthctl(_ args: [String]) throws -> CLI.Result {
        let result = try CLI.run("berthctl", args + ["--repo", fleet.root])
        #expect(result.status == 0, "berthctl \(args): \(result)")
        return result
    }

    /// Brings the host to in-sync with the fixture's fleet.yaml, signing when asked.
    func converge() throws {
        try setYAML(Self.yaml)
        _ = try? host.sh("rm -f /etc/docker/daemon.json /etc/systemd/system/docker.service.d/99-override.conf")
        for _ in 0..<4 {
            let (status, report, output) = try agent()
            if report?.state == .awaitingCertificate { try signPendingCSR(); continue }
            if status == 0 && report?.state == .inSync { return }
            if status != 0 && report?.state != .repaired { Issue.record("converge: \(output)") }
        }
        let (_, report, output) = try agent()
        #expect(report?.state == .inSync, "\(output)")
    }

    /// `docker version` from the test machine over mTLS with a client's certificate.
    func dockerVersion(as client: String) throws -> CLI.Result {
        let dir = try fleet.dockerCertDirectory(client: client, in: certs)
        return try CLI.run("/usr/bin/env", ["docker", "version", "--format", "{{.Server.Version}}"], environment: [
            "DOCKER_HOST": "tcp://\(Self.address):2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": dir,
        ])
    }
}

@Suite("berth-agent on a real systemd + dockerd host", .serialized, .enabled(if: TestHost.available), .timeLimit(.minutes(10)))
struct AgentOnRealHostTests {
    func fixture() throws -> AgentHostFixture { try AgentHostFixture.shared.get() }

    @Test("a fresh host asks for a certificate, then converges and serves mTLS to authorized clients only")
    func freshHostConverges() throws {
        let f = try fixture()
        try f.setYAML(AgentHostFixture.yaml)
        try? FileManager.default.removeItem(atPath: f.fleet.directory.file("certs/web-1.pem"))
        try f.host.sh("rm -rf /etc/docker/berth /var/lib/berth /etc/systemd/system/docker.service.d; systemctl daemon-reload; systemctl restart docker")

        let first = try f.agent()
        #expect(first.status == 4, "\(first.output)")
        #expect(first.report?.state == .awaitingCertificate)
        let csr = try #require(first.report?.pendingCSR)
        #expect(csr.sans.contains("ip:\(AgentHostFixture.address)"))
        #expect(try f.host.sh("stat -c %a /etc/docker/berth/server-key.pem").hasPrefix("600"))
        let report = try String(contentsOfFile: f.reports.file("web-1.json"), encoding: .utf8)
        #expect(PrivateKeyScanner.scan(report).isEmpty, "the report holds a private key")

        try f.signPendingCSR()
        let pidBefore = try f.host.dockerdPID()
        let second = try f.agent()
        #expect(second.status == 0, "\(second.output)")
        #expect(second.report?.state == .repaired)
        #expect(second.report?.actions.contains { $0.kind == "restart" } == true)
        #expect(try f.host.dockerdPID() != pidBefore)
        #expect(try f.host.sh("cat /etc/systemd/system/docker.service.d/50-berth.conf").contains("-H tcp://0.0.0.0:2376"))
        #expect(second.report?.daemon?.listeners.allSatisfy { $0.probe == "passed" } == true, "\(String(describing: second.report?.daemon))")

        // The restart started dockerd after the files were written: the next pass is a no-op.
        let third = try f.agent()
        #expect(third.report?.state == .inSync, "a change cost a second restart: \(third.output)")

        let alice = try f.dockerVersion(as: "alice")
        #expect(alice.status == 0, "\(alice)")
        #expect(alice.stdout.hasPrefix("20.10"))
        let ci = try f.dockerVersion(as: "ci")
        #expect(ci.status != 0, "an unlisted client was let in: \(ci)")
    }

    @Test("a second pass changes nothing and does not restart dockerd")
    func secondPassIsNoOp() throws {
        let f = try fixture()
        try f.converge()
        let pid = try f.host.dockerdPID()
        let pass = try f.agent()
        #expect(pass.status == 0)
        #expect(pass.report?.state == .inSync)
        #expect(pass.report?.actions.isEmpty == true, "\(String(describing: pass.report?.actions))")
        #expect(try f.host.dockerdPID() == pid)
    }

    @Test("drift self-heals: a hand-edited drop-in, a deleted server.pem, a world-readable key")
    func driftSelfHeals() throws {
        let f = try fixture()
        try f.converge()
        let dropIn = "/etc/systemd/system/docker.service.d/50-berth.conf"
        let good = try f.host.sh("cat \(dropIn)")
        try f.host.sh("sed -i 's|-H tcp://0.0.0.0:2376|-H tcp://0.0.0.0:2377|' \(dropIn); rm /etc/docker/berth/server.pem; chmod 0644 /etc/docker/berth/server-key.pem")

        let plan = try f.agent("plan")
        #expect(plan.status == 2, "\(plan.output)")
        #expect(plan.output.stdout.contains("+    -H tcp://0.0.0.0:2376 \\"), "\(plan.output.stdout)")
        #expect(try f.host.sh("cat \(dropIn)") != good, "plan changed the host")

        let pass = try f.agent()
        #expect(pass.status == 0, "\(pass.output)")
        #expect(pass.report?.state == .repaired)
        let kinds = Set(pass.report?.drift.map(\.kind) ?? [])
        #expect(kinds.isSuperset(of: [.fileContent, .fileMissing, .fileMode]), "\(kinds)")
        #expect(try f.host.sh("cat \(dropIn)") == good)
        #expect(try f.host.sh("stat -c %a /etc/docker/berth/server-key.pem").hasPrefix("600"))
        #expect(try f.dockerVersion(as: "alice").status == 0)
    }

    @Test("a client revoked in the repository is locked out on the next pass; a newly added one gets in")
    func revocation() throws {
        let f = try fixture()
        try f.converge()
        let aliceCert = try f.certs.write("alice-cert.pem", try f.fleet.directory.read("clients/alice.pem"))
        // Revoked: clients/alice.pem and every mention of alice leave the repository.
        try f.berthctl(["client", "revoke", "alice"])
        #expect(!f.fleet.directory.exists("clients/alice.pem"))
        let revoked = try f.agent()
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(try f.dockerVersion(as: "alice").status != 0, "revoked alice still connects")
        #expect(try f.dockerVersion(as: "ci").status != 0, "ci was never authorized")
        // Added: ci's certificate is authorized fleet-wide, alice's comes back.
        let ciCert = try f.certs.write("ci-cert.pem", try f.fleet.directory.read("clients/ci.pem"))
        try FileManager.default.removeItem(atPath: f.fleet.directory.file("clients/ci.pem"))
        try f.berthctl(["client", "add", "ci", "--cert", ciCert])
        try f.berthctl(["client", "add", "alice", "--cert", aliceCert])
        let added = try f.agent()
        #expect(added.status == 0, "\(added.output)")
        #expect(try f.dockerVersion(as: "ci").status == 0, "a newly added client is refused")
        #expect(try f.dockerVersion(as: "alice").status == 0)
        try f.converge()
    }

    @Test("daemon.json with hosts is refused before any restart; dockerd keeps serving")
    func daemonJSONConflict() throws {
        let f = try fixture()
        try f.converge()
        let pid = try f.host.dockerdPID()
        try f.host.sh("echo '{\"hosts\": [\"unix:///var/run/docker.sock\"]}' > /etc/docker/daemon.json")
        try f.setYAML(AgentHostFixture.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: always}\n  daemon: {labels: [env=prod]}"))
        let pass = try f.agent()
        #expect(pass.status == 6, "\(pass.output)")
        #expect(pass.report?.state == .failed)
        #expect(pass.report?.message.contains("daemon.json") == true)
        #expect(pass.report?.drift.contains { $0.kind == .daemonJSONConflict } == true)
        #expect(try f.host.dockerdPID() == pid)
        #expect(try f.dockerVersion(as: "alice").status == 0)
        try f.converge()
    }

    @Test("an extra drop-in that resets ExecStart is reported as overriding ours")
    func overridingDropIn() throws {
        let f = try fixture()
        try f.converge()
        try f.host.sh("printf '[Service]\\nExecStart=\\nExecStart=/usr/sbin/dockerd -H fd://\\n' > /etc/systemd/system/docker.service.d/99-override.conf")
        let pass = try f.agent()
        #expect(pass.status == 6, "\(pass.output)")
        let item = pass.report?.drift.first { $0.kind == .overridingDropIn }
        #expect(item?.object == "/etc/systemd/system/docker.service.d/99-override.conf")
        try f.converge()
    }

    @Test("a change that keeps dockerd from starting is rolled back and dockerd serves the previous config")
    func rollBack() throws {
        let f = try fixture()
        try f.converge()
        // A listener on an address the host does not have: dockerd cannot bind it and exits.
        try f.setYAML(AgentHostFixture.yaml.replacingOccurrences(of: "listeners: [fd://, tcp://0.0.0.0:2376]", with: "listeners: [fd://, tcp://0.0.0.0:2376, tcp://10.255.255.1:2376]"))
        let started = Date()
        let pass = try f.agent()
        #expect(pass.status == 5, "\(pass.output)")
        #expect(pass.report?.state == .rolledBack)
        #expect(pass.report?.journal?.isEmpty == false)
        #expect(Date().timeIntervalSince(started) < 60, "the rollback took longer than 60 s")
        #expect(try f.host.sh("systemctl is-active docker").hasPrefix("active"))
        #expect(try !f.host.sh("cat /etc/systemd/system/docker.service.d/50-berth.conf").contains("10.255.255.1"))
        #expect(try f.dockerVersion(as: "alice").status == 0)
        try f.converge()
    }

    @Test("restart.policy manual leaves dockerd running and reports pending-restart")
    func manualPolicy() throws {
        let f = try fixture()
        try f.converge()
        let pid = try f.host.dockerdPID()
        try f.setYAML(AgentHostFixture.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: manual}\n  daemon: {labels: [tier=web]}"))
        let pass = try f.agent()
        #expect(pass.status == 3, "\(pass.output)")
        #expect(pass.report?.state == .pendingRestart)
        #expect(try f.host.dockerdPID() == pid)
        let again = try f.agent()
        #expect(again.report?.state == .pendingRestart, "a deferred restart must stay pending on the next pass")
        try f.converge()
    }

    @Test("when-safe with a running container: pending-restart while live-restore is off; restarts with it on and the container survives")
    func whenSafeWithContainer() throws {
        let f = try fixture()
        try f.converge()
        // No registry here: an image of just `sleep` and the C library, imported inside the host.
        try f.host.sh("""
            docker image inspect berth-sleeper >/dev/null 2>&1 || \
              tar -C / -chf - usr/bin/sleep usr/lib/x86_64-linux-gnu/libc.so.6 lib64/ld-linux-x86-64.so.2 | docker import - berth-sleeper >/dev/null
            docker rm -f sleeper >/dev/null 2>&1 || true
            docker run -d --name sleeper berth-sleeper /usr/bin/sleep 3600 >/dev/null
            """)
        defer { _ = try? f.host.sh("docker rm -f sleeper >/dev/null 2>&1; rm -f /etc/docker/daemon.json; systemctl restart docker") }
        let pid = try f.host.dockerdPID()
        let whenSafe = AgentHostFixture.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: when-safe}\n  daemon: {labels: [tier=web]}")
        try f.setYAML(whenSafe)
        let deferred = try f.agent()
        #expect(deferred.status == 3, "\(deferred.output)")
        #expect(deferred.report?.state == .pendingRestart)
        #expect(deferred.report?.daemon?.containersRunning == 1)
        #expect(try f.host.dockerdPID() == pid)
        #expect(try f.host.sh("docker inspect -f '{{.State.Running}}' sleeper").hasPrefix("true"))

        // Turn live-restore on (a restart by hand, before the container runs again).
        try f.host.sh("echo '{\"live-restore\": true}' > /etc/docker/daemon.json; systemctl restart docker; docker start sleeper >/dev/null")
        let containerPID = try f.host.sh("docker inspect -f '{{.State.Pid}}' sleeper")
        try f.setYAML(whenSafe.replacingOccurrences(of: "tier=web", with: "tier=web2"))
        let restarted = try f.agent()
        #expect(restarted.status == 0, "\(restarted.output)")
        #expect(restarted.report?.actions.contains { $0.kind == "restart" && $0.reason.contains("live-restore") } == true)
        #expect(try f.host.sh("docker inspect -f '{{.State.Running}}' sleeper").hasPrefix("true"))
        #expect(try f.host.sh("docker inspect -f '{{.State.Pid}}' sleeper") == containerPID, "the container must keep running through the restart")
    }
}
