import BerthCore
import BerthPKI
import Foundation
import Testing
import TestSupport

/// The built binaries' metrics and logs: `berth-agent` passes on a scratch root (fake systemctl,
/// a stub Engine API; see ``ScratchDockerHost``) write node_exporter's textfile; `berthctl status
/// --format prometheus` reads the reports they and other hosts left. Every output goes through
/// `promtool check metrics`, which fails the test when it complains or is missing.
@Suite("metrics and logs: berth-agent's textfile, berthctl status --format prometheus, journald priorities", .serialized)
struct MetricsAndLogsTests {
    static let yaml = FleetFixtures.scratchFleet(listeners: "[fd://]", hosts: ["web-1": "[10.0.0.5]", "web-2": "auto", "web-3": "auto", "web-4": "auto", "web-5": "auto"])

    final class Setup: @unchecked Sendable {
        let host: ScratchDockerHost
        let fleet: TestFleet
        let work: TemporaryDirectory
        var reports: String { work.file("reports") }
        var textfile: String { host.root + "/var/lib/prometheus/node-exporter/berth.prom" }

        init() async throws {
            host = try ScratchDockerHost()
            fleet = try TestFleet(yaml: MetricsAndLogsTests.yaml)
            work = try TemporaryDirectory("berth-metrics")
            try host.directory.write("root/etc/berth/agent.yaml", "dockerSocket: \(host.socket)\n")
            try FileManager.default.createDirectory(atPath: host.root + "/var/lib/prometheus/node-exporter", withIntermediateDirectories: true)
        }

        /// One `berth-agent reconcile` on the scratch host.
        func pass(_ extra: [String] = [], environment: [String: String] = [:]) async throws -> CLI.Result {
            try await CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", host.root, "--state", fleet.root, "--report-dir", reports,
                                              "--verify-timeout", "10"] + extra,
                              environment: host.environment.merging(CLI.gitIdentity) { $1 }.merging(environment) { $1 }, timeout: .seconds(120))
        }

        var report: ReconcileReport? {
            FileManager.default.contents(atPath: "\(reports)/web-1.json").flatMap { try? ReconcileReport.decode(Array($0)) }
        }

        func breakDockerd() async throws {
            try fleet.write("fleet.yaml", MetricsAndLogsTests.yaml.replacingOccurrences(
                of: "restart: {policy: always}", with: "restart: {policy: always}\n  daemon: {labels: [\(ScratchDockerHost.breakMarker)]}"))
            try await CLI.git(fleet.root, "commit", "-qam", "a label the fake dockerd will not start with")
        }
    }

    /// The value of the sample written exactly as `sample` (`name{labels}`), nil when absent.
    static func value(_ sample: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }.flatMap { Double($0.dropFirst(sample.count + 1)) }
    }

    @Test("the agent's textfile after every pass: state one-hot, drift, restarts and rollbacks counted across processes, promtool-clean")
    func agentTextfile() async throws {
        let s = try await Setup()
        let first = try await CLI.gitCommitAll(s.fleet.root, "fleet")

        let converge = try await s.pass()
        #expect(converge.status == 0, "\(converge)")
        #expect(s.report?.state == .repaired, "\(converge)")
        var text = try String(contentsOfFile: s.textfile, encoding: .utf8)
        try await Promtool.check(text)
        #expect(Self.value("berth_agent_state{state=\"repaired\"}", in: text) == 1)
        #expect(Self.value("berth_agent_restarts_total", in: text) == 1)
        #expect(Self.value("berth_agent_rollbacks_total", in: text) == 0)
        #expect(Self.value("berth_agent_drift_items{kind=\"file-missing\"}", in: text) == 1, "\(text)")
        #expect(text.contains("berth_agent_applied_revision_info{revision=\"\(first)\",fleet=\"prod\"} 1"), "\(text)")
        #expect(s.host.restarts == 1)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: s.textfile)[.posixPermissions] as? Int)
        #expect(mode == 0o644)

        let quiet = try await s.pass()
        #expect(quiet.status == 0, "\(quiet)")
        text = try String(contentsOfFile: s.textfile, encoding: .utf8)
        try await Promtool.check(text)
        #expect(s.report?.state == .inSync, "\(quiet)")
        #expect(Self.value("berth_agent_state{state=\"in-sync\"}", in: text) == 1)
        #expect(Self.value("berth_agent_restarts_total", in: text) == 1, "a no-op pass in a new process changed the counter")
        #expect(Self.value("berth_agent_passes_total{state=\"in-sync\"}", in: text) == 1)
        let success = try #require(Self.value("berth_agent_last_success_timestamp_seconds", in: text))

        try await s.breakDockerd()
        let broken = try await s.pass()
        #expect(broken.status == 5, "\(broken)")
        #expect(s.report?.state == .rolledBack)
        text = try String(contentsOfFile: s.textfile, encoding: .utf8)
        try await Promtool.check(text)
        #expect(Self.value("berth_agent_state{state=\"rolled-back\"}", in: text) == 1)
        #expect(Self.value("berth_agent_restarts_total", in: text) == 3, "into the bad set and back: \(s.host.systemctlCalls)")
        #expect(Self.value("berth_agent_rollbacks_total", in: text) == 1)
        #expect(Self.value("berth_agent_quarantined", in: text) == 1)
        #expect(Self.value("berth_agent_last_success_timestamp_seconds", in: text) == success)
        #expect(text.contains("berth_agent_applied_revision_info{revision=\"\(first)\",fleet=\"prod\"} 1"), "the rollback restored the first revision")

        // Held by the quarantine: no restart; the counters stay, the pass is counted.
        let held = try await s.pass()
        #expect(held.status == 5, "\(held)")
        text = try String(contentsOfFile: s.textfile, encoding: .utf8)
        try await Promtool.check(text)
        #expect(Self.value("berth_agent_restarts_total", in: text) == 3)
        #expect(Self.value("berth_agent_rollbacks_total", in: text) == 1)
        #expect(Self.value("berth_agent_passes_total{state=\"rolled-back\"}", in: text) == 2)
        #expect(s.host.restarts == 3)

        // --metrics-file elsewhere (relative: made absolute); the counters come along.
        let custom = s.work.file("elsewhere/agent.prom")
        let moved = try await CLI.run("/bin/sh", ["-c", "cd \"$1\" && shift && exec \"$@\"", "sh", s.work.path, "\(CLI.binDir)/berth-agent", "reconcile",
                                                  "--host", "web-1", "--root", s.host.root, "--state", s.fleet.root, "--metrics-file", "elsewhere/agent.prom"],
                                      environment: s.host.environment)
        #expect(moved.status == 5, "\(moved)")
        text = try String(contentsOfFile: custom, encoding: .utf8)
        try await Promtool.check(text)
        #expect(Self.value("berth_agent_rollbacks_total", in: text) == 1)
        #expect(Self.value("berth_agent_passes_total{state=\"rolled-back\"}", in: text) == 3)
    }

    @Test("metricsFile and logLevel are validated: the flag at the command line (64), agent.yaml at its line and column (1); nothing runs")
    func validation() async throws {
        let s = try await Setup()
        try await CLI.gitCommitAll(s.fleet.root, "fleet")
        for (flag, value) in [("--metrics-file", "/tmp/berth.txt"), ("--metrics-file", "/tmp/.prom"), ("--log-level", "loud")] {
            let refused = try await s.pass([flag, value])
            #expect(refused.status == 64, "\(refused)")
            #expect(refused.stderr.contains("\(flag) \"\(value)\" is not a"), "\(refused)")
        }
        try s.host.directory.write("root/etc/berth/agent.yaml", "dockerSocket: \(s.host.socket)\nmetricsFile: metrics/berth.prom\n")
        let relative = try await s.pass()
        #expect(relative.status == 1, "\(relative)")
        #expect(relative.stderr.contains("/etc/berth/agent.yaml:2:14: metricsFile: \"metrics/berth.prom\" is not a metrics file; write an absolute path of a .prom file"), "\(relative)")
        try s.host.directory.write("root/etc/berth/agent.yaml", "logLevel: verbose\n")
        let level = try await s.pass()
        #expect(level.status == 1, "\(level)")
        #expect(level.stderr.contains("/etc/berth/agent.yaml:1:11: logLevel: \"verbose\" is not a log level; write one of debug, info, notice, warning, error"), "\(level)")
        #expect(s.host.systemctlCalls.isEmpty, "a refused configuration ran a pass")
        #expect(!FileManager.default.fileExists(atPath: s.textfile))

        try s.host.directory.write("root/etc/berth/agent.yaml", "dockerSocket: \(s.host.socket)\nmetricsFile: none\n")
        let off = try await s.pass()
        #expect(off.status == 0, "\(off)")
        #expect(!FileManager.default.fileExists(atPath: s.textfile), "metricsFile: none wrote metrics where node_exporter's directory exists")
    }

    @Test("berthctl status --format prometheus: one-hot per host, in-sync count, stale, unverified, unknown, expiry, last seen; promtool-clean")
    func fleetView() async throws {
        let s = try await Setup()
        let web2 = try TestHostIdentity(name: "web-2"), web3 = try TestHostIdentity(name: "web-3"), web5 = try TestHostIdentity(name: "web-5")
        for host in [web2, web3, web5] { try host.certify(in: s.fleet, sans: [.dnsName(host.name)]) }
        let head = try await CLI.gitCommitAll(s.fleet.root, "fleet")
        // web-1: the agent's own, repaired, signed by the key of its pending CSR (no certificate
        // yet): shown as it says, but neither verified nor in sync.
        #expect(try await s.pass().status == 0)
        // web-5: "in-sync", signed by another host's key: unverified, not believed.
        try web5.publish(web5.report(.inSync, revision: head), to: s.reports, signingKey: web3.keyPEM)
        var report = web2.report(.inSync, revision: head)
        report.serverCertificate = CertificateInfo(subject: "web-2", sans: ["dns:web-2"], notAfter: Date(timeIntervalSince1970: 1_800_000_000), sha256: "ab")
        try web2.publish(report, to: s.reports)
        try web3.publish(web3.report(.inSync, revision: "hostile\"} 1\nberth_fake{x=\"", age: 3600), to: s.reports)

        let run = try await CLI.run("berthctl", ["status", "--format", "prometheus", "--reports", s.reports, "--repo", s.fleet.root])
        #expect(run.status == 1, "not every host is in sync: \(run)")
        let text = run.stdout
        try await Promtool.check(text)
        func v(_ sample: String) -> Double? { Self.value(sample, in: text) }
        #expect(v("berth_fleet_hosts") == 5)
        #expect(v("berth_fleet_hosts_in_sync") == 1)
        #expect(v("berth_fleet_hosts_by_state{state=\"stale\"}") == 1)
        #expect(v("berth_fleet_hosts_by_state{state=\"unverified\"}") == 1)
        #expect(v("berth_fleet_hosts_by_state{state=\"unknown\"}") == 1)
        #expect(v("berth_fleet_hosts_by_state{state=\"in-sync\"}") == 1)
        #expect(v("berth_fleet_hosts_by_state{state=\"repaired\"}") == 1)
        #expect(v("berth_host_state{host=\"web-1\",state=\"repaired\"}") == 1)
        #expect(v("berth_host_state{host=\"web-5\",state=\"unverified\"}") == 1)
        #expect(v("berth_host_state{host=\"web-2\",state=\"in-sync\"}") == 1)
        #expect(v("berth_host_state{host=\"web-3\",state=\"stale\"}") == 1)
        #expect(v("berth_host_state{host=\"web-4\",state=\"unknown\"}") == 1)
        for host in ["web-1", "web-2", "web-3", "web-4", "web-5"] {
            let ones = text.split(separator: "\n").filter { $0.hasPrefix("berth_host_state{host=\"\(host)\",") && $0.hasSuffix(" 1") }
            #expect(ones.count == 1, "\(host) is not one-hot: \(ones)")
        }
        #expect(v("berth_host_in_sync{host=\"web-2\"}") == 1)
        #expect(v("berth_host_in_sync{host=\"web-3\"}") == 0)
        #expect(v("berth_host_stale{host=\"web-3\"}") == 1)
        #expect(v("berth_host_in_sync{host=\"web-1\"}") == 0, "a report no certificate vouches for counts as in sync")
        #expect(v("berth_host_in_sync{host=\"web-5\"}") == 0, "a forged in-sync counts")
        #expect(v("berth_host_report_verified{host=\"web-1\"}") == 0)
        #expect(v("berth_host_report_verified{host=\"web-5\"}") == 0)
        #expect(v("berth_host_report_verified{host=\"web-2\"}") == 1)
        #expect(v("berth_host_certificate_not_after_timestamp_seconds{host=\"web-2\"}") == 1_800_000_000)
        #expect(v("berth_host_last_seen_timestamp_seconds{host=\"web-4\"}") == nil, "web-4 never reported")
        let seen = try #require(v("berth_host_last_seen_timestamp_seconds{host=\"web-3\"}"))
        #expect(abs(seen - (Date().timeIntervalSince1970 - 3600)) < 120)
        #expect(text.contains("berth_fleet_revision_info{revision=\"\(head)\"} 1"))
        #expect(text.contains("berth_host_applied_revision_info{host=\"web-3\",revision=\"hostile\\\"} 1\\nberth_fake{x=\\\"\"} 1"), "\(text)")
        #expect(!text.contains("\nberth_fake"), "a revision broke out of its label")

        // One host; the other formats are unchanged; --json is --format json.
        let one = try await CLI.run("berthctl", ["status", "web-2", "--format", "prometheus", "--reports", s.reports, "--repo", s.fleet.root])
        try await Promtool.check(one.stdout)
        #expect(Self.value("berth_fleet_hosts_in_sync", in: one.stdout) == 1 && one.status == 0, "\(one)")
        #expect(!one.stdout.contains("web-1"))
        let json = try await CLI.run("berthctl", ["status", "--json", "--reports", s.reports, "--repo", s.fleet.root])
        let formatJSON = try await CLI.run("berthctl", ["status", "--format", "json", "--reports", s.reports, "--repo", s.fleet.root])
        #expect(json.stdout.contains("\"rows\"") && json.status == 1)
        #expect(formatJSON.stdout.count == json.stdout.count && formatJSON.status == 1)
        let table = try await CLI.run("berthctl", ["status", "--format", "table", "--reports", s.reports, "--repo", s.fleet.root])
        #expect(table.stdout.hasPrefix("HOST"), "\(table)")
        for bad in [["--json", "--format", "prometheus"], ["--format", "prometheus", "--watch"], ["--format", "yaml"]] {
            let refused = try await CLI.run("berthctl", ["status"] + bad + ["--reports", s.reports, "--repo", s.fleet.root])
            #expect(refused.status == 64, "\(bad): \(refused)")
        }
    }

    @Test("under systemd (JOURNAL_STREAM naming stderr) every line carries its priority: the rollback at <3>, a quiet pass's detail at <7>; elsewhere no prefix")
    func journalPriorities() async throws {
        let s = try await Setup()
        try await CLI.gitCommitAll(s.fleet.root, "fleet")
        /// One pass with stderr on a file that JOURNAL_STREAM names, as systemd sets it for a stream.
        func journaled(_ extra: [String]) async throws -> (result: CLI.Result, lines: [String]) {
            let log = s.work.file("stderr-\(UUID().uuidString)")
            let result = try await CLI.run("/bin/sh", ["-c", #"log=$1; shift; exec 2>"$log"; JOURNAL_STREAM=$(stat -c %d:%i "$log") exec "$@""#, "sh", log,
                                                       "\(CLI.binDir)/berth-agent", "reconcile", "--host", "web-1", "--root", s.host.root,
                                                       "--state", s.fleet.root, "--report-dir", s.reports, "--verify-timeout", "10"] + extra,
                                           environment: s.host.environment)
            let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
            return (result, lines)
        }

        let converge = try await journaled([])
        #expect(converge.result.status == 0, "\(converge)")
        #expect(converge.result.stdout.isEmpty, "under the journal the summary is the log: \(converge.result)")
        #expect(!converge.lines.isEmpty && converge.lines.allSatisfy { $0.range(of: #"^<[2-7]>"#, options: .regularExpression) != nil }, "\(converge.lines)")
        #expect(converge.lines.contains { $0.hasPrefix("<5>did restart docker.service: ") && $0.contains(" host=web-1 ") && $0.contains(" state=repaired") }, "\(converge.lines)")
        #expect(!converge.lines.contains { $0.hasPrefix("<7>") }, "debug lines at the default level info")

        let quiet = try await journaled(["--log-level", "debug"])
        #expect(quiet.result.status == 0)
        #expect(quiet.lines.contains { $0.hasPrefix("<7>no drift host=web-1 revision=") }, "\(quiet.lines)")
        #expect(quiet.lines.last?.hasPrefix("<6>in-sync: host matches the fleet") == true, "\(quiet.lines)")
        #expect(quiet.lines.allSatisfy { $0.hasPrefix("<7>") || $0.hasPrefix("<6>") }, "a quiet pass said more than info: \(quiet.lines)")

        try await s.breakDockerd()
        let broken = try await journaled([])
        #expect(broken.result.status == 5, "\(broken)")
        let rollback = broken.lines.filter { $0.hasPrefix("<3>") }
        #expect(rollback.contains { $0.hasPrefix("<3>rolled-back: rolled back to ") && $0.contains(" host=web-1 ") && $0.hasSuffix(" state=rolled-back") }, "\(broken.lines)")
        #expect(broken.lines.contains { $0.hasPrefix("<4>systemctl restart docker failed") && $0.hasSuffix(" host=web-1 revision=\(ReportFormatter.short(s.report?.desiredRevision))") },
                "\(broken.lines)")

        // A bad agent.yaml under the journal is an error line too.
        try s.host.directory.write("root/etc/berth/agent.yaml", "logLevel: loud\n")
        let bad = try await journaled([])
        #expect(bad.result.status == 1)
        #expect(bad.lines.first?.hasPrefix("<3>berth-agent: ") == true, "\(bad.lines)")
        try s.host.directory.write("root/etc/berth/agent.yaml", "dockerSocket: \(s.host.socket)\n")

        // JOURNAL_STREAM inherited but naming another stream (a shell under a service): no prefix.
        let inherited = try await s.pass(environment: ["JOURNAL_STREAM": "1:1"])
        #expect(inherited.status == 5)
        #expect(inherited.stdout.hasPrefix("web-1: rolled-back at "), "\(inherited)")
        #expect(!inherited.stderr.split(separator: "\n").contains { $0.hasPrefix("<") }, "\(inherited)")
    }
}
