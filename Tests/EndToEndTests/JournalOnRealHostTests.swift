import BerthCore
import Foundation
import Testing
import TestSupport

/// The agent run by the shipped, sandboxed `berth-agent.service` on a booted host, its lines read
/// back with the real `journalctl`: priorities go through journald as the agent wrote them (`<3>`
/// … `<7>`, `JOURNAL_STREAM`), so `journalctl -p err` shows a rollback and `-p info` hides a
/// quiet pass's debug lines. The unit's `ReadWritePaths=-/var/lib/prometheus/node-exporter` is
/// shown both ways: absent, the unit still runs; present, the textfile the passes leave there goes
/// through promtool.
@Suite("journald and metrics under the shipped unit on a real systemd + dockerd host", .serialized, .enabled(if: TestHost.available),
       .timeLimit(.minutes(10)))
struct JournalOnRealHostTests {
    static let address = "10.231.50.2"
    /// A TCP listener, so the host needs a certificate and the textfile shows its expiry.
    static let yaml = FleetFixtures.scratchFleet(hosts: ["web-1": "[\(address)]"])
    /// The unit as shipped; `journalctl -u berth-agent` filters on it.
    static let unit = "berth-agent.service"
    static let textfile = "/var/lib/prometheus/node-exporter/berth.prom"

    /// agent.yaml as an operator would write it for a local checkout and a report directory.
    static func agentYAML(logLevel: String? = nil) -> String {
        "host: web-1\nstate: /srv/fleet\nreportDir: /srv/reports\nverifyTimeout: 40s\n" + (logLevel.map { "logLevel: \($0)\n" } ?? "")
    }

    /// One pass: `systemctl start berth-agent.service` (Type=oneshot, so it returns when the pass
    /// is over), then the report it wrote. The unit's result is returned too: a rolled-back pass
    /// (exit 5) marks it failed (`exit-code`), a sandbox the unit could not set up fails it with
    /// 226/NAMESPACE; `success` covers exit 0 and the SuccessExitStatus= ones.
    func pass(_ host: TestHost, reports: TemporaryDirectory) async throws -> (report: ReconcileReport, result: String, exitStatus: String) {
        let run = try await host.exec(["systemctl", "start", Self.unit])
        let shown = try await host.sh("systemctl show \(Self.unit) -p Result -p ExecMainStatus")
        func property(_ name: String) -> String {
            shown.split(separator: "\n").first { $0.hasPrefix("\(name)=") }.map { String($0.dropFirst(name.count + 1)) } ?? ""
        }
        let status = property("ExecMainStatus"), result = property("Result")
        try #require(status != "226", "the unit could not set up its sandbox (226/NAMESPACE): \(run)")
        guard let report = FileManager.default.contents(atPath: reports.file("web-1.json")).flatMap({ try? ReconcileReport.decode(Array($0)) }) else {
            let journal = (try? await host.sh("journalctl -u \(Self.unit) -n 30 --no-pager")) ?? ""
            throw HostError("no report: \(run)\n\(journal)")
        }
        try await host.sh("systemctl reset-failed \(Self.unit) 2>/dev/null || true")
        return (report, result, status)
    }

    /// `journalctl -u berth-agent -o cat` with `options`; the messages as journald stored them.
    /// journald may take a moment to take in a stream's last lines: asked until `until` holds.
    func journal(_ host: TestHost, _ options: [String], until: ([String]) -> Bool = { _ in true }) async throws -> [String] {
        var lines: [String] = []
        for _ in 0..<20 {
            let result = try await host.exec(["journalctl", "-u", "berth-agent", "--no-pager", "-o", "cat"] + options)
            lines = result.stdout.split(separator: "\n").map(String.init)
            if until(lines) { return lines }
            try await Task.sleep(for: .milliseconds(250))
        }
        return lines
    }

    @Test("under berth-agent.service: journalctl -p err shows the rollback with host, revision and state; -p info hides a quiet pass's debug lines; the textfile is written through the sandbox")
    func priorities() async throws {
        let fleet = try TestFleet(yaml: Self.yaml)
        let work = try TemporaryDirectory("berth-obs-work")
        let reports = try TemporaryDirectory("berth-obs-reports")
        try await CLI.gitCommitAll(fleet.root, "web-1")
        let host = try await TestHost(name: "berth-obs-1", network: ("10.231.50.1/30", "\(Self.address)/30"),
                                      binds: ["\(fleet.root):/srv/fleet", "\(reports.path):/srv/reports"])
        try await host.copy("\(CLI.packageRoot)/systemd/\(Self.unit)", to: "/etc/systemd/system/\(Self.unit)")
        try await host.copy(try work.write("agent.yaml", Self.agentYAML()), to: "/etc/berth/agent.yaml")
        // The drop-in docs/operations.md asks for a reportDir outside Berth's own paths.
        try await host.copy(try work.write("report-dir.conf", "[Service]\nReadWritePaths=/srv/reports\n"),
                            to: "/etc/systemd/system/\(Self.unit).d/report-dir.conf")
        try await host.sh("systemctl daemon-reload; rm -rf /var/lib/prometheus")
        #expect(try await host.sh("systemctl show \(Self.unit) -p ProtectSystem --value").hasPrefix("strict"))

        // No node_exporter directory: the unit's `-` keeps its sandbox valid, the passes run, and
        // no metrics are written (nor made up: there is nowhere they would be read).
        let asking = try await pass(host, reports: reports)
        #expect(asking.report.state == .awaitingCertificate, "\(asking.report.message)")
        #expect(asking.result == "success", "awaiting-certificate (exit 4) is a success for the unit: \(asking)")
        let csr = try #require(asking.report.pendingCSR)
        let sign = try await CLI.run("berthctl", ["sign", "web-1", "--reports", reports.path, "--fingerprint", csr.sha256,
                                                  "--ca-key", try work.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600), "--repo", fleet.root])
        #expect(sign.status == 0, "\(sign)")
        let good = try await CLI.gitCommitAll(fleet.root, "web-1's certificate")
        let converged = try await pass(host, reports: reports)
        #expect(converged.report.state == .repaired, "\(converged.report.message)")
        #expect(converged.result == "success" && converged.exitStatus == "0", "the unit failed without the metrics directory: \(converged)")
        #expect(try await host.exec(["test", "-e", "/var/lib/prometheus"]).status != 0)
        let changes = try await journal(host, ["-p", "notice"]) { $0.contains { $0.hasPrefix("repaired: ") } }
        #expect(changes.contains { $0.hasPrefix("did restart docker.service: ") && $0.contains(" host=web-1 revision=\(good.prefix(12)) state=repaired") }, "\(changes)")

        // node_exporter's directory appears (prometheus-node-exporter installed): from the next
        // pass on, the default metrics file is written there, through the unit's ReadWritePaths.
        try await host.sh("mkdir -p /var/lib/prometheus/node-exporter")

        // A quiet pass at debug: its detail is in the journal at priority debug, and only there.
        try await host.copy(try work.write("agent.yaml", Self.agentYAML(logLevel: "debug")), to: "/etc/berth/agent.yaml")
        let quiet = try await pass(host, reports: reports)
        #expect(quiet.report.state == .inSync, "\(quiet.report.message)")
        #expect(quiet.result == "success" && quiet.exitStatus == "0", "\(quiet)")
        let debugOnly = try await journal(host, ["-p", "debug..debug"]) { $0.contains { $0.hasPrefix("no drift ") } }
        #expect(debugOnly.contains { $0.hasPrefix("no drift host=web-1 revision=\(good.prefix(12)) state=in-sync") }, "\(debugOnly)")
        #expect(debugOnly.contains { $0.hasPrefix("listener fd://: passed ") }, "\(debugOnly)")
        #expect(debugOnly.contains { $0.hasPrefix("metrics written host=web-1 ") && $0.contains("file=\(Self.textfile)") }, "\(debugOnly)")
        let info = try await journal(host, ["-p", "info"]) { $0.contains { $0.hasPrefix("in-sync: ") } }
        #expect(info.contains { $0.hasPrefix("in-sync: host matches the fleet at \(good.prefix(12))") && $0.hasSuffix("state=in-sync") }, "\(info)")
        let leaked = info.filter { line in debugOnly.contains(line) }
        #expect(leaked.isEmpty, "debug lines shown by -p info: \(leaked)")
        #expect(!info.contains { $0.hasPrefix("<") }, "a priority prefix reached the message: journald did not take it")
        #expect(try await journal(host, ["-p", "err"]).isEmpty, "a converging host logged errors")
        var text = try await host.sh("cat \(Self.textfile)")
        try await Promtool.check(text)
        #expect(text.contains("berth_agent_state{state=\"in-sync\"} 1\n"), "\(text)")
        try await host.copy(try work.write("agent.yaml", Self.agentYAML()), to: "/etc/berth/agent.yaml")

        // A listener dockerd cannot create (nothing can make a socket in /proc): the restart fails,
        // the agent rolls back, and says so at priority err.
        try fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "tcp://0.0.0.0:2376]", with: "tcp://0.0.0.0:2376, unix:///proc/berth/docker.sock]"))
        try await CLI.git(fleet.root, "commit", "-qam", "a socket dockerd cannot create")
        let broken = try await CLI.git(fleet.root, "rev-parse", "HEAD")
        let rolledBack = try await pass(host, reports: reports)
        #expect(rolledBack.report.state == .rolledBack, "\(rolledBack.report.message)")
        #expect(rolledBack.result == "exit-code" && rolledBack.exitStatus == "5", "rolled-back marks the unit failed with exit 5: \(rolledBack)")
        #expect(try await host.sh("systemctl is-active docker").hasPrefix("active"))
        let errors = try await journal(host, ["-p", "err"]) { $0.contains { $0.hasPrefix("rolled-back: ") } }
        let line = try #require(errors.first { $0.hasPrefix("rolled-back: rolled back to \(good.prefix(12)): ") }, "\(errors)")
        #expect(line.contains(" host=web-1 revision=\(broken.prefix(12)) applied=\(good.prefix(12)) state=rolled-back"), "\(line)")
        #expect(errors.allSatisfy { !$0.hasPrefix("did ") && !$0.hasPrefix("no drift") && !$0.hasPrefix("in-sync") }, "-p err shows more than errors: \(errors)")
        // Every line the agent's process left at notice or above is one of its events, with its
        // fields: nothing else (libdispatch's renice complaint is an info line, see the unit).
        let own = try await host.exec(["journalctl", "_SYSTEMD_UNIT=\(Self.unit)", "-p", "notice", "--no-pager", "-o", "cat"])
        let foreign = own.stdout.split(separator: "\n").filter { !$0.contains(" host=web-1") }
        #expect(!own.stdout.isEmpty && foreign.isEmpty, "lines without the agent's fields at notice or above: \(foreign)")
        let warnings = try await journal(host, ["-p", "warning"])
        #expect(warnings.contains { $0.hasPrefix("systemctl restart docker failed") && $0.hasSuffix(" host=web-1 revision=\(broken.prefix(12))") }, "\(warnings)")
        // For the record (docs/operations.md quotes it): what an operator sees of these passes.
        print("journalctl -u berth-agent -p info -o cat:\n\(try await journal(host, ["-p", "info"]).joined(separator: "\n"))")

        // The textfile the unit's passes left in node_exporter's directory.
        text = try await host.sh("cat \(Self.textfile)")
        try await Promtool.check(text)
        print("\(Self.textfile) after the rollback:\n\(text)")
        #expect(text.contains("berth_agent_state{state=\"rolled-back\"} 1\n"), "\(text)")
        #expect(text.contains("berth_agent_rollbacks_total 1\n"), "\(text)")
        #expect(text.contains("berth_agent_restarts_total 2\n"), "one into the bad set, one back (the first pass kept no counters): \(text)")
        #expect(text.contains("berth_agent_passes_total{state=\"in-sync\"} 1\n"), "\(text)")
        #expect(text.contains("berth_agent_applied_revision_info{revision=\"\(good)\",fleet=\"prod\"} 1\n"), "\(text)")
        let notAfter = try #require(rolledBack.report.serverCertificate?.notAfter)
        #expect(text.contains("berth_agent_certificate_not_after_timestamp_seconds \(MetricsExposition.format(notAfter.timeIntervalSince1970))\n"), "\(text)")
        #expect(text.contains("berth_agent_certificate_request_pending 0\n"), "\(text)")
        #expect(try await host.sh("stat -c %a \(Self.textfile)").hasPrefix("644"))
    }
}
