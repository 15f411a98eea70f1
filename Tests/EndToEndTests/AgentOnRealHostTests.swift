import BerthCore
import BerthPKI
import Foundation
import Testing
import TestSupport

/// One booted systemd + dockerd host, its fleet repository (bind-mounted at /srv/fleet), report
/// directory (/srv/reports) and report repository (/srv/status.git), shared by the scenarios
/// below. Each scenario starts from a converged host (``converge()``) and leaves one behind, so
/// they do not depend on their order.
final class AgentHostFixture: @unchecked Sendable {
    static let address = "10.231.9.2"
    static let yaml = FleetFixtures.scratchFleet(hosts: ["web-1": "[\(address)]"])

    let fleet: TestFleet
    let reports: TemporaryDirectory
    let certs: TemporaryDirectory
    let status: TemporaryDirectory
    let host: TestHost

    static let shared = Task { try await AgentHostFixture() }

    init() async throws {
        fleet = try TestFleet(yaml: Self.yaml, clients: ["alice", "ci"])
        reports = try TemporaryDirectory("berth-reports")
        certs = try TemporaryDirectory("berth-client-certs")
        status = try TemporaryDirectory("berth-status-repo")
        try await CLI.git(status.path, "init", "-q", "--bare")
        host = try await TestHost(name: "berth-e2e-web-1", network: ("10.231.9.1/30", "\(Self.address)/30"),
                                  binds: ["\(fleet.root):/srv/fleet", "\(reports.path):/srv/reports", "\(status.path):/srv/status.git"], containers: true)
    }

    func setYAML(_ text: String) throws { try fleet.write("fleet.yaml", text) }

    /// Runs one agent command inside the host; returns its exit status and the report it wrote.
    @discardableResult
    func agent(_ command: String = "reconcile", _ extra: [String] = [], verifyTimeout: Int = 40) async throws -> (status: Int32, report: ReconcileReport?, output: CLI.Result) {
        let result = try await host.exec(["berth-agent", command, "--state", "/srv/fleet", "--report-dir", "/srv/reports", "--host", "web-1",
                                          "--report-git", "--report-repo", "/srv/status.git", "--verify-timeout", "\(verifyTimeout)"] + extra)
        let report = FileManager.default.contents(atPath: reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
        return (result.status, report, result)
    }

    var caKey: String {
        get throws { try certs.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600) }
    }

    /// Signs the CSR the last report carries with the real `berthctl sign`, vouched for by the
    /// fingerprint an operator would read on the host's console.
    func signPendingCSR() async throws {
        let report = try #require(FileManager.default.contents(atPath: reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) })
        let csr = try #require(report.pendingCSR, "no pending CSR: \(report.message)")
        let console = try await host.exec(["berth-agent", "status", "--host", "web-1"])
        #expect(console.stdout.contains("--fingerprint \(csr.sha256)"), "\(console)")
        let sign = try await CLI.run("berthctl", ["sign", "web-1", "--reports", reports.path, "--fingerprint", csr.sha256, "--ca-key", try caKey, "--repo", fleet.root])
        #expect(sign.status == 0, "\(sign)")
    }

    /// `berthctl` on the fixture's repository.
    @discardableResult
    func berthctl(_ args: [String], environment: [String: String] = [:]) async throws -> CLI.Result {
        let result = try await CLI.run("berthctl", args + ["--repo", fleet.root], environment: environment)
        #expect(result.status == 0, "berthctl \(args): \(result)")
        return result
    }

    /// Brings the host to in-sync with the fixture's fleet.yaml, signing when asked, undoing what
    /// scenarios leave behind (hand-made drop-ins, daemon.json, DOCKER_OPTS, a quarantine).
    func converge() async throws {
        try setYAML(Self.yaml)
        _ = try? await host.sh("""
            rm -f /etc/docker/daemon.json /etc/systemd/system/docker.service.d/99-override.conf /etc/systemd/system/docker.service.d/60-hang.conf
            sed -i '/^DOCKER_OPTS=/d' /etc/default/docker; systemctl daemon-reload
            """)
        var retry = ["--retry"]
        for _ in 0..<4 {
            let (status, report, output) = try await agent("reconcile", retry)
            retry = []
            if report?.state == .awaitingCertificate { try await signPendingCSR(); continue }
            if status == 0 && report?.state == .inSync { return }
            if status != 0 && report?.state != .repaired { Issue.record("converge: \(output)") }
        }
        let (_, report, output) = try await agent()
        #expect(report?.state == .inSync, "\(output)")
    }

    /// `docker version` from the test machine over mTLS with a client's certificate.
    func dockerVersion(as client: String) async throws -> CLI.Result {
        let dir = try fleet.dockerCertDirectory(client: client, in: certs)
        return try await CLI.run("/usr/bin/env", ["docker", "version", "--format", "{{.Server.Version}}"], environment: [
            "DOCKER_HOST": "tcp://\(Self.address):2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": dir,
        ], timeout: .seconds(60))
    }

    static let dropIn = "/etc/systemd/system/docker.service.d/50-berth.conf"

    /// The content-addressed file the drop-in names with `flag` (`--tlscert=` …).
    func named(_ flag: String) async throws -> String {
        let line = try await host.sh("grep -o -- '\(flag)[^ ]*' \(Self.dropIn)").trimmingCharacters(in: .whitespacesAndNewlines)
        return String(line.dropFirst(flag.count))
    }
}

@Suite("berth-agent on a real systemd + dockerd host", .serialized, .enabled(if: TestHost.available), .timeLimit(.minutes(15)))
struct AgentOnRealHostTests {
    func fixture() async throws -> AgentHostFixture { try await AgentHostFixture.shared.value }

    @Test("a fresh host asks for a certificate (a join token vouches), then converges and serves mTLS to authorized clients only")
    func freshHostConverges() async throws {
        let f = try await fixture()
        try f.setYAML(AgentHostFixture.yaml)
        try? FileManager.default.removeItem(atPath: f.fleet.directory.file("certs/web-1.pem"))
        try await f.host.sh("rm -rf /etc/docker/berth /var/lib/berth /etc/systemd/system/docker.service.d; systemctl daemon-reload; systemctl restart docker")
        let config = try TemporaryDirectory("berth-operator")
        let env = ["BERTH_CONFIG_HOME": config.path]
        let token = try await f.berthctl(["host", "token", "web-1"], environment: env).stdout
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix(JoinToken.prefix) }
        try await f.host.copy(try config.write("join-token", try #require(token) + "\n", mode: 0o600), to: "/etc/berth/join-token")

        let first = try await f.agent()
        #expect(first.status == 4, "\(first.output)")
        #expect(first.report?.state == .awaitingCertificate)
        let csr = try #require(first.report?.pendingCSR)
        #expect(csr.sans.contains("ip:\(AgentHostFixture.address)"))
        #expect(csr.joinMAC != nil, "the join token did not vouch for the CSR")
        #expect(try await f.host.sh("stat -c %a /var/lib/berth/keys/server-key.pem").hasPrefix("600"))
        #expect(!KeyMaterialSniffer.containsKeyMaterial(Array(try f.reports.read("web-1.json").utf8)), "the report holds a private key")

        let sign = try await CLI.run("berthctl", ["sign", "--all", "--reports", f.reports.path, "--ca-key", try f.caKey, "--repo", f.fleet.root], environment: env)
        #expect(sign.status == 0, "\(sign)")
        #expect(sign.stdout.contains("vouched for by a join token"), "\(sign)")
        let pidBefore = try await f.host.dockerdPID()
        let second = try await f.agent()
        #expect(second.status == 0, "\(second.output)")
        #expect(second.report?.state == .repaired)
        #expect(second.report?.actions.contains { $0.kind == .restart } == true)
        #expect(try await f.host.dockerdPID() != pidBefore)
        #expect(try await f.host.sh("cat \(AgentHostFixture.dropIn)").contains("-H tcp://0.0.0.0:2376"))
        #expect(second.report?.daemon?.listeners.allSatisfy { $0.result == .passed } == true, "\(String(describing: second.report?.daemon))")
        #expect(try await f.host.exec(["test", "-e", "/etc/berth/join-token"]).status != 0, "the host kept its used join token")

        // The restart started dockerd after the files were written: the next pass is a no-op.
        let third = try await f.agent()
        #expect(third.report?.state == .inSync, "a change cost a second restart: \(third.output)")

        let alice = try await f.dockerVersion(as: "alice")
        #expect(alice.status == 0, "\(alice)")
        #expect(alice.stdout.hasPrefix("20.10"))
        let ci = try await f.dockerVersion(as: "ci")
        #expect(ci.status != 0, "an unlisted client was let in: \(ci)")
    }

    @Test("a second pass changes nothing and does not restart dockerd")
    func secondPassIsNoOp() async throws {
        let f = try await fixture()
        try await f.converge()
        let pid = try await f.host.dockerdPID()
        let pass = try await f.agent()
        #expect(pass.status == 0)
        #expect(pass.report?.state == .inSync)
        #expect(pass.report?.actions.isEmpty == true, "\(String(describing: pass.report?.actions))")
        #expect(try await f.host.dockerdPID() == pid)
    }

    @Test("drift self-heals: a hand-edited drop-in, a deleted certificate, a world-readable key")
    func driftSelfHeals() async throws {
        let f = try await fixture()
        try await f.converge()
        let good = try await f.host.sh("cat \(AgentHostFixture.dropIn)")
        let cert = try await f.named("--tlscert="), key = try await f.named("--tlskey=")
        try await f.host.sh("sed -i 's|-H tcp://0.0.0.0:2376|-H tcp://0.0.0.0:2377|' \(AgentHostFixture.dropIn); rm \(cert); chmod 0644 \(key)")

        let plan = try await f.agent("plan")
        #expect(plan.status == 2, "\(plan.output)")
        #expect(plan.output.stdout.contains("+    -H tcp://0.0.0.0:2376 \\"), "\(plan.output.stdout)")
        #expect(try await f.host.sh("cat \(AgentHostFixture.dropIn)") != good, "plan changed the host")

        let pass = try await f.agent()
        #expect(pass.status == 0, "\(pass.output)")
        #expect(pass.report?.state == .repaired)
        let kinds = Set(pass.report?.drift.map(\.kind) ?? [])
        #expect(kinds.isSuperset(of: [.fileContent, .fileMissing, .fileMode]), "\(kinds)")
        #expect(try await f.host.sh("cat \(AgentHostFixture.dropIn)") == good)
        #expect(try await f.host.sh("stat -c %a \(key)").hasPrefix("600"))
        #expect(try await f.dockerVersion(as: "alice").status == 0)
    }

    @Test("a client revoked in the repository is locked out on the next pass; a newly added one gets in")
    func revocation() async throws {
        let f = try await fixture()
        try await f.converge()
        let aliceCert = try f.certs.write("alice-cert.pem", try f.fleet.directory.read("clients/alice.pem"))
        try await f.berthctl(["client", "revoke", "alice"])
        #expect(!f.fleet.directory.exists("clients/alice.pem"))
        let revoked = try await f.agent()
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(try await f.dockerVersion(as: "alice").status != 0, "revoked alice still connects")
        #expect(try await f.dockerVersion(as: "ci").status != 0, "ci was never authorized")
        let ciCert = try f.certs.write("ci-cert.pem", try f.fleet.directory.read("clients/ci.pem"))
        try FileManager.default.removeItem(atPath: f.fleet.directory.file("clients/ci.pem"))
        try await f.berthctl(["client", "add", "ci", "--cert", ciCert])
        try await f.berthctl(["client", "add", "alice", "--cert", aliceCert])
        let added = try await f.agent()
        #expect(added.status == 0, "\(added.output)")
        #expect(try await f.dockerVersion(as: "ci").status == 0, "a newly added client is refused")
        #expect(try await f.dockerVersion(as: "alice").status == 0)
        try await f.converge()
    }

    @Test("daemon.json with hosts, and -H in /etc/default/docker's DOCKER_OPTS, are refused before any restart with the file named")
    func conflictsOutsideBerth() async throws {
        let f = try await fixture()
        try await f.converge()
        let pid = try await f.host.dockerdPID()
        let changed = AgentHostFixture.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: always}\n  daemon: {labels: [env=prod]}")
        try f.setYAML(changed)
        let good = try await f.host.sh("cat \(AgentHostFixture.dropIn)")

        try await f.host.sh("echo '{\"hosts\": [\"unix:///var/run/docker.sock\"]}' > /etc/docker/daemon.json")
        let json = try await f.agent()
        #expect(json.status == 6, "\(json.output)")
        #expect(json.report?.state == .failed)
        #expect(json.report?.message.contains("daemon.json") == true)
        #expect(json.report?.drift.contains { $0.kind == .daemonJSONConflict } == true)
        try await f.host.sh("rm /etc/docker/daemon.json")

        try await f.host.sh("echo 'DOCKER_OPTS=\"-H tcp://0.0.0.0:2375\"' >> /etc/default/docker")
        let opts = try await f.agent()
        #expect(opts.status == 6, "\(opts.output)")
        let item = try #require(opts.report?.drift.first { $0.kind == .environmentConflict }, "\(opts.output)")
        #expect(item.object == "/etc/default/docker")
        #expect(item.reason.contains("DOCKER_OPTS sets -H tcp://0.0.0.0:2375"), "\(item.reason)")
        #expect(try await f.host.sh("cat \(AgentHostFixture.dropIn)") == good, "the host was changed")
        #expect(try await f.host.dockerdPID() == pid)
        #expect(try await f.dockerVersion(as: "alice").status == 0)
        try await f.converge()
    }

    @Test("an extra drop-in that resets ExecStart is reported as overriding ours")
    func overridingDropIn() async throws {
        let f = try await fixture()
        try await f.converge()
        try await f.host.sh("printf '[Service]\\nExecStart=\\nExecStart=/usr/sbin/dockerd -H fd://\\n' > /etc/systemd/system/docker.service.d/99-override.conf")
        let pass = try await f.agent()
        #expect(pass.status == 6, "\(pass.output)")
        let item = pass.report?.drift.first { $0.kind == .overridingDropIn }
        #expect(item?.object == "/etc/systemd/system/docker.service.d/99-override.conf")
        try await f.converge()
    }

    @Test("quarantine: a listener the host cannot bind costs one restart and one rollback across three passes; --retry tries again; a fix is applied")
    func quarantine() async throws {
        let f = try await fixture()
        try await f.converge()
        let good = try await f.host.sh("cat \(AgentHostFixture.dropIn)")
        // A listener on an address the host does not have: dockerd cannot bind it and exits.
        try f.setYAML(AgentHostFixture.yaml.replacingOccurrences(of: "listeners: [fd://, tcp://0.0.0.0:2376]", with: "listeners: [fd://, tcp://0.0.0.0:2376, tcp://10.255.255.1:2376]"))
        let started = Date()
        let first = try await f.agent()
        #expect(first.status == 5, "\(first.output)")
        #expect(first.report?.state == .rolledBack)
        #expect(first.report?.journal?.isEmpty == false)
        #expect(first.report?.actions.filter { $0.kind == .restart }.count == 2, "\(String(describing: first.report?.actions))")
        #expect(Date().timeIntervalSince(started) < 60, "the rollback took longer than 60 s")
        #expect(try await f.host.sh("systemctl is-active docker").hasPrefix("active"))
        #expect(try await f.host.sh("cat \(AgentHostFixture.dropIn)") == good)
        #expect(try await f.dockerVersion(as: "alice").status == 0)
        let pid = try await f.host.dockerdPID()

        for _ in 0..<2 {
            let held = try await f.agent()
            #expect(held.status == 5, "\(held.output)")
            #expect(held.report?.message.contains("failed verification and was rolled back") == true)
            #expect(held.report?.quarantine?.revision == first.report?.quarantine?.revision)
            #expect(held.report?.actions.contains { $0.kind == .restart } == false)
            #expect(try await f.host.dockerdPID() == pid, "a quarantined revision restarted dockerd")
        }
        let status = try await CLI.run("berthctl", ["status", "--reports", f.reports.path, "--repo", f.fleet.root])
        #expect(status.stdout.contains("quarantined"), "\(status)")

        let retried = try await f.agent("reconcile", ["--retry"])
        #expect(retried.report?.state == .rolledBack, "\(retried.output)")
        #expect(retried.report?.actions.filter { $0.kind == .restart }.count == 2)

        try f.setYAML(AgentHostFixture.yaml.replacingOccurrences(of: "listeners: [fd://, tcp://0.0.0.0:2376]", with: "listeners: [fd://, tcp://0.0.0.0:2376, tcp://0.0.0.0:2377]"))
        let fixed = try await f.agent()
        #expect(fixed.status == 0, "\(fixed.output)")
        #expect(fixed.report?.quarantine == nil)
        try await f.converge()
    }

    @Test("a start that hangs (a stuck ExecStartPre=) is rolled back within verifyTimeout plus a margin")
    func hungStart() async throws {
        let f = try await fixture()
        try await f.converge()
        // A hung unit, made from outside Berth: it hangs only for the new configuration.
        try await f.host.sh("""
            printf '[Service]\\nExecStartPre=/bin/sh -c "grep -q tier=hang \(AgentHostFixture.dropIn) && exec sleep infinity || true"\\n' \
              > /etc/systemd/system/docker.service.d/60-hang.conf
            systemctl daemon-reload
            """)
        try f.setYAML(AgentHostFixture.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: always}\n  daemon: {labels: [tier=hang]}"))
        let started = Date()
        let pass = try await f.agent(verifyTimeout: 20)
        let took = Date().timeIntervalSince(started)
        #expect(pass.status == 5, "\(pass.output)")
        #expect(pass.report?.error?.contains("did not finish starting within 20 s") == true, "\(String(describing: pass.report?.error))")
        #expect(took < 20 + 25, "the rollback of a hung start took \(Int(took)) s")
        #expect(try await f.host.sh("systemctl is-active docker").hasPrefix("active"))
        #expect(try await f.dockerVersion(as: "alice").status == 0)
        try await f.converge()
    }

    @Test("a restart deferred by when-safe into a bad set is rolled back in the later pass that makes it; an authorized client gets in")
    func deferredRestartRollsBack() async throws {
        let f = try await fixture()
        try await f.converge()
        try await f.host.sh("""
            docker image inspect berth-sleeper >/dev/null 2>&1 || \
              tar -C / -chf - usr/bin/sleep usr/lib/x86_64-linux-gnu/libc.so.6 lib64/ld-linux-x86-64.so.2 | docker import - berth-sleeper >/dev/null
            docker rm -f sleeper >/dev/null 2>&1 || true
            docker run -d --name sleeper berth-sleeper /usr/bin/sleep 3600 >/dev/null
            """)
        let good = try await f.host.sh("cat \(AgentHostFixture.dropIn)")
        let pid = try await f.host.dockerdPID()
        try f.setYAML(AgentHostFixture.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: when-safe}")
            .replacingOccurrences(of: "listeners: [fd://, tcp://0.0.0.0:2376]", with: "listeners: [fd://, tcp://0.0.0.0:2376, tcp://10.255.255.1:2376]"))
        let deferred = try await f.agent()
        #expect(deferred.status == 3, "\(deferred.output)")
        #expect(try await f.host.dockerdPID() == pid)
        #expect(try await f.host.sh("cat \(AgentHostFixture.dropIn)") != good)

        try await f.host.sh("docker rm -f sleeper >/dev/null")
        let later = try await f.agent()
        #expect(later.status == 5, "\(later.output)")
        #expect(later.report?.state == .rolledBack)
        #expect(try await f.host.sh("cat \(AgentHostFixture.dropIn)") == good)
        #expect(try await f.host.sh("systemctl is-active docker").hasPrefix("active"))
        #expect(try await f.dockerVersion(as: "alice").status == 0, "the previous set does not serve mTLS")
        try await f.converge()
    }

    @Test("restart.policy manual leaves dockerd running and reports pending-restart")
    func manualPolicy() async throws {
        let f = try await fixture()
        try await f.converge()
        let pid = try await f.host.dockerdPID()
        try f.setYAML(AgentHostFixture.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: manual}\n  daemon: {labels: [tier=web]}"))
        let pass = try await f.agent()
        #expect(pass.status == 3, "\(pass.output)")
        #expect(pass.report?.state == .pendingRestart)
        #expect(try await f.host.dockerdPID() == pid)
        let again = try await f.agent()
        #expect(again.report?.state == .pendingRestart, "a deferred restart must stay pending on the next pass")
        try await f.converge()
    }

    @Test("when-safe with a running container: pending-restart while live-restore is off; restarts with it on and the container survives")
    func whenSafeWithContainer() async throws {
        let f = try await fixture()
        try await f.converge()
        try await f.host.sh("""
            docker image inspect berth-sleeper >/dev/null 2>&1 || \
              tar -C / -chf - usr/bin/sleep usr/lib/x86_64-linux-gnu/libc.so.6 lib64/ld-linux-x86-64.so.2 | docker import - berth-sleeper >/dev/null
            docker rm -f sleeper >/dev/null 2>&1 || true
            docker run -d --name sleeper berth-sleeper /usr/bin/sleep 3600 >/dev/null
            """)
        let pid = try await f.host.dockerdPID()
        let whenSafe = AgentHostFixture.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: when-safe}\n  daemon: {labels: [tier=web]}")
        try f.setYAML(whenSafe)
        let deferred = try await f.agent()
        #expect(deferred.status == 3, "\(deferred.output)")
        #expect(deferred.report?.state == .pendingRestart)
        #expect(deferred.report?.daemon?.containersRunning == 1)
        #expect(try await f.host.dockerdPID() == pid)
        #expect(try await f.host.sh("docker inspect -f '{{.State.Running}}' sleeper").hasPrefix("true"))

        // Turn live-restore on (a restart by hand, before the container runs again).
        try await f.host.sh("echo '{\"live-restore\": true}' > /etc/docker/daemon.json; systemctl restart docker; docker start sleeper >/dev/null")
        let containerPID = try await f.host.sh("docker inspect -f '{{.State.Pid}}' sleeper")
        try f.setYAML(whenSafe.replacingOccurrences(of: "tier=web", with: "tier=web2"))
        let restarted = try await f.agent()
        #expect(restarted.status == 0, "\(restarted.output)")
        #expect(restarted.report?.actions.contains { $0.kind == .restart && $0.reason.contains("live-restore") } == true)
        #expect(try await f.host.sh("docker inspect -f '{{.State.Running}}' sleeper").hasPrefix("true"))
        #expect(try await f.host.sh("docker inspect -f '{{.State.Pid}}' sleeper") == containerPID, "the container must keep running through the restart")
        _ = try? await f.host.sh("docker rm -f sleeper >/dev/null 2>&1; rm -f /etc/docker/daemon.json; systemctl restart docker")
        try await f.converge()
    }

    @Test("a private key copied over the certificate or pasted into the client bundle never leaves the host in a report")
    func keyLeak() async throws {
        let f = try await fixture()
        try await f.converge()
        let cert = try await f.named("--tlscert="), key = try await f.named("--tlskey="), bundle = try await f.named("--tlscacert=")
        let keyText = try await f.host.sh("cat \(key)")
        try await f.host.sh("cp \(key) \(cert); cat \(key) >> \(bundle)")
        let pass = try await f.agent()
        #expect(pass.report?.state == .repaired, "\(pass.output)")
        let body = keyText.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let ref = try await CLI.run("/usr/bin/git", ["-C", f.status.path, "show", "refs/berth/status/web-1:web-1.json"])
        #expect(ref.status == 0, "\(ref)")
        let local = try await f.host.sh("cat /var/lib/berth/last-report.json")
        for (name, text) in [("report directory", try f.reports.read("web-1.json")), ("pushed ref", ref.stdout), ("local copy", local)] {
            #expect(!text.contains("PRIVATE KEY"), "\(name) holds a PEM private key")
            #expect(!text.contains(body.prefix(40)), "\(name) holds the key's DER")
            #expect(!KeyMaterialSniffer.containsKeyMaterial(Array(text.utf8)), "\(name) holds key material")
        }
        #expect(try await f.dockerVersion(as: "alice").status == 0)
    }

    @Test("berth-agent.path follows the state: checkout agent.yaml names (the generator), and a change there starts a pass")
    func pathUnitFollowsState() async throws {
        let f = try await fixture()
        try await f.converge()
        for unit in ["berth-agent.service", "berth-agent.path"] {
            try await f.host.copy("\(CLI.packageRoot)/systemd/\(unit)", to: "/etc/systemd/system/\(unit)")
        }
        try await f.host.copy("\(CLI.packageRoot)/systemd/berth-agent-generator", to: "/etc/systemd/system-generators/berth-agent-generator")
        let config = try f.certs.write("agent.yaml", "host: web-1\nstate: /srv/fleet\nreportDir: /srv/reports\nverifyTimeout: 40s\n")
        try await f.host.copy(config, to: "/etc/berth/agent.yaml")
        // The unit's sandbox writes only Berth's own paths; the report directory needs a drop-in.
        try await f.host.copy(try f.certs.write("report-dir.conf", "[Service]\nReadWritePaths=/srv/reports\n"),
                              to: "/etc/systemd/system/berth-agent.service.d/report-dir.conf")
        try await f.host.sh("systemctl daemon-reload; systemctl start berth-agent.path")
        let unit = try await f.host.sh("systemctl cat berth-agent.path")
        #expect(unit.contains("PathChanged=/srv/fleet/fleet.yaml") && unit.contains("PathModified=/srv/fleet/clients"), "\(unit)")
        let before = try #require(FileManager.default.contents(atPath: f.reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) })
        try await Task.sleep(for: .seconds(1.1))
        try f.setYAML(AgentHostFixture.yaml + "# touched\n")
        let deadline = Date().addingTimeInterval(30)
        var after: ReconcileReport?
        while Date() < deadline {
            after = FileManager.default.contents(atPath: f.reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
            if let after, after.time > before.time { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let journal = try await f.host.sh("journalctl -u berth-agent -n 20 --no-pager")
        try await f.host.sh("systemctl stop berth-agent.path; rm -f /etc/berth/agent.yaml /etc/systemd/system-generators/berth-agent-generator; systemctl daemon-reload")
        #expect(after.map { $0.time > before.time } == true, "no pass after fleet.yaml changed: \(journal)")
        #expect(after?.state == .inSync)
    }
}
