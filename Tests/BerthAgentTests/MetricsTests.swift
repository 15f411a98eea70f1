import BerthAgent
import BerthCore
import BerthHost
import Foundation
import Logging
import Testing
import TestSupport

/// The agent's metrics: what they say about one report, and the counters a pass after pass (and
/// process after process: they are on disk) keeps. Every file written goes through promtool.
@Suite("agent metrics and pass log")
struct AgentMetricsTests {
    let fleet: TestFleet
    let root: TemporaryDirectory
    let systemd: FakeSystemd
    let engine = FakeEngine()
    let clock = ImmediateClock()
    let bootClock = FakeBootClock()

    static let yaml = FleetFixtures.scratchFleet(listeners: "[fd://]")

    init() async throws {
        fleet = try TestFleet(yaml: Self.yaml)
        try await CLI.gitCommitAll(fleet.root, "fleet")
        root = try TemporaryDirectory("berth-root")
        try root.write("lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n")
        try FileManager.default.createDirectory(atPath: root.file("var/lib/prometheus/node-exporter"), withIntermediateDirectories: true)
        systemd = FakeSystemd(root: root.path, bootClock: bootClock, clock: clock)
    }

    func reconcile(logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) async -> ReconcileReport {
        var settings = AgentSettings(host: "web-1")
        settings.root = root.path
        settings.statePath = fleet.root
        return await Pass(settings: settings, environment: AgentEnvironment(
            runner: systemd, engine: engine, clock: clock, bootClock: bootClock, logger: logger, expectedOwner: nil)).reconcile().report
    }

    /// Commits a fleet.yaml whose daemon label dockerd "will not start with" (the fake says so).
    func breakDockerd() async throws {
        try fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: always}\n  daemon: {labels: [tier=broken]}"))
        try await CLI.git(fleet.root, "commit", "-qam", "broken")
        systemd.failRestartWhen = { $0.contains("tier=broken") }
    }

    var metrics: String { (try? root.read("var/lib/prometheus/node-exporter/berth.prom")) ?? "" }

    /// The value of one sample line (`name{labels}` as written), or nil when it is not there.
    func value(_ sample: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }.flatMap { Double($0.dropFirst(sample.count + 1)) }
    }

    @Test("restarts and rollbacks are counted across passes: kept on disk, never reset by a pass; every file passes promtool")
    func countersAcrossPasses() async throws {
        let first = await reconcile()
        #expect(first.state == .repaired, "\(first)")
        var text = metrics
        try await Promtool.check(text)
        #expect(value("berth_agent_restarts_total", in: text) == 1)
        #expect(value("berth_agent_rollbacks_total", in: text) == 0)
        #expect(value("berth_agent_state{state=\"repaired\"}", in: text) == 1)
        #expect(value("berth_agent_state{state=\"in-sync\"}", in: text) == 0)
        #expect(value("berth_agent_drift_items{kind=\"file-missing\"}", in: text) == 1, "\(text)")
        #expect(value("berth_agent_last_success_timestamp_seconds", in: text) == first.time.timeIntervalSince1970.rounded(.down))
        #expect(text.contains("berth_agent_applied_revision_info{revision=\"\(first.appliedRevision ?? "?")\",fleet=\"prod\"} 1"), "\(text)")

        let quiet = await reconcile()
        #expect(quiet.state == .inSync, "\(quiet)")
        text = metrics
        try await Promtool.check(text)
        #expect(value("berth_agent_restarts_total", in: text) == 1, "a no-op pass changed a counter")
        #expect(value("berth_agent_state{state=\"in-sync\"}", in: text) == 1)
        #expect(value("berth_agent_drift_items{kind=\"file-missing\"}", in: text) == 0)
        #expect(value("berth_agent_passes_total{state=\"in-sync\"}", in: text) == 1)
        #expect(value("berth_agent_passes_total{state=\"repaired\"}", in: text) == 1)
        #expect(value("berth_agent_source_stale", in: text) == 0)

        // A change dockerd will not start with: restart, rollback, restart back.
        try await breakDockerd()
        let broken = await reconcile()
        #expect(broken.state == .rolledBack, "\(broken)")
        text = metrics
        try await Promtool.check(text)
        #expect(value("berth_agent_restarts_total", in: text) == 3)
        #expect(value("berth_agent_rollbacks_total", in: text) == 1)
        #expect(value("berth_agent_state{state=\"rolled-back\"}", in: text) == 1)
        #expect(value("berth_agent_quarantined", in: text) == 1)
        #expect(value("berth_agent_last_success_timestamp_seconds", in: text) == quiet.time.timeIntervalSince1970.rounded(.down),
                "a failed pass moved the last success")

        // Held: nothing restarts, the counters stay where they were.
        let held = await reconcile()
        #expect(held.state == .rolledBack)
        text = metrics
        #expect(value("berth_agent_restarts_total", in: text) == 3)
        #expect(value("berth_agent_rollbacks_total", in: text) == 1)
        #expect(value("berth_agent_passes_total{state=\"rolled-back\"}", in: text) == 2)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: root.file("var/lib/prometheus/node-exporter/berth.prom"))[.posixPermissions] as? Int)
        #expect(mode == 0o644)
        let ledgerMode = try #require(try FileManager.default.attributesOfItem(atPath: root.file("var/lib/berth/metrics.json"))[.posixPermissions] as? Int)
        #expect(ledgerMode == 0o600)
    }

    @Test("no node_exporter directory and no metricsFile: no metrics and no counters written")
    func noDirectoryNoMetrics() async throws {
        try FileManager.default.removeItem(atPath: root.file("var/lib/prometheus"))
        _ = await reconcile()
        #expect(!root.exists("var/lib/prometheus/node-exporter/berth.prom"))
        #expect(!root.exists("var/lib/berth/metrics.json"))
    }

    @Test("one-hot over every state a pass can leave; drift by every kind; certificate and staleness")
    func render() async throws {
        var report = ReconcileReport(host: "web-\"1", agentVersion: "0.2.0", time: Date(timeIntervalSince1970: 1_767_225_600), state: .pendingRestart,
                                     message: "m", source: SourceStatus(kind: .git, location: "x", stale: true), intervalSeconds: 300)
        report.drift = [DriftItem(.fileContent, "/a", "differs"), DriftItem(.fileContent, "/b", "differs"), DriftItem(.fileMode, "/b", "0644")]
        report.serverCertificate = CertificateInfo(subject: "web-1", sans: [], notAfter: Date(timeIntervalSince1970: 1_800_000_000), sha256: "x")
        report.appliedRevision = "rev\nwith \"newline\""
        var ledger = MetricsLedger()
        ledger.count(report)
        let text = AgentMetrics.render(report, ledger: ledger, duration: .milliseconds(31))
        try await Promtool.check(text)
        let states = text.split(separator: "\n").filter { $0.hasPrefix("berth_agent_state{") }
        #expect(states.count == AgentMetrics.states.count)
        #expect(!AgentMetrics.states.contains(.stale) && AgentMetrics.states.contains(.untrusted))
        #expect(states.filter { $0.hasSuffix(" 1") } == ["berth_agent_state{state=\"pending-restart\"} 1"])
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("berth_agent_drift_items{") }.count == DriftItem.Kind.allCases.count)
        #expect(value("berth_agent_drift_items{kind=\"file-content\"}", in: text) == 2)
        #expect(value("berth_agent_drift_items{kind=\"file-mode\"}", in: text) == 1)
        #expect(value("berth_agent_certificate_not_after_timestamp_seconds", in: text) == 1_800_000_000)
        #expect(value("berth_agent_source_stale", in: text) == 1)
        #expect(value("berth_agent_pass_duration_seconds", in: text) == 0.031)
        #expect(value("berth_agent_last_pass_timestamp_seconds", in: text) == 1_767_225_600)
        #expect(!text.contains("berth_agent_last_success_timestamp_seconds"), "never succeeded: no timestamp rather than a made-up one")
        #expect(!text.contains("berth_agent_source_last_fresh"), "stale since the first pass")
        #expect(text.contains("berth_agent_applied_revision_info{revision=\"rev\\nwith \\\"newline\\\"\",fleet=\"\"} 1"), "\(text)")
        #expect(text.contains("host=\"web-\\\"1\""))
    }

    @Test("a pass's events: one line each, at its level, with host, revision and state; a quiet pass's detail only at debug")
    func passLog() async throws {
        let sink = Sink()
        var logger = Logger(label: "test") { _ in JournalLogHandler(journal: true) { sink.append($0) } }
        logger.logLevel = .debug
        logger[metadataKey: "host"] = "web-1"
        let repaired = await reconcile(logger: logger)
        let revision = ReportFormatter.short(repaired.desiredRevision)
        #expect(revision.count == 12)
        let debugLines = sink.lines.filter { $0.hasPrefix("<7>") }
        #expect(debugLines.contains { $0.hasPrefix("<7>metrics written host=web-1 file=") }, "\(sink.lines)")
        #expect(debugLines.contains { $0.contains("listener fd://: passed") }, "\(sink.lines)")

        sink.clear()
        PassLog.events(repaired, logger: logger)
        #expect(sink.lines.contains("<5>did restart docker.service: \(repaired.actions.first { $0.kind == .restart }?.reason ?? "?") host=web-1 revision=\(revision) state=repaired action=restart\n"), "\(sink.lines)")
        #expect(sink.lines.last?.hasPrefix("<5>repaired: ") == true)
        #expect(sink.lines.allSatisfy { $0.hasSuffix("\n") && $0.dropLast().contains("\n") == false })

        sink.clear()
        logger.logLevel = .info
        let quiet = await reconcile(logger: logger)
        PassLog.events(quiet, logger: logger)
        #expect(sink.lines.last == "<6>in-sync: \(quiet.message) host=web-1 revision=\(revision) state=in-sync\n", "\(sink.lines)")
        #expect(sink.lines.allSatisfy { $0.hasPrefix("<6>") }, "a quiet pass logged above info: \(sink.lines)")

        try await breakDockerd()
        sink.clear()
        let rolledBack = await reconcile(logger: logger)
        PassLog.events(rolledBack, logger: logger)
        let last = try #require(sink.lines.last)
        #expect(last.hasPrefix("<3>rolled-back: rolled back to \(revision)"), "\(last)")
        #expect(last.contains(" state=rolled-back"))
        #expect(last.contains(" revision=\(ReportFormatter.short(rolledBack.desiredRevision)) applied=\(revision) "), "\(last)")
    }

    @Test("levels by state", arguments: HostState.allCases)
    func levels(_ state: HostState) {
        let level = PassLog.level(of: state)
        switch state {
        case .inSync, .retired: #expect(level == .info)
        case .rolledBack, .failed, .invalidState, .untrusted: #expect(level == .error)
        case .pendingRestart: #expect(level == .warning)
        default: #expect(level >= .notice)
        }
    }
}

final class Sink: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []
    var lines: [String] { lock.withLock { collected } }
    func append(_ line: String) { lock.withLock { collected.append(line) } }
    func clear() { lock.withLock { collected = [] } }
}
