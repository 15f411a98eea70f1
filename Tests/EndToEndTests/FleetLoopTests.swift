import BerthAgent
import BerthCore
import Foundation
import Testing
import TestSupport

/// The whole loop on two real hosts: a fleet repository with a bare remote (bind-mounted into
/// both hosts at /srv/fleet.git), agents started by the shipped systemd timer with
/// `/etc/berth/agent.yaml` (`repo`, `reportDir` and `reportGit` at once), `berthctl sign` taking
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

    init() throws {
        work = try TemporaryDirectory("berth-loop")
        certs = try TemporaryDirectory("berth-loop-certs")
        fleet = try TestFleet(yaml: Self.yaml, clients: ["alice", "ci"])
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        try CLI.gitCommitAll(fleet.root, "two hosts")
        try check(CLI.run("/usr/bin/git", ["clone", "-q", "--bare", fleet.root, bare]))
        try git("remote", "add", "origin", bare)
        try git("push", "-q", "origin", "main")

        // Boot both at once: each boot is mostly waiting for dockerd inside.
        let lock = NSLock()
        nonisolated(unsafe) var booted: [String: TestHost] = [:]
        nonisolated(unsafe) var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: Self.hosts.count) { i in
            let h = Self.hosts[i]
            do {
                let host = try TestHost(name: "berth-loop-\(h.name)", network: h.net,
                                        binds: ["\(bare):/srv/fleet.git", "\(reports):/srv/reports"])
                lock.withLock { booted[h.name] = host }
            } catch {
                lock.withLock { failures.append("\(error)") }
            }
        }
        hosts = booted
        guard failures.isEmpty else { throw HostError(failures.joined(separator: "\n")) }
        for h in Self.hosts { try install(h.name) }
    }

    /// The units from systemd/ as `make install` puts them, and an agent.yaml for this host.
    func install(_ name: String) throws {
        let host = hosts[name]!
        for unit in ["berth-agent.service", "berth-agent.timer", "berth-agent.path", "berth-agent-run.service"] {
            try host.copy("\(CLI.packageRoot)/systemd/\(unit)", to: "/etc/systemd/system/\(unit)")
        }
        try work.write("agent-\(name).yaml", """
            host: \(name)
            repo: /srv/fleet.git
            branch: main
            reportDir: /srv/reports
            reportGit: true
            interval: \(Self.interval)s
            verifyTimeout: 40s

            """)
        try host.copy(work.file("agent-\(name).yaml"), to: "/etc/berth/agent.yaml")
        // Only the timer's pace changes for the test: a pass every few seconds instead of 5 minutes.
        try work.write("timer-\(name).conf", """
            [Timer]
            OnBootSec=
            OnActiveSec=1s
            OnUnitActiveSec=\(Self.interval)s
            RandomizedDelaySec=0
            AccuracySec=100ms

            """)
        try host.copy(work.file("timer-\(name).conf"), to: "/etc/systemd/system/berth-agent.timer.d/test-pace.conf")
        try host.sh("systemctl daemon-reload")
    }

    @discardableResult
    func git(_ args: String...) throws -> String {
        try CLI.git(fleet.root, arguments: args)
    }

    @discardableResult
    func check(_ result: CLI.Result) throws -> CLI.Result {
        guard result.status == 0 else { throw HostError("\(result)") }
        return result
    }

    func berthctl(_ args: [String]) throws -> CLI.Result {
        try CLI.run("berthctl", args + ["--repo", fleet.root])
    }

    func report(_ host: String) -> ReconcileReport? {
        FileManager.default.contents(atPath: "\(reports)/\(host).json").flatMap { try? ReconcileReport.decode(Array($0)) }
    }

    /// Waits until the host's report satisfies `condition`; fails with the last report otherwise.
    @discardableResult
    func waitForReport(_ host: String, within seconds: Double = 90, _ what: String, _ condition: (ReconcileReport) -> Bool) throws -> ReconcileReport {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let report = report(host), condition(report) { return report }
            Thread.sleep(forTimeInterval: 0.5)
        }
        throw HostError("\(host): no report \(what) within \(Int(seconds)) s; last: \(report(host).map { "\($0.state.rawValue) \($0.message) \($0.error ?? "")" } ?? "none")")
    }

    /// The rows of `berthctl status --json`.
    func rows(_ result: CLI.Result) throws -> [FleetStatus.Row] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .berthUTC
        return try decoder.decode(FleetStatus.self, from: Data(result.stdout.utf8)).rows
    }

    func dockerVersion(_ host: String, as client: String) throws -> CLI.Result {
        let dir = try fleet.dockerCertDirectory(client: client, in: certs)
        let address = Self.hosts.first { $0.name == host }!.address
        return try CLI.run("/usr/bin/env", ["docker", "version", "--format", "{{.Server.Version}}"], environment: [
            "DOCKER_HOST": "tcp://\(address):2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": dir,
        ], timeout: 60)
    }
}

@Suite("the fleet loop on two real hosts: timer units, a bare remote, status in a directory and in refs",
       .serialized, .enabled(if: TestHost.available), .timeLimit(.minutes(10)))
struct FleetLoopTests {
    @Test("both hosts converge from a pushed commit; status shows in-sync, drift, stale and invalid-state truthfully")
    func twoHostsConverge() throws {
        let f = try TwoHostFleet()
        defer { for host in f.hosts.values { host.stop() } }

        // The shipped units are valid as they are, inside a real systemd.
        for (name, host) in f.hosts {
            let verify = try host.exec(["systemd-analyze", "verify", "/etc/systemd/system/berth-agent.service", "/etc/systemd/system/berth-agent.timer",
                                        "/etc/systemd/system/berth-agent.path", "/etc/systemd/system/berth-agent-run.service"])
            #expect(verify.status == 0 && !verify.stderr.contains("berth-agent"), "\(name): \(verify)")
        }

        // The timer starts the first passes: keys made on the hosts, CSRs in the reports.
        let started = Date()
        for host in f.hosts.values { try host.sh("systemctl start berth-agent.timer") }
        let head0 = try f.git("rev-parse", "HEAD")
        for h in TwoHostFleet.hosts {
            let first = try f.waitForReport(h.name, "awaiting a certificate") { $0.state == .awaitingCertificate && $0.time >= started.addingTimeInterval(-1) }
            #expect(first.pendingCSR != nil)
            #expect(first.desiredRevision == head0)
            #expect(first.source.kind == "git")
        }

        // The operator signs from the status refs (no shared directory needed), commits, pushes.
        let sign = try f.berthctl(["sign", "--all", "--ca-key", try f.work.write("ca-key.pem", f.fleet.caKeyPEM, mode: 0o600)])
        #expect(sign.status == 0, "\(sign)")
        #expect(sign.stdout.contains("web-a: CSR sha256") && sign.stdout.contains("web-b: CSR sha256"), "\(sign)")
        try f.git("add", "certs")
        try f.git("commit", "-qm", "sign web-a and web-b")
        try f.git("push", "-q", "origin", "main")
        let head1 = try f.git("rev-parse", "HEAD")

        for h in TwoHostFleet.hosts {
            try f.waitForReport(h.name, "in sync at \(head1.prefix(12))") { $0.state == .inSync && $0.appliedRevision == head1 }
        }
        let viaDirectory = try f.berthctl(["status", "--reports", f.reports])
        #expect(viaDirectory.status == 0, "\(viaDirectory)")
        let viaRefs = try f.berthctl(["status", "--json"])
        #expect(viaRefs.status == 0, "\(viaRefs)")
        let rows = try f.rows(viaRefs)
        #expect(rows.map(\.state) == [.inSync, .inSync], "\(rows)")
        #expect(rows.allSatisfy { $0.appliedRevision == head1 })
        for h in TwoHostFleet.hosts {
            let alice = try f.dockerVersion(h.name, as: "alice")
            #expect(alice.status == 0 && alice.stdout.hasPrefix("20.10"), "\(h.name): \(alice)")
            #expect(try f.dockerVersion(h.name, as: "ci").status != 0, "\(h.name) let an unlisted client in")
        }

        // Drift on web-b, found and repaired by a pass; status shows what was found, with the diff.
        let b = f.hosts["web-b"]!
        try b.sh("systemctl stop berth-agent.timer")
        // A pass the timer started may still run (and would read the drop-in before the edit).
        try b.sh("while [ \"$(systemctl show -p ActiveState --value berth-agent.service)\" = activating ]; do sleep 0.2; done")
        try b.sh("sed -i 's|-H tcp://0.0.0.0:2376|-H tcp://0.0.0.0:2377|' /etc/systemd/system/docker.service.d/50-berth.conf")
        try b.sh("systemctl start berth-agent.service")
        let repaired = try #require(f.report("web-b"))
        #expect(repaired.state == .repaired, "\(repaired.message)")
        let drifted = try f.berthctl(["status", "--reports", f.reports])
        #expect(drifted.status == 0, "a host repaired at the current commit is in sync: \(drifted)")
        let line = drifted.stdout.split(separator: "\n").first { $0.hasPrefix("web-b") }.map(String.init) ?? ""
        #expect(line.contains("repaired") && line.contains("file-content"), "\(drifted)")
        let detail = try f.berthctl(["status", "web-b", "--reports", f.reports])
        #expect(detail.stdout.contains("-    -H tcp://0.0.0.0:2377 \\") && detail.stdout.contains("+    -H tcp://0.0.0.0:2376 \\"), "\(detail)")

        // web-b's agent is stopped: after three intervals without a report it is stale.
        Thread.sleep(until: repaired.time.addingTimeInterval(Double(3 * TwoHostFleet.interval) + 1.5))
        let stale = try f.berthctl(["status", "--reports", f.reports, "--json"])
        #expect(stale.status == 1)
        let staleRows = try f.rows(stale)
        #expect(staleRows.first { $0.host == "web-b" }?.state == .stale, "\(staleRows)")
        #expect(staleRows.first { $0.host == "web-a" }?.state == .inSync, "\(staleRows)")
        try b.sh("systemctl start berth-agent.timer")

        // An invalid entry for web-a: web-a refuses it and changes nothing; web-b applies the commit.
        let pidA = try f.hosts["web-a"]!.dockerdPID()
        try f.fleet.write("fleet.yaml", TwoHostFleet.yaml.replacingOccurrences(of: "addresses: [10.231.20.2]", with: "addresses: [10.231.20.2]\n    listeners: [fd://, tcp://0.0.0.0]"))
        try f.git("commit", "-qam", "a bad listener for web-a")
        try f.git("push", "-q", "origin", "main")
        let head2 = try f.git("rev-parse", "HEAD")
        let invalid = try f.waitForReport("web-a", "invalid at \(head2.prefix(12))") { $0.state == .invalidState && $0.desiredRevision == head2 }
        #expect(invalid.error?.contains("hosts.web-a.listeners[1]") == true, "\(invalid.error ?? "")")
        #expect(invalid.appliedRevision == head1)
        try f.waitForReport("web-b", "in sync at \(head2.prefix(12))") { $0.state == .inSync && $0.appliedRevision == head2 }
        #expect(try f.hosts["web-a"]!.dockerdPID() == pidA)
        let mixed = try f.berthctl(["status", "--reports", f.reports, "--json"])
        #expect(mixed.status == 1)
        #expect(mixed.stderr.contains("fleet.yaml has 1 error; run `berthctl validate`"), "\(mixed)")
        #expect(f.report("web-b")?.warnings?.contains { $0.contains("hosts.web-a.listeners[1]") } == true, "web-b does not say it left web-a out")
        let mixedRows = try f.rows(mixed)
        #expect(mixedRows.first { $0.host == "web-a" }?.state == .invalidState, "\(mixedRows)")
        #expect(mixedRows.first { $0.host == "web-b" }?.state == .inSync, "\(mixedRows)")
    }
}
