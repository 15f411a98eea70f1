import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

/// The host lifecycle as an operator drives it with the built binaries: `berthctl host retire`
/// and `host rm`, the report history agents keep (`reportHistory:`) in a report directory and on
/// `refs/berth/status/HOST`, and `berthctl status HOST --history` / `--since`. Agents run on a
/// scratch root (``ScratchDockerHost``); `LifecycleOnRealHostTests` retires a booted host.
@Suite("lifecycle: host retire and rm, report history, status --history and --since", .serialized)
struct LifecycleCommandTests {
    static let yaml = """
        apiVersion: berth/v1
        fleet: prod
        defaults:
          listeners: [fd://, tcp://0.0.0.0:2376]
          clients: [alice]
        hosts:
          web-1:
            addresses: [10.0.0.5]   # the first one
            restart: {policy: when-safe}
          web-2:
            addresses: [10.0.0.6]

        """

    func fleetYAML(_ fleet: TestFleet) throws -> String { try fleet.directory.read("fleet.yaml") }

    func spec(_ fleet: TestFleet) throws -> FleetSpec {
        try #require(FleetParser.parse(try fleetYAML(fleet), file: "fleet.yaml").spec)
    }

    // MARK: host retire

    @Test("host retire sets retired: true on that host only, keeps its settings, says what comes next; again is a no-op")
    func retireMarksHost() async throws {
        let fleet = try TestFleet(yaml: Self.yaml)
        let result = try await CLI.run("berthctl", ["host", "retire", "web-1", "--repo", fleet.root])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("marked web-1 retired"), "\(result)")
        #expect(result.stdout.contains("berthctl host rm web-1"), "\(result)")
        let retired = try spec(fleet)
        #expect(retired.host(named: "web-1")?.retired == true)
        #expect(retired.host(named: "web-2")?.retired == false)
        let text = try fleetYAML(fleet)
        #expect(text.contains("addresses: [10.0.0.5]   # the first one\n    restart: {policy: when-safe}\n    retired: true\n  web-2:"), "\(text)")
        #expect(text == Self.yaml.replacingOccurrences(of: "when-safe}\n", with: "when-safe}\n    retired: true\n"), "only one line was added: \(text)")
        #expect(try await CLI.run("berthctl", ["validate", "--repo", fleet.root]).status == 0)
        let ls = try await CLI.run("berthctl", ["host", "ls", "--repo", fleet.root])
        #expect(ls.stdout.split(separator: "\n").first { $0.hasPrefix("web-1") }?.contains("RETIRED") == true, "\(ls)")
        #expect(ls.stdout.split(separator: "\n").first { $0.hasPrefix("web-2") }?.contains("RETIRED") == false, "\(ls)")

        let again = try await CLI.run("berthctl", ["host", "retire", "web-1", "--repo", fleet.root])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("already retired"), "\(again)")
        #expect(try fleetYAML(fleet) == text)
    }

    @Test("host retire refuses an unknown host and a bad name clearly, and leaves fleet.yaml untouched")
    func retireRefusesUnknown() async throws {
        let fleet = try TestFleet(yaml: Self.yaml)
        let unknown = try await CLI.run("berthctl", ["host", "retire", "web-9", "--repo", fleet.root])
        #expect(unknown.status == 1, "\(unknown)")
        #expect(unknown.stderr.contains("host \"web-9\" is not in fleet.yaml"), "\(unknown)")
        #expect(unknown.stderr.contains("known hosts: web-1, web-2"), "\(unknown)")
        let bad = try await CLI.run("berthctl", ["host", "retire", "Web_1!", "--repo", fleet.root])
        #expect(bad.status == 64, "\(bad)")
        #expect(bad.stderr.contains("host name \"Web_1!\" is not valid"), "\(bad)")
        #expect(try fleetYAML(fleet) == Self.yaml)

        // A host written in flow style cannot be edited line by line: the message says what to do.
        let flow = Self.yaml.replacingOccurrences(of: "  web-2:\n    addresses: [10.0.0.6]\n", with: "  web-2: {addresses: [10.0.0.6]}\n")
        try fleet.write("fleet.yaml", flow)
        let styled = try await CLI.run("berthctl", ["host", "retire", "web-2", "--repo", fleet.root])
        #expect(styled.status == 1, "\(styled)")
        #expect(styled.stderr.contains("flow style") && styled.stderr.contains("add retired: true yourself"), "\(styled)")
        #expect(try fleetYAML(fleet) == flow)
    }

    // MARK: host rm

    /// A fleet whose two hosts have certificates, with a report directory.
    func certifiedFleet() throws -> (TestFleet, [String: TestHostIdentity], String) {
        let fleet = try TestFleet(yaml: Self.yaml)
        var hosts: [String: TestHostIdentity] = [:]
        for (name, address) in [("web-1", "10.0.0.5"), ("web-2", "10.0.0.6")] {
            let host = try TestHostIdentity(name: name)
            try host.certify(in: fleet, sans: [.dnsName(name), .ip(IPAddress(address)!)])
            hosts[name] = host
        }
        let reports = fleet.directory.file("reports-out")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        return (fleet, hosts, reports)
    }

    @Test("host rm refuses a host that has not reported retired (no report, in-sync, a forged retired report): exit 1, fleet.yaml and its certificate unchanged")
    func removeRefusesUnretired() async throws {
        let (fleet, hosts, reports) = try certifiedFleet()
        let before = try fleetYAML(fleet)
        let cert = try fleet.directory.read("certs/web-1.pem")
        func rm(_ extra: [String] = []) async throws -> CLI.Result {
            try await CLI.run("berthctl", ["host", "rm", "web-1", "--reports", reports, "--repo", fleet.root] + extra)
        }
        func unchanged(_ why: String) throws {
            #expect(try fleetYAML(fleet) == before, "fleet.yaml changed: \(why)")
            #expect(try fleet.directory.read("certs/web-1.pem") == cert, "certs/web-1.pem changed: \(why)")
        }

        let none = try await rm()
        #expect(none.status == 1, "\(none)")
        #expect(none.stderr.contains("web-1 has no report in \(reports)"), "\(none)")
        #expect(none.stderr.contains("berthctl host retire web-1"), "\(none)")
        try unchanged("no report")

        try hosts["web-1"]!.publish(hosts["web-1"]!.report(.inSync, revision: "abc"), to: reports)
        let inSync = try await rm()
        #expect(inSync.status == 1, "\(inSync)")
        #expect(inSync.stderr.contains("says in-sync, not retired"), "\(inSync)")
        #expect(inSync.stderr.contains("--force removes it anyway"), "\(inSync)")
        try unchanged("an in-sync report")

        // A retired report signed by another key (web-2's) does not count.
        try hosts["web-1"]!.publish(hosts["web-1"]!.report(.retired, revision: "abc"), to: reports, signingKey: hosts["web-2"]!.keyPEM)
        let forged = try await rm()
        #expect(forged.status == 1, "\(forged)")
        #expect(forged.stderr.contains("does not verify against certs/web-1.pem"), "\(forged)")
        try unchanged("a forged retired report")

        // --force takes it out anyway.
        let forced = try await rm(["--force"])
        #expect(forced.status == 0, "\(forced)")
        #expect(forced.stdout.contains("removed host web-1: fleet.yaml entry, certs/web-1.pem"), "\(forced)")
        #expect(try spec(fleet).host(named: "web-1") == nil)
        #expect(!fleet.directory.exists("certs/web-1.pem"))
        #expect(try spec(fleet).host(named: "web-2") != nil)
    }

    @Test("host rm removes a host whose verified report says retired, with its certificate; an unknown host is named as such")
    func removeRetired() async throws {
        let (fleet, hosts, reports) = try certifiedFleet()
        try hosts["web-1"]!.publish(hosts["web-1"]!.report(.retired, revision: "abc", age: 86400 * 30), to: reports)
        let rm = try await CLI.run("berthctl", ["host", "rm", "web-1", "--reports", reports, "--repo", fleet.root])
        #expect(rm.status == 0, "an old retired report is enough (its agent may be gone): \(rm)")
        #expect(rm.stdout.contains("removed host web-1"), "\(rm)")
        #expect(try spec(fleet).hosts.map(\.name) == ["web-2"])
        #expect(!fleet.directory.exists("certs/web-1.pem"))
        #expect(fleet.directory.exists("certs/web-2.pem"))
        #expect(try await CLI.run("berthctl", ["validate", "--repo", fleet.root]).status == 0)

        let unknown = try await CLI.run("berthctl", ["host", "rm", "web-1", "--reports", reports, "--repo", fleet.root])
        #expect(unknown.status == 1, "\(unknown)")
        #expect(unknown.stderr.contains("host \"web-1\" is not in fleet.yaml"), "\(unknown)")
    }

    // MARK: The agent's history

    /// A scratch host running the real `berth-agent` against a fleet repository, reporting to a
    /// directory and to a bare report repository.
    final class AgentSetup: @unchecked Sendable {
        static let yaml = FleetFixtures.scratchFleet(listeners: "[fd://]", hosts: ["web-1": "[10.0.0.5]", "web-2": "[10.0.0.6]"])
        let host: ScratchDockerHost
        let fleet: TestFleet
        let work: TemporaryDirectory
        var reports: String { work.file("reports") }
        var statusRepo: String { work.file("status.git") }

        init(reportHistory: Int) async throws {
            host = try ScratchDockerHost()
            fleet = try TestFleet(yaml: Self.yaml)
            work = try TemporaryDirectory("berth-lifecycle")
            try host.directory.write("root/etc/berth/agent.yaml", "dockerSocket: \(host.socket)\nreportHistory: \(reportHistory)\n")
            try await CLI.gitCommitAll(fleet.root, "fleet")
            try await CLI.git(work.path, "init", "-q", "--bare", "status.git")
        }

        /// One `berth-agent reconcile`, reporting to the directory and the report repository.
        func pass() async throws -> CLI.Result {
            try await CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", host.root, "--state", fleet.root, "--report-dir", reports,
                                              "--report-git", "--report-repo", statusRepo, "--verify-timeout", "10"],
                              environment: host.environment.merging(CLI.gitIdentity) { $1 }, timeout: .seconds(120))
        }

        var current: ReconcileReport? {
            FileManager.default.contents(atPath: "\(reports)/web-1.json").flatMap { try? ReconcileReport.decode(Array($0)) }
        }

        func berthctl(_ args: [String]) async throws -> CLI.Result {
            try await CLI.run("berthctl", args + ["--repo", fleet.root], environment: CLI.gitIdentity)
        }

        /// Signs the CSR of the last report, as an operator reading the host's console would, and commits.
        func sign() async throws {
            let csr = try #require(current?.pendingCSR, "no pending CSR in \(String(describing: current))")
            let key = try work.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600)
            let signed = try await berthctl(["sign", "web-1", "--reports", reports, "--fingerprint", csr.sha256, "--ca-key", key])
            #expect(signed.status == 0, "\(signed)")
            try await commit("certificate for web-1")
        }

        func commit(_ message: String) async throws {
            try await CLI.git(fleet.root, "add", "-A")
            try await CLI.git(fleet.root, "commit", "-qm", message)
        }

        func setYAML(_ text: String, _ message: String) async throws {
            try fleet.write("fleet.yaml", text)
            try await commit(message)
        }

        /// The report directory's history entries of web-1, oldest first.
        var historyEntries: [String] {
            let dir = "\(reports)/history/web-1"
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { ReportHistoryLayout.parse($0) != nil }.sorted()
        }

        func historyBytes(_ name: String) throws -> [UInt8] {
            Array(try Data(contentsOf: URL(fileURLWithPath: "\(reports)/history/web-1/\(name)")))
        }

        /// The commits of refs/berth/status/web-1 in the report repository, oldest first.
        func chain() async throws -> [String] {
            try await CLI.git(statusRepo, "rev-list", "--first-parent", "--reverse", "refs/berth/status/web-1")
                .split(separator: "\n").map(String.init)
        }

        func blob(_ spec: String) async throws -> [UInt8] {
            let result = try await CLI.run("/usr/bin/git", ["-C", statusRepo, "cat-file", "blob", spec])
            #expect(result.status == 0, "git cat-file blob \(spec): \(result)")
            return Array(result.stdout.utf8)
        }
    }

    @Test("reportHistory: 3 keeps the last three reports, in the report directory and as a chain of commits on refs/berth/status/web-1, the same bytes, signed; quiet passes add none",
          .timeLimit(.minutes(5)))
    func historyKeepsLastN() async throws {
        let s = try await AgentSetup(reportHistory: 3)
        let first = try await s.pass()
        #expect(first.status == 0, "\(first)")
        #expect(s.current?.state == .repaired)
        #expect(s.current?.pendingCSR != nil)
        #expect(s.historyEntries.count == 1)
        try await s.sign()
        let certified = try await s.pass()
        #expect(s.current?.state == .inSync, "\(certified)")
        #expect(s.historyEntries.count == 2)
        #expect(try await s.chain().count == 2)

        // A quiet pass refreshes the current report, and is no history entry of its own.
        let before = s.current
        try await Task.sleep(for: .seconds(1.1))  // a report's time has whole seconds: this pass's report is a new one
        let quiet = try await s.pass()
        #expect(quiet.status == 0, "\(quiet)")
        #expect(s.current?.state == .inSync)
        #expect(s.current?.time != before?.time, "the current report was not refreshed")
        #expect(s.historyEntries.count == 2, "a quiet pass was added to the history: \(s.historyEntries)")
        let quietChain = try await s.chain()
        #expect(quietChain.count == 3, "the head is the current report, a repeat on top of the two entries")
        #expect(try await s.blob("refs/berth/status/web-1:web-1.json") == (try s.work.readBytes("reports/web-1.json")))

        // Three more changes: a label (repaired), the pass after (in-sync), a label dockerd will not start with (rolled back).
        try await s.setYAML(AgentSetup.yaml.replacingOccurrences(of: "policy: always}", with: "policy: always}\n  daemon: {labels: [tier=a]}"), "label")
        #expect(try await s.pass().status == 0)
        #expect(s.current?.state == .repaired)
        let afterLabel = try await s.chain()
        #expect(afterLabel.count == 3, "the repeat at the head made way: \(afterLabel)")
        #expect(try await s.pass().status == 0)
        #expect(s.current?.state == .inSync)
        try await s.setYAML(AgentSetup.yaml.replacingOccurrences(of: "policy: always}", with: "policy: always}\n  daemon: {labels: [\(ScratchDockerHost.breakMarker)]}"), "break")
        let broken = try await s.pass()
        #expect(broken.status == 5, "\(broken)")
        #expect(s.current?.state == .rolledBack)

        // The directory: the newest three, each signed by the host's certificate, the last one the current report.
        let names = s.historyEntries
        #expect(names.count == 3, "\(names)")
        #expect(names.map { ReportHistoryLayout.parse($0)!.sequence } == [3, 4, 5], "five entries made, the oldest two pruned: \(names)")
        let certificate = try s.fleet.directory.read("certs/web-1.pem")
        var states: [HostState] = []
        for name in names {
            let bytes = try s.historyBytes(name)
            states.append(try ReconcileReport.decode(bytes).state)
            let signature = try ReportSignature.parse(try String(contentsOfFile: "\(s.reports)/history/web-1/\(name).sig", encoding: .utf8))
            #expect(signature.verify(bytes, certificatePEM: certificate) == .valid, "\(name)")
        }
        #expect(states == [.repaired, .inSync, .rolledBack])
        #expect(try s.historyBytes(names.last!) == (try s.work.readBytes("reports/web-1.json")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(s.reports)/history/web-1").filter { !$0.hasSuffix(".json") && !$0.hasSuffix(".json.sig") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(s.reports)/history/web-1").count == 6, "three reports and their signatures")

        // The ref: the same three reports, byte for byte, as a chain from a new root.
        let chain = try await s.chain()
        #expect(chain.count == 3, "\(chain)")
        for (commit, name) in zip(chain, names) {
            #expect(try await s.blob("\(commit):web-1.json") == (try s.historyBytes(name)), "\(commit) is not \(name)")
            let sig = try await s.blob("\(commit):web-1.json.sig")
            #expect(sig == (try s.work.readBytes("reports/history/web-1/\(name).sig")))
        }
        let roots = try await CLI.git(s.statusRepo, "rev-list", "--max-parents=0", "refs/berth/status/web-1")
        #expect(roots == chain.first, "the chain has one root, its oldest kept entry")
        let subjects = try await CLI.git(s.statusRepo, "log", "--format=%s", "refs/berth/status/web-1")
        #expect(subjects.split(separator: "\n").first?.hasPrefix("berth status web-1: rolled-back at ") == true, "\(subjects)")
    }

    @Test("status HOST --history lists state changes with times and drift, from the directory and from the ref; --since shows which hosts changed",
          .timeLimit(.minutes(5)))
    func statusHistory() async throws {
        let s = try await AgentSetup(reportHistory: 50)
        #expect(try await s.pass().status == 0)
        try await s.sign()
        #expect(try await s.pass().status == 0)
        // Drift by hand: the drop-in edited (repaired), then a label dockerd will not start with (rolled back), then fixed.
        let dropIn = s.host.root + HostLayout.dropIn
        try (try String(contentsOfFile: dropIn, encoding: .utf8) + "# edited by hand\n").write(toFile: dropIn, atomically: true, encoding: .utf8)
        #expect(try await s.pass().status == 0)
        #expect(s.current?.state == .repaired)
        #expect(try await s.pass().status == 0)
        try await s.setYAML(AgentSetup.yaml.replacingOccurrences(of: "policy: always}", with: "policy: always}\n  daemon: {labels: [\(ScratchDockerHost.breakMarker)]}"), "break")
        #expect(try await s.pass().status == 5)
        try await s.setYAML(AgentSetup.yaml, "unbreak")
        #expect(try await s.pass().status == 0)
        #expect(s.current?.state == .inSync)
        // States, oldest first: repaired, in-sync, repaired (the edit), in-sync, rolled-back, in-sync.
        let expected = ["repaired", "in-sync", "repaired", "in-sync", "rolled-back", "in-sync"]

        for location in [["--reports", s.reports], ["--report-repo", s.statusRepo]] {
            let table = try await s.berthctl(["status", "web-1", "--history"] + location)
            #expect(table.status == 0, "\(location): \(table)")
            let rows = table.stdout.split(separator: "\n").dropFirst().map(String.init)
            // TIME, the current one marked *, then STATE.
            let states = rows.map { $0.split(separator: " ").filter { $0 != "*" }.dropFirst().first.map(String.init) ?? "" }
            #expect(states == expected, "\(location): \(table.stdout)")
            #expect(rows.first?.contains("(oldest kept)") == true, "\(table.stdout)")
            #expect(rows.contains { $0.contains("in-sync → repaired") && $0.contains("file-content×") }, "the edit's drift: \(table.stdout)")
            #expect(rows.contains { $0.contains("in-sync → rolled-back") }, "\(table.stdout)")
            #expect(rows.last?.contains("rolled-back → in-sync") == true && rows.last?.contains("*") == true, "\(table.stdout)")
            #expect(rows.allSatisfy { !$0.contains("unverified") }, "every entry verifies: \(table.stdout)")
            let year = String(Calendar(identifier: .gregorian).component(.year, from: Date()))
            #expect(rows.allSatisfy { $0.hasPrefix(year + "-") }, "each entry starts with its time: \(table.stdout)")

            let json = try await s.berthctl(["status", "web-1", "--history", "--json"] + location)
            #expect(json.status == 0, "\(json)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let entries = try #require(object["entries"] as? [[String: Any]])
            #expect(entries.compactMap { $0["state"] as? String } == expected, "\(json.stdout)")
            #expect(entries.contains { ($0["drift"] as? [[String: Any]])?.contains { $0["kind"] as? String == "file-content" } == true })

            let since = try await s.berthctl(["status", "--since", "1h"] + location)
            #expect(since.status == 0, "\(since)")
            let line = since.stdout.split(separator: "\n").first { $0.hasPrefix("web-1") }
            #expect(line?.contains("rolled-back → in-sync") == true, "\(since.stdout)")
            #expect(line?.contains(" 6 ") == true, "six changes, the first from nothing: \(since.stdout)")
            #expect(!since.stdout.contains("web-2"), "web-2 never reported: \(since.stdout)")
        }
    }

    @Test("status --since lists only hosts whose believed reports changed state inside the window")
    func sinceWindow() async throws {
        let (fleet, hosts, reports) = try certifiedFleet()
        let hour: TimeInterval = 3600
        /// Writes a signed history entry (and, for the newest, the current report).
        func entry(_ host: TestHostIdentity, _ sequence: Int, _ state: HostState, ago: TimeInterval, key: String? = nil,
                   drift: [DriftItem] = [], current: Bool = false) throws {
            var report = host.report(state, revision: "abc", age: ago)
            report.drift = drift
            let bytes = try report.encoded()
            let name = ReportHistoryLayout.entryName(sequence: sequence, time: report.time)
            let dir = "\(reports)/history/\(host.name)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try ReportSignature.sign(bytes, privateKeyPEM: key ?? host.keyPEM).text.write(toFile: "\(dir)/\(name).sig", atomically: true, encoding: .utf8)
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
            if current { try host.publish(report, to: reports, signingKey: key) }
        }
        let web1 = hosts["web-1"]!, web2 = hosts["web-2"]!
        try entry(web1, 1, .inSync, ago: 72 * hour)
        try entry(web1, 2, .rolledBack, ago: 2 * hour, drift: [DriftItem(.daemonDown, "docker.service", "dockerd is failed")])
        try entry(web1, 3, .inSync, ago: 1 * hour, current: true)
        try entry(web2, 1, .inSync, ago: 72 * hour)
        try entry(web2, 2, .failed, ago: 48 * hour)
        try entry(web2, 3, .inSync, ago: 47 * hour)
        // A forged entry in the window says web-2 failed: it is shown as unverified, never counted as a change.
        try entry(web2, 4, .failed, ago: 0.5 * hour, key: web1.keyPEM)
        try entry(web2, 5, .inSync, ago: 0, current: true)
        try await CLI.gitCommitAll(fleet.root, "fleet")

        let day = try await CLI.run("berthctl", ["status", "--since", "24h", "--reports", reports, "--repo", fleet.root])
        #expect(day.status == 0, "\(day)")
        let rows = day.stdout.split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix("HOST") == true, "\(day.stdout)")
        let web1Row = try #require(rows.first { $0.hasPrefix("web-1") }, "\(day.stdout)")
        #expect(web1Row.contains("in-sync → rolled-back → in-sync"), "\(web1Row)")
        #expect(!rows.contains { $0.hasPrefix("web-2") }, "web-2's changes are two days old, and its forged one is not believed: \(day.stdout)")

        let json = try await CLI.run("berthctl", ["status", "--since", "24h", "--json", "--reports", reports, "--repo", fleet.root])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], "\(json)")
        #expect(list.compactMap { $0["host"] as? String } == ["web-1"])
        let changes = try #require(list.first?["changes"] as? [[String: Any]])
        #expect(changes.compactMap { $0["to"] as? String } == ["rolled-back", "in-sync"], "\(json.stdout)")
        #expect(changes.first?["driftSummary"] as? String == "daemon-down×1", "\(json.stdout)")

        let week = try await CLI.run("berthctl", ["status", "--since", "7d", "--reports", reports, "--repo", fleet.root])
        #expect(week.status == 0, "\(week)")
        let web2Row = try #require(week.stdout.split(separator: "\n").first { $0.hasPrefix("web-2") }, "\(week.stdout)")
        #expect(web2Row.contains("in-sync → failed → in-sync") && !web2Row.contains("failed → in-sync → failed"), "\(web2Row)")

        let history = try await CLI.run("berthctl", ["status", "web-2", "--history", "--reports", reports, "--repo", fleet.root])
        #expect(history.status == 0, "\(history)")
        #expect(history.stdout.split(separator: "\n").contains { $0.contains("unverified") && $0.contains("not signed by the host's key") }, "\(history.stdout)")

        let quiet = try await CLI.run("berthctl", ["status", "--since", "30m", "--reports", reports, "--repo", fleet.root])
        #expect(quiet.status == 0)
        #expect(quiet.stdout.hasPrefix("no host changed state since "), "\(quiet)")

        for bad in [["status", "--since", "yesterday"], ["status", "--history"], ["status", "web-1", "--history", "--watch"]] {
            let refused = try await CLI.run("berthctl", bad + ["--reports", reports, "--repo", fleet.root])
            #expect(refused.status == 64, "\(bad): \(refused)")
        }
    }

    // MARK: The whole lifecycle, through the status refs

    @Test("retire, the agent's pass, host rm: refused while the ref says in-sync, accepted once it says retired; the retired agent then only reports",
          .timeLimit(.minutes(5)))
    func retireThroughRefs() async throws {
        let s = try await AgentSetup(reportHistory: 50)
        #expect(try await s.pass().status == 0)
        try await s.sign()
        #expect(try await s.pass().status == 0)
        #expect(s.current?.state == .inSync)
        #expect(FileManager.default.fileExists(atPath: s.host.root + HostLayout.dropIn))

        let retire = try await s.berthctl(["host", "retire", "web-1"])
        #expect(retire.status == 0, "\(retire)")
        try await s.commit("retire web-1")
        let early = try await s.berthctl(["host", "rm", "web-1", "--report-repo", s.statusRepo])
        #expect(early.status == 1, "\(early)")
        #expect(early.stderr.contains("says in-sync, not retired"), "\(early)")
        #expect(try s.spec().host(named: "web-1") != nil)

        let restarts = s.host.restarts
        let pass = try await s.pass()
        #expect(pass.status == 0, "\(pass)")
        #expect(s.current?.state == .retired, "\(pass)")
        #expect(!FileManager.default.fileExists(atPath: s.host.root + HostLayout.dropIn))
        #expect(s.host.restarts == restarts + 1)
        let again = try await s.pass()
        #expect(again.status == 0, "\(again)")
        #expect(s.current?.state == .retired && s.current?.actions.isEmpty == true, "\(again)")
        #expect(s.host.restarts == restarts + 1, "a retired host's agent restarted dockerd")

        let history = try await s.berthctl(["status", "web-1", "--history", "--report-repo", s.statusRepo])
        #expect(history.stdout.split(separator: "\n").contains { $0.contains("in-sync → retired") }, "\(history)")
        let rm = try await s.berthctl(["host", "rm", "web-1", "--report-repo", s.statusRepo])
        #expect(rm.status == 0, "\(rm)")
        #expect(try s.spec().host(named: "web-1") == nil)
        try await s.commit("remove web-1")
        let after = try await s.pass()
        #expect(after.status == 0, "a removed retired host is not invalid: \(after)")
        #expect(s.current?.state == .retired)
        #expect(s.current?.message.contains("no longer in fleet.yaml") == true, "\(String(describing: s.current?.message))")
    }
}

extension LifecycleCommandTests.AgentSetup {
    func spec() throws -> FleetSpec {
        try #require(FleetParser.parse(try fleet.directory.read("fleet.yaml"), file: "fleet.yaml").spec)
    }
}

extension TemporaryDirectory {
    func readBytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: file(relative))))
    }
}
