import BerthCore
import BerthPKI
import Foundation
import Testing
import TestSupport

/// One booted systemd + dockerd host for the lifecycle scenarios: its fleet repository is a Git
/// checkout (bind-mounted at /srv/fleet), committed to as an operator would; reports go to
/// /srv/reports and /srv/status.git. Each scenario starts from a converged host serving mTLS on
/// TCP and leaves one behind.
final class LifecycleHostFixture: @unchecked Sendable {
    static let address = "10.231.60.2"
    static let yaml = FleetFixtures.scratchFleet(hosts: ["web-1": "[\(address)]", "web-2": "[10.231.60.6]"])
    static let dropIn = "/etc/systemd/system/docker.service.d/50-berth.conf"

    let fleet: TestFleet
    let reports: TemporaryDirectory
    let work: TemporaryDirectory
    let status: TemporaryDirectory
    let host: TestHost

    static let shared = Task { try await LifecycleHostFixture() }

    init() async throws {
        fleet = try TestFleet(yaml: Self.yaml, clients: ["alice"])
        reports = try TemporaryDirectory("berth-reports")
        work = try TemporaryDirectory("berth-lifecycle")
        status = try TemporaryDirectory("berth-status-repo")
        try await CLI.gitCommitAll(fleet.root, "fleet")
        try await CLI.git(status.path, "init", "-q", "--bare")
        host = try await TestHost(name: "berth-life-1", network: ("10.231.60.1/30", "\(Self.address)/30"),
                                  binds: ["\(fleet.root):/srv/fleet", "\(reports.path):/srv/reports", "\(status.path):/srv/status.git"])
    }

    /// Writes fleet.yaml and commits it (and whatever else changed), as an operator would.
    func commit(_ message: String, yaml: String? = nil) async throws {
        if let yaml { try fleet.write("fleet.yaml", yaml) }
        try await CLI.git(fleet.root, "add", "-A")
        if try await CLI.git(fleet.root, "status", "--porcelain").isEmpty { return }
        try await CLI.git(fleet.root, "commit", "-qm", message)
    }

    var report: ReconcileReport? {
        FileManager.default.contents(atPath: reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
    }

    /// One agent command inside the host: its exit status, the report it left, what it printed.
    @discardableResult
    func agent(_ command: String = "reconcile", _ extra: [String] = []) async throws -> (status: Int32, report: ReconcileReport?, output: CLI.Result) {
        let result = try await host.exec(["berth-agent", command, "--state", "/srv/fleet", "--report-dir", "/srv/reports", "--host", "web-1",
                                          "--report-git", "--report-repo", "/srv/status.git", "--verify-timeout", "40"] + extra)
        return (result.status, report, result)
    }

    /// `berthctl` on the fixture's repository.
    func berthctl(_ args: [String]) async throws -> CLI.Result {
        try await CLI.run("berthctl", args + ["--repo", fleet.root], environment: CLI.gitIdentity)
    }

    /// Signs the CSR the last report carries with `berthctl sign`, vouched for by its fingerprint, and commits.
    func signPendingCSR() async throws {
        let csr = try #require(report?.pendingCSR, "no pending CSR: \(String(describing: report?.message))")
        let key = try work.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600)
        let sign = try await berthctl(["sign", "web-1", "--reports", reports.path, "--fingerprint", csr.sha256, "--ca-key", key])
        #expect(sign.status == 0, "\(sign)")
        try await commit("certificate for web-1")
    }

    /// Brings the host to in-sync with ``yaml`` (web-1 declared, not retired), signing a CSR when
    /// one is pending (after `host rm` took its certificate away).
    func converge() async throws {
        try await commit("web-1 in service", yaml: Self.yaml)
        for _ in 0..<4 {
            let (status, report, output) = try await agent()
            if report?.state == .awaitingCertificate || (report?.pendingCSR != nil && !fleet.directory.exists("certs/web-1.pem")) {
                try await signPendingCSR()
                continue
            }
            if status == 0 && report?.state == .inSync { return }
            if status != 0 { Issue.record("converge: \(output)") }
        }
        let (_, report, output) = try await agent()
        #expect(report?.state == .inSync, "\(output)")
    }

    /// `docker version` from the test machine over TCP with alice's certificate.
    func dockerOverTCP() async throws -> CLI.Result {
        let dir = try fleet.dockerCertDirectory(client: "alice", in: work)
        return try await CLI.run("/usr/bin/env", ["docker", "version", "--format", "{{.Server.Version}}"], environment: [
            "DOCKER_HOST": "tcp://\(Self.address):2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": dir,
        ], timeout: .seconds(60))
    }

    /// Whether anything accepts a TCP connection on the host's port 2376, asked from the test machine.
    func tcpPortOpen() async throws -> Bool {
        let probe = try await CLI.run("/usr/bin/timeout", ["10", "bash", "-c", "exec 3<>/dev/tcp/\(Self.address)/2376"])
        return probe.status == 0
    }

    func exists(_ path: String) async throws -> Bool {
        try await host.exec(["test", "-e", path]).status == 0
    }

    /// Berth's TLS files on the host (`/etc/docker/berth`), by name.
    func berthTLSFiles() async throws -> [String] {
        try await host.sh("ls -A /etc/docker/berth 2>/dev/null || true").split(separator: "\n").map(String.init).filter(HostLayout.isBerthTLSFile)
    }
}

@Suite("the host lifecycle on a real systemd + dockerd host: retiring, and a host missing from fleet.yaml",
       .serialized, .enabled(if: TestHost.available), .timeLimit(.minutes(15)))
struct LifecycleOnRealHostTests {
    func fixture() async throws -> LifecycleHostFixture { try await LifecycleHostFixture.shared.value }

    @Test("retire: the drop-in and TLS files go, dockerd restarts on its packaged configuration (unix socket, no TCP), the report says retired; then only reports; then host rm")
    func retire() async throws {
        let f = try await fixture()
        try await f.converge()
        #expect(try await f.dockerOverTCP().status == 0, "the converged host does not serve mTLS")
        let tlsFiles = try await f.berthTLSFiles()
        #expect(tlsFiles.count >= 4, "\(tlsFiles)")
        let managedPID = try await f.host.dockerdPID()

        let retire = try await f.berthctl(["host", "retire", "web-1"])
        #expect(retire.status == 0, "\(retire)")
        try await f.commit("retire web-1")
        let early = try await f.berthctl(["host", "rm", "web-1", "--reports", f.reports.path])
        #expect(early.status == 1, "host rm before the host reported retired: \(early)")
        #expect(early.stderr.contains("not retired"), "\(early)")
        #expect(try f.fleet.directory.read("fleet.yaml").contains("retired: true"))

        let plan = try await f.agent("plan")
        #expect(plan.status == 2, "\(plan.output)")
        #expect(plan.output.stdout.contains("would remove \(LifecycleHostFixture.dropIn)"), "\(plan.output.stdout)")
        #expect(try await f.exists(LifecycleHostFixture.dropIn), "plan changed the host")

        let pass = try await f.agent()
        #expect(pass.status == 0, "\(pass.output)")
        let report = try #require(pass.report)
        #expect(report.state == .retired, "\(pass.output)")
        #expect(report.message.contains("berthctl host rm web-1"), "\(report.message)")
        let removed = Set(report.actions.filter { $0.kind == .remove }.map(\.object))
        #expect(removed.isSuperset(of: [LifecycleHostFixture.dropIn] + tlsFiles.map { "/etc/docker/berth/\($0)" }), "\(report.actions)")
        #expect(report.actions.contains { $0.kind == .restart }, "\(report.actions)")
        #expect(report.daemon?.listeners.map(\.url) == ["unix://\(HostLayout.dockerSocket)"], "\(String(describing: report.daemon))")
        #expect(report.daemon?.listeners.allSatisfy { $0.result == .passed } == true)
        let signature = try ReportSignature.parse(try f.reports.read("web-1.json.sig"))
        #expect(signature.verify(Array(try f.reports.read("web-1.json").utf8), certificatePEM: try f.fleet.directory.read("certs/web-1.pem")) == .valid)

        // The host: Berth's files gone, dockerd restarted on the packaged unit alone.
        #expect(try await !f.exists(LifecycleHostFixture.dropIn))
        let leftTLS = try await f.berthTLSFiles()
        #expect(leftTLS.isEmpty, "TLS files left: \(leftTLS)")
        let retiredPID = try await f.host.dockerdPID()
        #expect(retiredPID != managedPID, "dockerd was not restarted")
        let unit = try await f.host.sh("systemctl show docker -p DropInPaths -p ExecStart --no-pager")
        #expect(!unit.contains("50-berth.conf"), "\(unit)")
        let command = try await f.host.sh("tr '\\0' ' ' < /proc/\(retiredPID)/cmdline")
        #expect(command.hasPrefix("/usr/sbin/dockerd -H fd://"), "\(command)")
        #expect(!command.contains("tcp://") && !command.contains("--tls"), "dockerd still runs Berth's configuration: \(command)")
        let version = try await f.host.exec(["docker", "-H", "unix:///var/run/docker.sock", "version", "--format", "{{.Server.Version}}"])
        #expect(version.status == 0 && version.stdout.hasPrefix("20.10"), "the docker client over the unix socket: \(version)")
        #expect(try await !f.tcpPortOpen(), "something still listens on tcp 2376")
        #expect(try await f.dockerOverTCP().status != 0)
        #expect(try await f.exists("/var/lib/berth/retired.json"))
        #expect(try await f.exists("/var/lib/berth/keys/server-key.pem"), "the host key signs the retired reports; it stays")

        // From now on the agent only reports: nothing changes, dockerd is not touched.
        let again = try await f.agent()
        #expect(again.status == 0, "\(again.output)")
        #expect(again.report?.state == .retired)
        #expect(again.report?.actions.isEmpty == true, "\(String(describing: again.report?.actions))")
        #expect(try await f.host.dockerdPID() == retiredPID, "a retired host's agent restarted dockerd")
        let status = try await f.berthctl(["status", "web-1", "--reports", f.reports.path])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("retired"), "\(status)")
        let history = try await f.berthctl(["status", "web-1", "--history", "--reports", f.reports.path])
        #expect(history.stdout.split(separator: "\n").contains { $0.contains("in-sync → retired") }, "\(history)")

        let rm = try await f.berthctl(["host", "rm", "web-1", "--reports", f.reports.path])
        #expect(rm.status == 0, "\(rm)")
        #expect(!f.fleet.directory.exists("certs/web-1.pem"))
        #expect(try FleetParser.parse(try f.fleet.directory.read("fleet.yaml"), file: "fleet.yaml").spec?.host(named: "web-1") == nil)
        try await f.commit("remove web-1")
        let removedPass = try await f.agent()
        #expect(removedPass.status == 0, "\(removedPass.output)")
        #expect(removedPass.report?.state == .retired)
        #expect(removedPass.report?.message.contains("no longer in fleet.yaml") == true, "\(String(describing: removedPass.report?.message))")
        #expect(try await f.host.dockerdPID() == retiredPID)

        // Back into service: declared again, it asks for a certificate and converges.
        try await f.converge()
        #expect(try await f.dockerOverTCP().status == 0)
    }

    @Test("a host simply removed from fleet.yaml is not wiped: the drop-in stays, dockerd is untouched and serves mTLS, and the report says why")
    func missingHostIsNotWiped() async throws {
        let f = try await fixture()
        try await f.converge()
        let dropIn = try await f.host.sh("cat \(LifecycleHostFixture.dropIn)")
        let tlsFiles = try await f.berthTLSFiles()
        let pid = try await f.host.dockerdPID()

        try await f.commit("drop web-1", yaml: LifecycleHostFixture.yaml.replacingOccurrences(of: "  web-1:\n    addresses: [\(LifecycleHostFixture.address)]\n", with: ""))
        for _ in 0..<2 {
            let pass = try await f.agent()
            #expect(pass.status == 7, "\(pass.output)")
            let report = try #require(pass.report)
            #expect(report.state == .invalidState)
            #expect(report.message.contains("web-1 is not in fleet.yaml"), "\(report.message)")
            #expect(report.message.contains("never torn down"), "\(report.message)")
            #expect(report.message.contains("berthctl host retire web-1"), "\(report.message)")
            #expect(report.error?.contains("known hosts: web-2") == true, "\(String(describing: report.error))")
            #expect(report.actions.isEmpty, "\(report.actions)")
            #expect(try await f.host.sh("cat \(LifecycleHostFixture.dropIn)") == dropIn)
            #expect(try await f.berthTLSFiles() == tlsFiles)
            #expect(try await f.host.dockerdPID() == pid, "dockerd was restarted")
            #expect(try await f.dockerOverTCP().status == 0, "mTLS stopped serving")
        }
        try await f.converge()
    }
}
