import BerthCore
import Foundation
import Testing
import TestSupport

/// Power-cut safety, shown by the fault: the agent is killed with SIGKILL right after each change
/// it makes to the host's files during a pass (`scripts/killpoint.sh`: strace outside the
/// product), on first install, key rotation and client revocation. After every kill,
/// `systemctl restart docker` must bring dockerd up on a complete set, the old one or the new
/// one, and the next pass must converge.
@Suite("crash consistency on a real host: SIGKILL at every change of a pass", .serialized,
       .enabled(if: TestHost.available), .timeLimit(.minutes(25)))
struct CrashConsistencyTests {
    static let address = "10.231.14.2"
    static let yaml = """
        apiVersion: berth/v1
        fleet: prod
        defaults:
          listeners: [fd://, tcp://0.0.0.0:2376]
          clients: [alice, ci]
          restart: {policy: always}
        hosts:
          web-1:
            addresses: [\(address)]

        """
    static let managed = "/etc/docker/berth /etc/systemd/system/docker.service.d /var/lib/berth"
    static let dropIn = "/etc/systemd/system/docker.service.d/50-berth.conf"

    final class Bench: @unchecked Sendable {
        let fleet: TestFleet
        let reports: TemporaryDirectory
        let certs: TemporaryDirectory
        let host: TestHost
        var covered = 0

        init() async throws {
            fleet = try TestFleet(yaml: CrashConsistencyTests.yaml, clients: ["alice", "ci"])
            reports = try TemporaryDirectory("berth-crash-reports")
            certs = try TemporaryDirectory("berth-crash-certs")
            host = try await TestHost(name: "berth-e2e-crash", network: ("10.231.14.1/30", "\(CrashConsistencyTests.address)/30"),
                                      binds: ["\(fleet.root):/srv/fleet", "\(reports.path):/srv/reports"])
            try await host.copy("\(CLI.packageRoot)/scripts/killpoint.sh", to: "/usr/local/bin/killpoint")
            for client in ["alice"] {
                let dir = try fleet.dockerCertDirectory(client: client, in: certs)
                for file in ["ca.pem", "cert.pem", "key.pem"] { try await host.copy("\(dir)/\(file)", to: "/root/\(client)/\(file)") }
            }
        }

        static let pass = ["berth-agent", "reconcile", "--state", "/srv/fleet", "--report-dir", "/srv/reports", "--host", "web-1", "--verify-timeout", "40"]

        func agent(killAt n: Int? = nil) async throws -> CLI.Result {
            try await host.exec(n.map { ["killpoint", "\($0)"] + Self.pass } ?? Self.pass)
        }

        var report: ReconcileReport? {
            FileManager.default.contents(atPath: reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
        }

        /// Passes until in sync, signing a pending CSR with the fingerprint the host reports.
        func converge() async throws {
            for _ in 0..<4 {
                let r = try await agent()
                if r.status == 0, report?.state == .inSync { return }
                if let csr = report?.pendingCSR, report?.serverCertificate == nil || report?.state == .awaitingCertificate {
                    let key = try certs.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600)
                    let sign = try await CLI.run("berthctl", ["sign", "web-1", "--reports", reports.path, "--fingerprint", csr.sha256, "--ca-key", key, "--repo", fleet.root])
                    #expect(sign.status == 0, "\(sign)")
                }
            }
            let last = try await agent()
            #expect(report?.state == .inSync, "did not converge: \(last)")
        }

        func dropIn() async throws -> String {
            try await host.sh("cat \(CrashConsistencyTests.dropIn) 2>/dev/null || true")
        }

        /// dockerd, restarted on whatever is on disk now, serves: the unix socket answers, and when
        /// the drop-in has TLS, an authorized client completes the mTLS handshake (which fails if
        /// a certificate and its key do not match: dockerd would not even start).
        func servesAfterRestart(_ context: String) async throws {
            let restart = try await host.exec(["sh", "-c", "systemctl daemon-reload && systemctl restart docker && systemctl is-active docker"])
            if restart.status != 0 {
                let journal = (try? await host.sh("journalctl -u docker -n 15 --no-pager")) ?? ""
                Issue.record("\(context): dockerd does not start on the set on disk: \(restart)\n\(journal)")
            }
            #expect(try await host.exec(["docker", "version", "--format", "{{.Server.Version}}"]).status == 0, "\(context): no answer on the unix socket")
            if try await dropIn().contains("--tlsverify") {
                let ping = try await host.exec(["curl", "-sS", "--max-time", "10", "--cacert", "/root/alice/ca.pem", "--cert", "/root/alice/cert.pem",
                                                "--key", "/root/alice/key.pem", "https://\(CrashConsistencyTests.address):2376/_ping"])
                #expect(ping.stdout == "OK", "\(context): the TLS listener does not serve a consistent set: \(ping)")
            }
        }

        /// Kills a pass at each of its changes, from the state `snapshot` saved; checks each time.
        func killEverywhere(_ scenario: String) async throws {
            try await host.sh("tar -cpf /root/before.tar $(ls -d \(CrashConsistencyTests.managed) 2>/dev/null)")
            let before = try await dropIn()
            let total = try await host.exec(["killpoint", "0"] + Self.pass)
            let changes = Int(total.stdout.split(separator: "\n").last ?? "") ?? 0
            #expect(changes >= 3, "\(scenario): the pass made \(changes) changes: \(total)")
            let after = try await dropIn()
            #expect(after != before, "\(scenario): the pass changed nothing")
            for n in 1...max(changes, 1) {
                try await host.sh("rm -rf \(CrashConsistencyTests.managed) && tar -xpf /root/before.tar -C / && systemctl daemon-reload && systemctl restart docker")
                let killed = try await agent(killAt: n)
                #expect(killed.status == 137, "\(scenario), change \(n): the agent was not killed: \(killed)")
                let onDisk = try await dropIn()
                #expect(onDisk == before || onDisk == after, "\(scenario), change \(n): the drop-in is neither the old nor the new one")
                try await servesAfterRestart("\(scenario), killed after change \(n) (\(killed.stderr.split(separator: "\n").last ?? ""))")
                let next = try await agent()
                #expect(next.status == 0, "\(scenario), change \(n): the next pass did not converge: \(next)")
                #expect(try await dropIn() == after, "\(scenario), change \(n): the next pass did not reach the new set")
                covered += 1
            }
        }
    }

    @Test("first install, key rotation and client revocation, each killed after every change it makes")
    func killPoints() async throws {
        let bench = try await Bench()
        try await bench.converge()

        // First install: the host has its key and certificate, Berth's files are not there yet.
        try await bench.host.sh("""
            rm -rf /etc/docker/berth \(Self.dropIn) /var/lib/berth/last-known-good.json /var/lib/berth/written.json /var/lib/berth/quarantine.json
            systemctl daemon-reload && systemctl restart docker
            """)
        try await bench.killEverywhere("first install")
        try await bench.converge()

        // Client revocation: ci leaves the fleet.
        try bench.fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "clients: [alice, ci]", with: "clients: [alice]"))
        try await bench.killEverywhere("client revocation")
        try await bench.converge()

        // Key rotation: new addresses make the agent stage a key; its certificate is signed; the
        // pass that installs it promotes the key.
        try bench.fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "clients: [alice, ci]", with: "clients: [alice]")
            .replacingOccurrences(of: "addresses: [\(Self.address)]", with: "addresses: [\(Self.address), web-1.example.com]"))
        _ = try await bench.agent()
        let csr = try #require(bench.report?.pendingCSR, "no renewal CSR: \(String(describing: bench.report))")
        #expect(csr.sans.contains("dns:web-1.example.com"))
        let key = try bench.certs.write("ca-key.pem", bench.fleet.caKeyPEM, mode: 0o600)
        let sign = try await CLI.run("berthctl", ["sign", "web-1", "--reports", bench.reports.path, "--ca-key", key, "--repo", bench.fleet.root])
        #expect(sign.stdout.contains("vouched for by signed by the host's current certificate"), "\(sign)")
        try await bench.killEverywhere("key rotation")
        #expect(bench.report?.serverCertificate?.sans.contains("dns:web-1.example.com") == true)

        print("crash consistency: covered \(bench.covered) kill points (first install, client revocation, key rotation)")
        #expect(bench.covered >= 9)
    }
}
