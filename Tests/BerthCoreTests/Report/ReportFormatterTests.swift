import BerthCore
import Foundation
import Testing

@Suite("reports rendered for people")
struct ReportFormatterTests {
    static let time = Date(timeIntervalSince1970: 1_795_000_000)
    static let revision = "0123456789abcdef0123456789abcdef01234567"
    static let dropIn = "/etc/systemd/system/docker.service.d/50-berth.conf"

    static func base(_ state: HostState = .repaired) -> ReconcileReport {
        var report = ReconcileReport(host: "web-1", agentVersion: "0.3.0", time: time, state: state, message: "repaired 2 drift items",
                                     source: SourceStatus(kind: .git, location: "https://git.example.com/fleet.git", trust: .verified, signer: "ops@example.com"),
                                     intervalSeconds: 300)
        report.fleet = "prod"
        report.desiredRevision = revision
        report.appliedRevision = revision
        return report
    }

    static var full: ReconcileReport {
        var report = base()
        report.nextPassAt = time.addingTimeInterval(300)
        report.drift = [
            DriftItem(.fileContent, dropIn, "content differs", diff: "--- a\n+++ b\n-old\n+new"),
            DriftItem(.fileMode, "/etc/docker/berth/ca.pem", "mode 0600, want 0644"),
        ]
        report.actions = [
            ActionRecord(.write, dropIn, reason: "content differs"),
            ActionRecord(.restart, "docker.service", reason: "drop-in changed", ok: false),
        ]
        report.serverCertificate = CertificateInfo(subject: "CN=web-1", sans: ["ip:10.0.0.5", "dns:web-1"], notAfter: time.addingTimeInterval(86_400 * 90), sha256: "AA:BB")
        report.pendingCSR = PendingCSR(pem: "-----BEGIN CERTIFICATE REQUEST-----\n", sha256: "CC:DD", sans: ["ip:10.0.0.5", "dns:web-1"], reason: "renewal", joinMAC: "00ff")
        report.quarantine = QuarantineInfo(revision: "fedcba9876543210fedcba9876543210fedcba98", contentHash: "e3b0", reason: "dockerd did not come back", since: time)
        report.lastKnownGoodRevision = "89abcdef0123456789abcdef0123456789abcdef"
        report.daemon = DaemonStatus(active: true, pid: 4242, version: "27.3.1", containersRunning: 3, liveRestore: true, listeners: [
            ListenerStatus(url: "fd://", .skipped("no probe needed")),
            ListenerStatus(url: "tcp://0.0.0.0:2376", .failed("connection refused")),
            ListenerStatus(url: "unix:///run/docker-b.sock", .passed),
        ])
        report.journal = ["Mar 01 dockerd[1]: starting", "Mar 01 dockerd[1]: failed"]
        report.warnings = ["fleet.yaml:20:5: hosts.web-9.addresses[0]: bad"]
        report.error = "restart failed"
        return report
    }

    // MARK: summary

    @Test("the summary is one line for the state, then actions, the pending CSR and the error")
    func summary() {
        let text = ReportFormatter.summary(Self.full)
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false) == [
            "web-1: repaired at 0123456789ab: repaired 2 drift items",
            "  did write \(Self.dropIn): content differs",
            "  FAILED restart docker.service: drop-in changed",
            "  pending CSR sha256 CC:DD for ip:10.0.0.5, dns:web-1 (renewal); sign with `berthctl sign web-1`",
            "  error: restart failed",
        ])
    }

    @Test("an in-sync host's summary hides a leftover error; a host with no revision shows -")
    func summaryInSync() {
        var report = Self.base(.inSync)
        report.message = "matches"
        report.error = "old error"
        report.desiredRevision = nil
        #expect(ReportFormatter.summary(report) == "web-1: in-sync at -: matches")
    }

    @Test("revisions are shortened to 12 digits, but a dirty one is shown whole", arguments: [
        ("0123456789abcdef0123456789abcdef01234567", "0123456789ab"),
        ("0123456789ab", "0123456789ab"),
        ("0123456789abcdef+dirty", "0123456789abcdef+dirty"),
    ])
    func shortRevision(_ revision: String, _ shown: String) {
        #expect(ReportFormatter.short(revision) == shown)
        #expect(ReportFormatter.short(nil) == "-")
    }

    // MARK: detail

    @Test("the detail shows every part of the report")
    func detail() {
        let lines = ReportFormatter.detail(Self.full).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let time = UTCTime.format(Self.time)
        let expected = [
            "host:      web-1 (fleet prod, agent 0.3.0)",
            "state:     repaired: repaired 2 drift items",
            "revision:  desired 0123456789ab, applied 0123456789ab",
            "source:    git https://git.example.com/fleet.git, signed by ops@example.com",
            "time:      \(time); next pass \(UTCTime.format(Self.time.addingTimeInterval(300)))",
            "cert:      CN=web-1, SANs ip:10.0.0.5, dns:web-1, expires \(UTCTime.format(Self.time.addingTimeInterval(86_400 * 90))), sha256 AA:BB",
            "csr:       sha256 CC:DD for ip:10.0.0.5, dns:web-1: renewal (vouched by a join token)",
            "quarantine: fedcba987654 since \(time): dockerd did not come back; `berth-agent reconcile --retry` tries it again",
            "last-known-good: 89abcdef0123",
            "dockerd:   active pid 4242, 27.3.1, 3 running, live-restore on",
            "  fd://: skipped (no probe needed)",
            "  tcp://0.0.0.0:2376: failed (connection refused)",
            "  unix:///run/docker-b.sock: passed",
            "warning:   fleet.yaml:20:5: hosts.web-9.addresses[0]: bad",
            "drift:",
            "  file-content \(Self.dropIn): content differs",
            "    --- a",
            "    +++ b",
            "    -old",
            "    +new",
            "  file-mode /etc/docker/berth/ca.pem: mode 0600, want 0644",
            "actions:",
            "  write \(Self.dropIn): content differs",
            "  FAILED restart docker.service: drop-in changed",
            "journalctl -u docker (last lines):",
            "  Mar 01 dockerd[1]: starting",
            "  Mar 01 dockerd[1]: failed",
            "error:     restart failed",
        ]
        #expect(lines == expected)
    }

    @Test("a stale source is called out with its error, and the trust line says how the commit was trusted", arguments: [
        (CommitTrust?.some(.verified), nil, "signed by an allowed signer"),
        (.some(.unsigned), nil, "UNSIGNED (no allowed signers configured)"),
        (.some(.untrusted), "ops@example.com", "UNTRUSTED"),
        (nil, nil, "trust not recorded"),
    ] as [(CommitTrust?, String?, String)])
    func sourceLines(_ trust: CommitTrust?, _ signer: String?, _ line: String) {
        var report = Self.base(.failed)
        report.source = SourceStatus(kind: .state, location: "/srv/fleet", stale: true, error: "git fetch timed out", trust: trust, signer: signer)
        let detail = ReportFormatter.detail(report)
        #expect(detail.contains("revision:  desired 0123456789ab, applied 0123456789ab (source STALE: git fetch timed out)"))
        #expect(detail.contains("source:    state /srv/fleet, \(line)\n"), "\(detail)")
    }

    @Test("a minimal report leaves out what it does not have and writes ? for unknowns")
    func minimalDetail() {
        var report = Self.base(.failed)
        report.fleet = nil
        report.daemon = DaemonStatus(active: false, pid: 0, version: nil, containersRunning: nil, liveRestore: nil, listeners: [])
        let detail = ReportFormatter.detail(report)
        #expect(detail.hasPrefix("host:      web-1 (fleet ?, agent 0.3.0)"))
        #expect(detail.contains("next pass -"))
        #expect(detail.contains("dockerd:   not active pid 0, ?, ? running, live-restore ?"))
        for absent in ["cert:", "csr:", "quarantine:", "last-known-good:", "drift:", "actions:", "journalctl", "error:", "warning:"] {
            #expect(!detail.contains(absent), "\(absent)")
        }
    }

    // MARK: plan

    @Test("a plan lists refusals, what is held, drift with its diff, what would be done and a deferred restart")
    func plan() {
        var report = Self.base(.pendingRestart)
        report.pendingCSR = PendingCSR(pem: "", sha256: "CC:DD", sans: ["dns:web-1"], reason: "first certificate")
        report.actions = [ActionRecord(.generateKey, "/var/lib/berth/keys/server-key.pem", reason: "no key yet")]
        let plan = HostPlan(
            drift: [DriftItem(.fileContent, Self.dropIn, "content differs", diff: "--- a\n+++ b\n-old\n+new\n")],
            actions: [.write(ManagedFile(path: Self.dropIn, text: "x", mode: 0o644, role: .dropIn), reason: "content differs"),
                      .daemonReload(reason: "the drop-in changed")],
            restart: .deferred(because: "the drop-in changed", policy: "restart window Sun 02:00-04:00 UTC"),
            blockers: ["daemon.json sets hosts"],
            held: "quarantined since yesterday")
        #expect(ReportFormatter.plan(report, plan: plan).split(separator: "\n", omittingEmptySubsequences: false) == [
            "REFUSED: daemon.json sets hosts",
            "HELD: quarantined since yesterday",
            "drift: file-content \(Self.dropIn): content differs",
            "--- a",
            "+++ b",
            "-old",
            "+new",
            "would write \(Self.dropIn) (0644): content differs",
            "would systemctl daemon-reload: the drop-in changed",
            "would NOT restart docker now (the drop-in changed): restart window Sun 02:00-04:00 UTC",
            "certificate: first certificate; CSR sha256 CC:DD",
            "would generate-key /var/lib/berth/keys/server-key.pem: no key yet",
        ])
    }

    @Test("an empty plan says there is nothing to do; no plan falls back to the summary")
    func noOpPlan() {
        let report = Self.base(.inSync)
        #expect(ReportFormatter.plan(report, plan: HostPlan()) == "web-1: nothing to do; the host matches 0123456789ab")
        #expect(ReportFormatter.plan(report, plan: nil) == ReportFormatter.summary(report))
        var withCSR = report
        withCSR.pendingCSR = PendingCSR(pem: "", sha256: "CC:DD", sans: [], reason: "renewal")
        #expect(ReportFormatter.plan(withCSR, plan: HostPlan()) == "certificate: renewal; CSR sha256 CC:DD")
    }

    // MARK: hostile reports

    /// Control characters of every kind, and a newline that would forge a line of its own.
    static let hostile = "\u{1B}[2J\u{1B}]0;owned\u{07}\u{9B}31m\u{202E}gnp.exe\u{2066}\u{7F}\u{0}\r\nweb-9: in-sync\tFAKE"

    static var hostileReport: ReconcileReport {
        let h = hostile
        var report = ReconcileReport(host: h, agentVersion: h, time: time, state: .failed, message: h,
                                     source: SourceStatus(kind: .git, location: h, stale: true, error: h, trust: .verified, signer: h),
                                     intervalSeconds: 300)
        report.fleet = h
        report.desiredRevision = h
        report.appliedRevision = h + "+dirty"
        report.drift = [DriftItem(.fileContent, h, h, diff: h + "\n" + h)]
        report.actions = [ActionRecord(.write, h, reason: h), ActionRecord(.restart, h, reason: h, ok: false)]
        report.serverCertificate = CertificateInfo(subject: h, sans: [h, h], notAfter: time, sha256: h)
        report.pendingCSR = PendingCSR(pem: h, sha256: h, sans: [h], reason: h, joinMAC: h)
        report.daemon = DaemonStatus(active: true, pid: 1, version: h, containersRunning: 1, liveRestore: false,
                                     listeners: [ListenerStatus(url: h, .failed(h)), ListenerStatus(url: h, .skipped(h)), ListenerStatus(url: h, .passed)])
        report.quarantine = QuarantineInfo(revision: h, contentHash: h, reason: h, since: time)
        report.lastKnownGoodRevision = h
        report.journal = [h, h]
        report.error = h
        report.warnings = [h]
        return report
    }

    static var hostilePlan: HostPlan {
        let h = hostile
        return HostPlan(drift: [DriftItem(.symlink, h, h, diff: h)],
                        actions: [.write(ManagedFile(path: h, text: h, mode: 0o644, role: .dropIn), reason: h), .setMode(path: h, mode: 0o600, reason: h),
                                  .setOwner(path: h, reason: h), .daemonReload(reason: h), .restartDocker(reason: h)],
                        restart: .deferred(because: h, policy: h), blockers: [h], held: h)
    }

    /// Scalars a terminal acts on: C0 but newline and tab, DEL, C1, bidirectional overrides and isolates.
    static func dangerous(_ text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            let v = scalar.value
            return (v < 0x20 && v != 0x0a && v != 0x09) || v == 0x7f || (0x80...0x9f).contains(v)
                || (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v)
        }.map { String(format: "U+%04X", $0.value) }
    }

    @Test("a report whose every string is hostile prints no control character, in any view", arguments: ["summary", "detail", "plan", "plan without a plan"])
    func hostileReportIsEscaped(_ view: String) {
        let report = Self.hostileReport
        let text: String
        switch view {
        case "summary": text = ReportFormatter.summary(report)
        case "detail": text = ReportFormatter.detail(report)
        case "plan": text = ReportFormatter.plan(report, plan: Self.hostilePlan)
        default: text = ReportFormatter.plan(report, plan: nil)
        }
        #expect(!Array(text.utf8).contains(0x1b), "an ESC byte reached the terminal")
        #expect(Self.dangerous(text) == [])
        #expect(text.contains("\\x1b[2J"), "the escape is shown, not dropped")
        #expect(text.contains("\\u{202e}"))
        #expect(text.contains("\\x9b"))
    }

    @Test("a hostile one-line field cannot forge a line of its own")
    func noForgedLines() {
        var report = Self.base(.failed)
        report.message = "ok\nweb-9: in-sync at 0123456789ab: fine"
        report.host = "web-1\r\nweb-8"
        report.actions = [ActionRecord(.write, "/x\nweb-7: in-sync", reason: "r\nweb-6")]
        for text in [ReportFormatter.summary(report), ReportFormatter.detail(report)] {
            let lines = text.split(separator: "\n")
            let forged = lines.filter { line in ["web-9", "web-8", "web-7", "web-6"].contains { line.hasPrefix($0) } }
            #expect(forged.isEmpty, "\(text)")
        }
        #expect(ReportFormatter.summary(report).split(separator: "\n").count == 2)
    }

    // MARK: ListenerStatus JSON

    func json(_ status: ListenerStatus) throws -> [String: String] {
        let data = try ReconcileReport.encoder.encode(status)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    @Test("a listener's JSON keeps the keys url, probe and detail")
    func listenerJSON() throws {
        #expect(try json(ListenerStatus(url: "tcp://0.0.0.0:2376", .failed("connection refused")))
                == ["url": "tcp://0.0.0.0:2376", "probe": "failed", "detail": "connection refused"])
        #expect(try json(ListenerStatus(url: "fd://", .skipped("fd:// needs no probe"))) == ["url": "fd://", "probe": "skipped", "detail": "fd:// needs no probe"])
        #expect(try json(ListenerStatus(url: "tcp://0.0.0.0:2376", .passed)) == ["url": "tcp://0.0.0.0:2376", "probe": "passed"])
    }

    @Test("a listener's JSON reads back as it was written", arguments: [ProbeResult.passed, .failed("refused"), .skipped("insecure")])
    func listenerRoundTrip(_ result: ProbeResult) throws {
        let status = ListenerStatus(url: "tcp://10.0.0.5:2376", result)
        let data = try ReconcileReport.encoder.encode(status)
        #expect(try ReconcileReport.decoder.decode(ListenerStatus.self, from: data) == status)
    }

    @Test("a probe word the controller does not know reads as a failure, and a missing detail as empty")
    func listenerLenient() throws {
        let unknown = #"{"url": "tcp://x:1", "probe": "exploded", "detail": "boom"}"#
        #expect(try ReconcileReport.decoder.decode(ListenerStatus.self, from: Data(unknown.utf8)).result == .failed("boom"))
        let bare = #"{"url": "tcp://x:1", "probe": "skipped"}"#
        #expect(try ReconcileReport.decoder.decode(ListenerStatus.self, from: Data(bare.utf8)).result == .skipped(""))
        let noURL = #"{"probe": "passed"}"#
        #expect(throws: DecodingError.self) { try ReconcileReport.decoder.decode(ListenerStatus.self, from: Data(noURL.utf8)) }
    }

    @Test("a whole report round-trips through its JSON, listeners included")
    func reportRoundTrip() throws {
        let report = Self.full
        #expect(try ReconcileReport.decode(report.encoded()) == report)
        let text = String(decoding: try report.encoded(), as: UTF8.self)
        #expect(text.contains(#""probe" : "failed""#), "\(text)")
        #expect(text.hasSuffix("}\n"))
    }
}
