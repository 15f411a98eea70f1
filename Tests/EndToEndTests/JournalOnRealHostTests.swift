import BerthCore
import Foundation
import Testing
import TestSupport

/// The agent run by systemd on a booted host, its lines read back with the real `journalctl`:
/// priorities go through journald as the agent wrote them (`<3>` … `<7>`, `JOURNAL_STREAM`), so
/// `journalctl -p err` shows a rollback and `-p info` hides a quiet pass's debug lines. The
/// textfile the same passes leave in node_exporter's directory goes through promtool.
@Suite("journald and metrics on a real systemd + dockerd host", .serialized, .enabled(if: TestHost.available), .timeLimit(.minutes(10)))
struct JournalOnRealHostTests {
    static let yaml = """
        apiVersion: berth/v1
        fleet: prod
        defaults:
          listeners: [fd://]
          clients: [alice]
          restart: {policy: always}
        hosts:
          web-1:
            addresses: auto

        """
    /// The unit name `journalctl -u` filters on, as the packaged unit is called.
    static let unit = "berth-agent"

    /// One `berth-agent reconcile` as a transient systemd service (stdout and stderr to the
    /// journal, JOURNAL_STREAM set by systemd), waited for; the report it wrote.
    func pass(_ host: TestHost, reports: TemporaryDirectory, _ extra: [String] = []) async throws -> ReconcileReport {
        let run = try await host.exec(["systemd-run", "--unit=\(Self.unit)", "--wait", "--collect", "--quiet", "-p", "Type=oneshot",
                                       "/usr/local/bin/berth-agent", "reconcile", "--state", "/srv/fleet", "--report-dir", "/srv/reports",
                                       "--host", "web-1", "--verify-timeout", "40"] + extra)
        let report = try #require(FileManager.default.contents(atPath: reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) },
                                  "no report: \(run)")
        return report
    }

    /// `journalctl -u berth-agent -o cat` with `options`; the messages as journald stored them.
    /// journald may take a moment to take in a stream's last lines: asked until `until` holds.
    func journal(_ host: TestHost, _ options: [String], until: ([String]) -> Bool = { _ in true }) async throws -> [String] {
        var lines: [String] = []
        for _ in 0..<20 {
            let result = try await host.exec(["journalctl", "-u", Self.unit, "--no-pager", "-o", "cat"] + options)
            lines = result.stdout.split(separator: "\n").map(String.init)
            if until(lines) { return lines }
            try await Task.sleep(for: .milliseconds(250))
        }
        return lines
    }

    @Test("journalctl -p err shows the rollback line with host, revision and state; -p info hides a quiet pass's debug lines; the textfile counts it")
    func priorities() async throws {
        let fleet = try TestFleet(yaml: Self.yaml)
        let reports = try TemporaryDirectory("berth-obs-reports")
        let good = try await CLI.gitCommitAll(fleet.root, "fd only")
        let host = try await TestHost(name: "berth-obs-journal", binds: ["\(fleet.root):/srv/fleet", "\(reports.path):/srv/reports"])
        try await host.sh("mkdir -p /var/lib/prometheus/node-exporter; journalctl --rotate >/dev/null 2>&1; journalctl --vacuum-time=1s >/dev/null 2>&1 || true")

        let converged = try await pass(host, reports: reports)
        #expect(converged.state == .repaired, "\(converged.message)")
        let changes = try await journal(host, ["-p", "notice"]) { $0.contains { $0.hasPrefix("repaired: ") } }
        #expect(changes.contains { $0.hasPrefix("did restart docker.service: ") && $0.contains(" host=web-1 revision=\(good.prefix(12)) state=repaired") }, "\(changes)")

        // A quiet pass at debug: its detail is in the journal at priority debug, and only there.
        let quiet = try await pass(host, reports: reports, ["--log-level", "debug"])
        #expect(quiet.state == .inSync, "\(quiet.message)")
        let debugOnly = try await journal(host, ["-p", "debug..debug"]) { $0.contains { $0.hasPrefix("no drift ") } }
        #expect(debugOnly.contains { $0.hasPrefix("no drift host=web-1 revision=\(good.prefix(12)) state=in-sync") }, "\(debugOnly)")
        #expect(debugOnly.contains { $0.hasPrefix("listener fd://: passed ") }, "\(debugOnly)")
        let info = try await journal(host, ["-p", "info"]) { $0.contains { $0.hasPrefix("in-sync: ") } }
        #expect(info.contains { $0.hasPrefix("in-sync: host matches the fleet at \(good.prefix(12))") && $0.hasSuffix("state=in-sync") }, "\(info)")
        let leaked = info.filter { line in debugOnly.contains(line) }
        #expect(leaked.isEmpty, "debug lines shown by -p info: \(leaked)")
        #expect(!info.contains { $0.hasPrefix("<") }, "a priority prefix reached the message: journald did not take it")
        #expect(try await journal(host, ["-p", "err"]).isEmpty, "a converging host logged errors")

        // A listener dockerd cannot create (nothing can make a socket in /proc): the restart fails,
        // the agent rolls back, and says so at priority err.
        try fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "listeners: [fd://]", with: "listeners: [fd://, unix:///proc/berth/docker.sock]"))
        try await CLI.git(fleet.root, "commit", "-qam", "a socket dockerd cannot create")
        let broken = try await CLI.git(fleet.root, "rev-parse", "HEAD")
        let rolledBack = try await pass(host, reports: reports)
        #expect(rolledBack.state == .rolledBack, "\(rolledBack.message)")
        #expect(try await host.sh("systemctl is-active docker").hasPrefix("active"))
        let errors = try await journal(host, ["-p", "err"]) { $0.contains { $0.hasPrefix("rolled-back: ") } }
        let line = try #require(errors.first { $0.hasPrefix("rolled-back: rolled back to \(good.prefix(12)): ") }, "\(errors)")
        #expect(line.contains(" host=web-1 revision=\(broken.prefix(12)) applied=\(good.prefix(12)) state=rolled-back"), "\(line)")
        #expect(errors.allSatisfy { !$0.hasPrefix("did ") && !$0.hasPrefix("no drift") && !$0.hasPrefix("in-sync") }, "-p err shows more than errors: \(errors)")
        let warnings = try await journal(host, ["-p", "warning"])
        #expect(warnings.contains { $0.hasPrefix("systemctl restart docker failed") }, "\(warnings)")

        // The same passes left node_exporter's textfile (its directory exists, so it is the default).
        let text = try await host.sh("cat /var/lib/prometheus/node-exporter/berth.prom")
        try await Promtool.check(text)
        #expect(text.contains("berth_agent_state{state=\"rolled-back\"} 1\n"), "\(text)")
        #expect(text.contains("berth_agent_rollbacks_total 1\n"), "\(text)")
        #expect(text.contains("berth_agent_restarts_total 3\n"), "one to converge, one into the bad set, one back: \(text)")
        #expect(try await host.sh("stat -c %a /var/lib/prometheus/node-exporter/berth.prom").hasPrefix("644"))
    }
}
