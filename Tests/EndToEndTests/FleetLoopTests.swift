import BerthControl
import BerthCore
import Foundation
import Testing
import TestSupport

/// The whole loop on two real hosts: a fleet repository with a bare remote (bind-mounted into
/// both hosts at /srv/fleet.git), agents started by the shipped systemd timer with
/// `/etc/berth/agent.yaml` (`repo`, `reportDir` and `reportGit` at once; an unsigned fleet, so
/// `allowUnsigned: true`), first certificates vouched for by join tokens, `berthctl sign` taking
/// the CSRs from the status refs, and `berthctl status` reading both report sources.
final class TwoHostFleet: @unchecked Sendable {
    static let hosts = [(name: "web-a", net: ("10.231.20.1/30", "10.231.20.2/30"), address: "10.231.20.2"),
                        (name: "web-b", net: ("10.231.21.1/30", "10.231.21.2/30"), address: "10.231.21.2")]
    /// Seconds between passes: a host is stale after three of them without a report.
    static let interval = 4
    static let yaml = """
        apiVersion: berth/v1
        fleet: prod
        defaults:
          listeners: [fd://, tcp://0.0.0.0:2376]
          clients: [alice]
          restart: {policy: always}
        hosts:
          web-a:
            addresses: [10.231.20.2]
          web-b:
            addresses: [10.231.21.2]

        """

    let work: TemporaryDirectory
    let fleet: TestFleet
    let certs: TemporaryDirectory
    var hosts: [String: TestHost] = [:]
    var bare: String { work.file("fleet.git") }
    var reports: String { work.file("reports") }

    init() async throws {
        work = try TemporaryDirectory("berth-loop")
        certs = try TemporaryDirectory("berth-loop-certs")
        fleet = try TestFleet(yaml: Self.yaml, clients: ["alice", "ci"])
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        try await CLI.gitCommitAll(fleet.root, "two hosts")
        try await check(CLI.run("/usr/bin/git", ["clone", "-q", "--bare", fleet.root, bare]))
        try await git("remote", "add", "origin", bare)
        try await git("push", "-q", "origin", "main")

        // Boot both at once: each boot is mostly waiting for dockerd inside.
        let (bare, reports) = (self.bare, self.reports)
        hosts = try await withThrowingTaskGroup(of: (String, TestHost).self) { group in
            for h in Self.hosts {
                group.addTask {
                    (h.name, try await TestHost(name: "berth-loop-\(h.name)", network: h.net, binds: ["\(bare):/srv/fleet.git", "\(reports):/srv/reports"]))
                }
            }
            var booted: [String: TestHost] = [:]
            for try await (name, host) in group { booted[name] = host }
            return booted
        }
        for h in Self.hosts { try await install(h.name) }
    }

    /// The units from systemd/ as `make install` puts them, and an agent.yaml for this host.
    func install(_ name: String) async throws {
        let host = hosts[name]!
        for unit in ["berth-agent.service", "berth-agent.timer", "berth-agent.path", "berth-agent-run.service"] {
            try await host.copy("\(CLI.packageRoot)/systemd/\(unit)", to: "/etc/systemd/system/\(unit)")
        }
        try work.write("agent-\(name).yaml", """
            host: \(name)
            repo: /srv/fleet.git
            branch: main
            reportDir: /srv/reports
            reportGit: true
            allowUnsigned: true
            interval: \(Self.interval)s
            verifyTimeout: 40s

            """)
        try await host.copy(work.file("agent-\(name).yaml"), to: "/etc/berth/agent.yaml")
        // The installer's part of a first certificate: the join token `berthctl host token` issued.
        let issued = try await berthctl(["host", "token", name])
        let token = try #require(issued.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("berth-join-") }, "\(issued)")
        try await host.copy(try work.write("token-\(name)", token + "\n", mode: 0o600), to: "/etc/berth/join-token")
        // Only the timer's pace changes for the test: a pass every few seconds instead of 5 minutes.
        try work.write("timer-\(name).conf", """
            [Timer]
            OnBootSec=
            OnActiveSec=1s
            OnUnitActiveSec=\(Self.interval)s
            RandomizedDelaySec=0
            AccuracySec=100ms

            """)
        try await host.copy(work.file("timer-\(name).conf"), to: "/etc/systemd/system/berth-agent.timer.d/test-pace.conf")
        // The sandboxed units write only Berth's own paths: the report directory and the local
        // repository reports are pushed to are opened up with a drop-in, as docs/operations.md says.
        try work.write("paths-\(name).conf", "[Service]\nReadWritePaths=/srv/reports /srv/fleet.git\n")
        try await host.copy(work.file("paths-\(name).conf"), to: "/etc/systemd/system/berth-agent.service.d/report-paths.conf")
        try await host.sh("systemctl daemon-reload")
    }

    @discardableResult
    func git(_ args: String...) async throws -> String {
        try await CLI.git(fleet.root, arguments: args)
    }

    @discardableResult
    func check(_ result: CLI.Result) throws -> CLI.Result {
        guard result.status == 0 else { throw HostError("\(result)") }
        return result
    }

    func berthctl(_ args: [String]) async throws -> CLI.Result {
        try await CLI.run("berthctl", args + ["--repo", fleet.root], environment: ["BERTH_CONFIG_HOME": work.file("config")])
    }

    func report(_ host: String) -> ReconcileReport? {
        FileManager.default.contents(atPath: "\(reports)/\(host).json").flatMap { try? ReconcileReport.decode(Array($0)) }
    }

    /// Waits until the host's report satisfies `condition`; fails with the last report otherwise.
    @discardableResult
    func waitForReport(_ host: String, within seconds: Double = 90, _ what: String, _ condition: (ReconcileReport) -> Bool) async throws -> ReconcileReport {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let report = report(host), condition(report) { return report }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw HostError("\(host): no report \(what) within \(Int(seconds)) s; last: \(report(host).map { "\($0.state.rawValue) \($0.message) \($0.error ?? "")" } ?? "none")")
    }

    /// The rows of `berthctl status --json`.
    func rows(_ result: CLI.Result) throws -> [FleetStatus.Row] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .berthUTC
        return try decoder.decode(FleetStatus.self, from: Data(result.stdout.utf8)).rows
    }

    func dockerVersion(_ host: String, as client: String) async throws -> CLI.Result {
        let dir = try fleet.dockerCertDirectory(client: client, in: certs)
        let address = Self.hosts.first { $0.name == host }!.address
        return try await CLI.run("/usr/bin/env", ["docker", "version", "--format", "{{.Server.Version}}"], environment: [
            "DOCKER_HOST": "tcp://\(address):2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": dir,
        ], timeout: .seconds(60))
    }
}

@Suite("the fleet loop on two real hosts: timer units, a bare remote, status in a directory and in refs",
       .serialized, .enabled(if: TestHost.available), .timeLimit(.minutes(10)))
struct FleetLoopTests {
    @Test("both hosts converge from a pushed commit; status shows in-sync, drift, stale and invalid-state truthfully")
    func twoHostsConverge() async throws {
        let f = try await TwoHostFleet()

        // The shipped units are valid as they are, inside a real systemd.
        for (name, host) in f.hosts {
            let verify = try await host.exec(["systemd-analyze", "verify", "/etc/systemd/system/berth-agent.service", "/etc/systemd/system/berth-agent.timer",
                                        "/etc/systemd/system/berth-agent.path", "/etc/systemd/system/berth-agent-run.service"])
            #expect(verify.status == 0 && !verify.stderr.contains("berth-agent"), "\(name): \(verify)")
        }

        // The timer starts the first passes: keys made on the hosts, CSRs in the reports.
        let started = Date()
        for host in f.hosts.values { try await host.sh("systemctl start berth-agent.timer") }
        let head0 = try await f.git("rev-parse", "HEAD")
        for h in TwoHostFleet.hosts {
            let first = try await f.waitForReport(h.name, "awaiting a certificate") { $0.state == .awaitingCertificate && $0.time >= started.addingTimeInterval(-1) }
            #expect(first.pendingCSR != nil)
            #expect(first.desiredRevision == head0)
            #expect(first.source.kind == .git)
            #expect(first.source.trust == .unsigned)
            #expect(first.pendingCSR?.joinMAC != nil, "the join token did not vouch for \(h.name)'s CSR")
        }

        // The operator signs from the status refs (no shared directory needed), commits, pushes.
        let sign = try await f.berthctl(["sign", "--all", "--ca-key", try f.work.write("ca-key.pem", f.fleet.caKeyPEM, mode: 0o600)])
        #expect(sign.status == 0, "\(sign)")
        #expect(sign.stdout.contains("web-a: CSR sha256") && sign.stdout.contains("web-b: CSR sha256"), "\(sign)")
        #expect(sign.stdout.components(separatedBy: "vouched for by a join token").count == 3, "\(sign)")
        try await f.git("add", "certs")
        try await f.git("commit", "-qm", "sign web-a and web-b")
        try await f.git("push", "-q", "origin", "main")
        let head1 = try await f.git("rev-parse", "HEAD")

        for h in TwoHostFleet.hosts {
            try await f.waitForReport(h.name, "in sync at \(head1.prefix(12))") { $0.state == .inSync && $0.appliedRevision == head1 }
        }
        let viaDirectory = try await f.berthctl(["status", "--reports", f.reports])
        #expect(viaDirectory.status == 0, "\(viaDirectory)")
        #expect(viaDirectory.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix("verified  unsigned") }, "\(viaDirectory)")
        let viaRefs = try await f.berthctl(["status", "--json"])
        #expect(viaRefs.status == 0, "\(viaRefs)")
        let rows = try f.rows(viaRefs)
        #expect(rows.map(\.state) == [.inSync, .inSync], "\(rows)")
        #expect(rows.allSatisfy { $0.appliedRevision == head1 })
        for h in TwoHostFleet.hosts {
            let alice = try await f.dockerVersion(h.name, as: "alice")
            #expect(alice.status == 0 && alice.stdout.hasPrefix("20.10"), "\(h.name): \(alice)")
            #expect(try await f.dockerVersion(h.name, as: "ci").status != 0, "\(h.name) let an unlisted client in")
        }

        // Drift on web-b, found and repaired by a pass; status shows what was found, with the diff.
        let b = f.hosts["web-b"]!
        try await b.sh("systemctl stop berth-agent.timer")
        // A pass the timer started may still run (and would read the drop-in before the edit).
        try await b.sh("while [ \"$(systemctl show -p ActiveState --value berth-agent.service)\" = activating ]; do sleep 0.2; done")
        try await b.sh("sed -i 's|-H tcp://0.0.0.0:2376|-H tcp://0.0.0.0:2377|' /etc/systemd/system/docker.service.d/50-berth.conf")
        try await b.sh("systemctl start berth-agent.service")
        let repaired = try #require(f.report("web-b"))
        #expect(repaired.state == .repaired, "\(repaired.message)")
        let drifted = try await f.berthctl(["status", "--reports", f.reports])
        #expect(drifted.status == 0, "a host repaired at the current commit is in sync: \(drifted)")
        let line = drifted.stdout.split(separator: "\n").first { $0.hasPrefix("web-b") }.map(String.init) ?? ""
        #expect(line.contains("repaired") && line.contains("file-content"), "\(drifted)")
        let detail = try await f.berthctl(["status", "web-b", "--reports", f.reports])
        #expect(detail.stdout.contains("-    -H tcp://0.0.0.0:2377 \\") && detail.stdout.contains("+    -H tcp://0.0.0.0:2376 \\"), "\(detail)")

        // web-b's agent is stopped: after three intervals without a report it is stale.
        let wait = repaired.time.addingTimeInterval(Double(3 * TwoHostFleet.interval) + 1.5).timeIntervalSinceNow
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
        let stale = try await f.berthctl(["status", "--reports", f.reports, "--json", "--stale-after", "\(3 * TwoHostFleet.interval)s"])
        #expect(stale.status == 1)
        let staleRows = try f.rows(stale)
        #expect(staleRows.first { $0.host == "web-b" }?.state == .stale, "\(staleRows)")
        #expect(staleRows.first { $0.host == "web-a" }?.state == .inSync, "\(staleRows)")
        try await b.sh("systemctl start berth-agent.timer")

        // An invalid entry for web-a: web-a refuses it and changes nothing; web-b applies the commit.
        let pidA = try await f.hosts["web-a"]!.dockerdPID()
        try f.fleet.write("fleet.yaml", TwoHostFleet.yaml.replacingOccurrences(of: "addresses: [10.231.20.2]", with: "addresses: [10.231.20.2]\n    listeners: [fd://, tcp://0.0.0.0]"))
        try await f.git("commit", "-qam", "a bad listener for web-a")
        try await f.git("push", "-q", "origin", "main")
        let head2 = try await f.git("rev-parse", "HEAD")
        let invalid = try await f.waitForReport("web-a", "invalid at \(head2.prefix(12))") { $0.state == .invalidState && $0.desiredRevision == head2 }
        #expect(invalid.error?.contains("hosts.web-a.listeners[1]") == true, "\(invalid.error ?? "")")
        #expect(invalid.appliedRevision == head1)
        try await f.waitForReport("web-b", "in sync at \(head2.prefix(12))") { $0.state == .inSync && $0.appliedRevision == head2 }
        #expect(try await f.hosts["web-a"]!.dockerdPID() == pidA)
        let mixed = try await f.berthctl(["status", "--reports", f.reports, "--json", "--stale-after", "\(3 * TwoHostFleet.interval)s"])
        #expect(mixed.status == 1)
        #expect(mixed.stderr.contains("fleet.yaml has 1 error; run `berthctl validate`"), "\(mixed)")
        #expect(f.report("web-b")?.warnings?.contains { $0.contains("hosts.web-a.listeners[1]") } == true, "web-b does not say it left web-a out")
        let mixedRows = try f.rows(mixed)
        #expect(mixedRows.first { $0.host == "web-a" }?.state == .invalidState, "\(mixedRows)")
        #expect(mixedRows.first { $0.host == "web-b" }?.state == .inSync, "\(mixedRows)")
    }
}
