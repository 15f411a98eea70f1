import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// A mid-sized fleet in every state `berthctl status` can show, with the details a real one has
/// (a rollback's diff, journal and quarantine; a repair's diff; a CSR waiting to be signed; a
/// certificate inside renewBefore; a host one commit behind; a forged report; a host that never
/// reported): for the status page's browser test and the README's screenshot
/// (`berth-fleet-gen --showcase`). ``SyntheticFleet`` is the one for scale; this one is for looks
/// and for every branch of the page.
///
/// With ``hostile`` one host (``hostileHost``) is compromised: it signs, with its own key, a
/// report whose every text field holds ``payload`` (markup, quotes, an ampersand, control and
/// bidirectional characters), as a host's root could.
public struct ShowcaseFleet: Sendable {
    public enum Condition: String, Sendable, CaseIterable {
        case rolledBack, failed, forged, untrusted, invalidState, stale, silent, pendingRestart, awaitingCertificate
        case repaired, inSync, renewing, behind, hostile
    }

    public var count: Int
    public var directory: String
    public var now: Date
    public var hostile: Bool

    /// Markup that would run or add an element if a page placed it unescaped, with the other
    /// characters a page or a terminal must not pass through.
    public static let payload = "<script>document.title='pwned'</script><img src=x id=injected onerror=\"document.title='pwned'\">"
        + " & \"quoted\" 'single' \u{1B}[31m\u{7}\u{202E}"

    public init(count: Int, directory: String, now: Date = Date(), hostile: Bool = false) {
        precondition(count >= 16, "a showcase fleet needs at least 16 hosts to hold every state")
        self.count = count
        self.directory = directory
        self.now = now
        self.hostile = hostile
    }

    public var fleetDirectory: String { "\(directory)/fleet" }
    public var reportDirectory: String { "\(directory)/reports" }

    static let roles = ["web", "api", "db", "cache", "queue", "ci", "edge", "build"]

    /// `web-01`, `api-01`, … `build-01`, `web-02`, …
    public static func hostName(_ index: Int) -> String {
        let number = index / roles.count + 1
        return "\(roles[index % roles.count])-\(number < 10 ? "0" : "")\(number)"
    }

    /// The first hosts hold one of every condition; the rest are mostly in sync, with a repair,
    /// a deferred restart and a certificate due for renewal here and there.
    public func condition(ofHost index: Int) -> Condition {
        let fixed: [Condition] = [.rolledBack, .failed, .forged, .untrusted, .invalidState, .stale, .silent, .pendingRestart,
                                  .awaitingCertificate, .repaired, .renewing, .behind, hostile ? .hostile : .inSync]
        if index < fixed.count { return fixed[index] }
        if index % 9 == 4 { return .repaired }
        if index % 13 == 6 { return .pendingRestart }
        if index % 11 == 2 { return .renewing }
        return .inSync
    }

    public var rolledBackHost: String { Self.hostName(0) }
    public var hostileHost: String? { hostile ? Self.hostName(12) : nil }

    /// How many hosts `berthctl status` must show in each state.
    public func expectedStates() -> [HostState: Int] {
        var counts: [HostState: Int] = [:]
        for index in 0..<count { counts[Self.shownState(condition(ofHost: index)), default: 0] += 1 }
        return counts
    }

    static func shownState(_ condition: Condition) -> HostState {
        switch condition {
        case .rolledBack: return .rolledBack
        case .failed, .hostile: return .failed
        case .forged: return .unverified
        case .untrusted: return .untrusted
        case .invalidState: return .invalidState
        case .stale: return .stale
        case .silent: return .unknown
        case .pendingRestart: return .pendingRestart
        case .awaitingCertificate: return .awaitingCertificate
        case .repaired: return .repaired
        case .inSync, .renewing, .behind: return .inSync
        }
    }

    /// Writes the fleet repository (two commits: hosts applied the second, one host the first),
    /// the certificates, and every host's signed report in the report directory. Returns the
    /// current revision.
    @discardableResult
    public func generate() async throws -> String {
        for dir in [fleetDirectory + "/certs", fleetDirectory + "/clients", reportDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let ca = try FleetCA.create(fleet: "prod", now: now)
        try AtomicFile.write(ca.certificatePEM, to: "\(fleetDirectory)/ca.pem", mode: 0o644)
        let client = try ClientCertificate.create(name: "alice", days: 365, now: now)
        try AtomicFile.write(client.certificatePEM, to: "\(fleetDirectory)/clients/alice.pem", mode: 0o644)
        let authority = try FleetCA(certificatePEM: ca.certificatePEM, privateKeyPEM: ca.privateKeyPEM)

        var keys: [String] = []
        var csrs: [String] = []
        for index in 0..<count {
            let name = Self.hostName(index)
            let key = try HostIdentity.generateKey()
            let csr = try HostIdentity.makeCSR(hostName: name, subjectAltNames: sans(index), privateKeyPEM: key)
            keys.append(key)
            csrs.append(csr)
            if condition(ofHost: index) != .awaitingCertificate {
                try AtomicFile.write(try authority.issueServerCertificate(csrPEM: csr, days: 90, now: now), to: "\(fleetDirectory)/certs/\(name).pem", mode: 0o644)
            }
        }
        let git = Git()
        try AtomicFile.write(fleetYAML(labels: "env=prod"), to: "\(fleetDirectory)/fleet.yaml", mode: 0o644)
        try await git.run(fleetDirectory, "init", "-q", "-b", "main")
        try await git.run(fleetDirectory, "add", "-A")
        try await git.run(fleetDirectory, "commit", "-q", "-m", "prod fleet")
        let previous = try await git.run(fleetDirectory, "rev-parse", "HEAD")
        try AtomicFile.write(fleetYAML(labels: "env=prod, tier=1"), to: "\(fleetDirectory)/fleet.yaml", mode: 0o644)
        try await git.run(fleetDirectory, "commit", "-q", "-am", "label tier=1")
        let revision = try await git.run(fleetDirectory, "rev-parse", "HEAD")

        for index in 0..<count {
            guard let report = try report(index, revision: revision, previous: previous, csrPEM: csrs[index]) else { continue }
            let name = Self.hostName(index)
            let json = try report.encoded()
            let signer = condition(ofHost: index) == .forged ? keys[(index + 1) % count] : keys[index]
            try AtomicFile.write(try ReportSignature.sign(json, privateKeyPEM: signer).text, to: "\(reportDirectory)/\(name).json.sig", mode: 0o644)
            try AtomicFile.write(json, to: "\(reportDirectory)/\(name).json", mode: 0o644)
        }
        return revision
    }

    func address(_ index: Int) -> String { "10.20.\(index / 250).\(index % 250 + 2)" }

    func sans(_ index: Int) -> [SubjectAltName] {
        [.ip(IPAddress(address(index))!), .dnsName("\(Self.hostName(index)).prod.example.com")]
    }

    func fleetYAML(labels: String) -> String {
        var lines = ["apiVersion: berth/v1", "fleet: prod", "ca: ca.pem", "defaults:", "  listeners: [fd://, tcp://0.0.0.0:2376]",
                     "  clients: [alice]", "  tls:", "    serverCertDays: 90", "    renewBefore: 30d", "  restart:",
                     "    policy: when-safe", "    window: \"Sun 02:00-04:00 UTC\"", "  daemon:", "    labels: [\(labels)]", "hosts:"]
        for index in 0..<count {
            lines.append("  \(Self.hostName(index)):")
            lines.append("    addresses: [\(address(index)), \(Self.hostName(index)).prod.example.com]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let dropIn = "/etc/systemd/system/docker.service.d/50-berth.conf"

    /// The report a host in its condition publishes (nil for one that never reported).
    func report(_ index: Int, revision: String, previous: String, csrPEM: String) throws -> ReconcileReport? {
        let name = Self.hostName(index)
        let condition = condition(ofHost: index)
        if condition == .silent { return nil }
        let state = Self.shownState(condition) == .stale || Self.shownState(condition) == .unverified ? .inSync : Self.shownState(condition)
        let age: TimeInterval = condition == .stale ? 3 * 3600 + 600 : Double(17 + index * 37 % 280)
        var report = ReconcileReport(host: name, agentVersion: "0.9.0", time: now.addingTimeInterval(-age), state: state, message: "in sync",
                                     source: SourceStatus(kind: .git, location: "https://git.example.com/ops/fleet.git",
                                                          trust: .verified, signer: "ops ssh-ed25519 SHA256:q3J1d8sKbJ0Yc0mV2pE6Gm9nq6wB0Qy5o2Jc3H4x1kE"),
                                     intervalSeconds: 300)
        report.fleet = "prod"
        report.desiredRevision = revision
        report.appliedRevision = revision
        report.lastKnownGoodRevision = revision
        report.nextPassAt = report.time.addingTimeInterval(300)
        let certDays: Double = condition == .renewing ? Double(6 + index % 20) : Double(40 + index * 7 % 50)
        report.serverCertificate = CertificateInfo(subject: "CN=\(name)", sans: sans(index).map(\.description),
                                                   notAfter: now.addingTimeInterval(certDays * 86_400), sha256: String(repeating: "ab", count: 32))
        report.daemon = DaemonStatus(active: true, pid: 700 + index, version: "20.10.24+dfsg1", containersRunning: index * 5 % 23, liveRestore: index % 2 == 0,
                                     listeners: [ListenerStatus(url: "fd://", .skipped("fd:// needs no probe")), ListenerStatus(url: "tcp://0.0.0.0:2376", .passed)])
        let goodLine = "ExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376 --tlsverify --tlscacert=/etc/docker/berth/clients.pem --label env=prod"
        switch condition {
        case .rolledBack:
            report.message = "dockerd did not come back on revision \(ReportFormatter.short(revision)); restored the last-known-good set and restarted"
            report.appliedRevision = previous
            report.lastKnownGoodRevision = previous
            report.quarantine = QuarantineInfo(revision: revision, contentHash: String(repeating: "5e", count: 32),
                                               reason: "docker.service failed verification: tcp://0.0.0.0:2376 did not answer mTLS /_ping within 60s",
                                               since: now.addingTimeInterval(-age - 60))
            report.drift = [DriftItem(.fileContent, Self.dropIn, "differs from the desired content", diff: """
                --- \(Self.dropIn)
                +++ desired
                @@ -3,3 +3,3 @@
                 [Service]
                 ExecStart=
                -\(goodLine)
                +\(goodLine) --label tier=1 --tlscert=/etc/docker/berth/server-2.pem
                """)]
            report.actions = [ActionRecord(.write, Self.dropIn, reason: "content differs"), ActionRecord(.daemonReload, "docker.service", reason: "drop-in changed"),
                              ActionRecord(.restart, "docker.service", reason: "daemon arguments changed", ok: false),
                              ActionRecord(.rollback, "last-known-good \(ReportFormatter.short(previous))", reason: "verification failed"),
                              ActionRecord(.quarantine, ReportFormatter.short(revision), reason: "not applied again until it changes or --retry")]
            report.journal = ["dockerd[4121]: failed to load listeners: open /etc/docker/berth/server-2.pem: no such file or directory",
                              "systemd[1]: docker.service: Main process exited, code=exited, status=1/FAILURE",
                              "systemd[1]: docker.service: Failed with result 'exit-code'."]
        case .failed:
            report.message = "docker.service did not become active within 60s, and the last-known-good set did not start it either"
            report.error = "verification failed twice: unit docker.service is failed; /_ping on the unix socket refused"
            report.appliedRevision = nil
            report.drift = [DriftItem(.daemonDown, "docker.service", "dockerd is not running")]
            report.actions = [ActionRecord(.restart, "docker.service", reason: "dockerd was down", ok: false)]
            report.journal = ["dockerd[812]: failed to start daemon: pid file found, ensure docker is not running or delete /var/run/docker.pid",
                              "systemd[1]: docker.service: Start request repeated too quickly."]
            report.daemon?.active = false
        case .untrusted:
            report.message = "commit \(ReportFormatter.short(revision)) is signed by a key that is not in allowed signers; nothing was applied"
            report.source.trust = .untrusted
            report.source.signer = nil
            report.appliedRevision = previous
        case .invalidState:
            report.message = "the desired state is invalid; nothing was changed"
            report.error = "fleet.yaml:38:7: hosts.\(name).addresses[0]: \"10.20.0.500\" is neither an IP address nor a DNS name"
            report.appliedRevision = previous
        case .pendingRestart:
            report.message = "dockerd runs older files; restart deferred to the window Sun 02:00-04:00 UTC (3 containers running, live-restore off)"
            report.drift = [DriftItem(.staleDaemon, "docker.service", "dockerd started before the managed files changed")]
            report.actions = [ActionRecord(.write, "/etc/docker/berth/clients.pem", reason: "client ci added")]
        case .awaitingCertificate:
            report.message = "waiting for berthctl sign: TCP listeners stay off until the certificate arrives"
            report.serverCertificate = nil
            report.pendingCSR = PendingCSR(pem: csrPEM, sha256: try Fingerprint.sha256(ofCSRPEM: csrPEM), sans: sans(index).map(\.description), reason: "new host")
        case .repaired:
            report.message = "repaired 2 drifted items and restarted dockerd; verified"
            report.drift = [DriftItem(.fileContent, Self.dropIn, "differs from the desired content (edited by hand)", diff: """
                --- \(Self.dropIn)
                +++ desired
                @@ -3,3 +3,3 @@
                 [Service]
                 ExecStart=
                -ExecStart=/usr/sbin/dockerd -H fd:// --debug
                +\(goodLine) --label tier=1
                """), DriftItem(.fileMode, "/etc/docker/berth/server-key.pem", "mode 0644, want 0600")]
            report.actions = [ActionRecord(.write, Self.dropIn, reason: "content differs"), ActionRecord(.chmod, "/etc/docker/berth/server-key.pem", reason: "0644 → 0600"),
                              ActionRecord(.daemonReload, "docker.service", reason: "drop-in changed"), ActionRecord(.restart, "docker.service", reason: "live-restore on")]
        case .behind:
            report.appliedRevision = previous
            report.desiredRevision = previous
            report.source.stale = true
            report.source.error = "git fetch: unable to access 'https://git.example.com/ops/fleet.git/': Could not resolve host"
        case .hostile:
            let p = Self.payload
            report.message = p
            report.error = "error " + p
            report.appliedRevision = "+applied" + p
            report.quarantine = QuarantineInfo(revision: "+quarantine" + p, contentHash: p, reason: "quarantine " + p, since: now)
            report.drift = [DriftItem(.fileContent, "object " + p, "reason " + p, diff: "--- a\n+++ b\n@@ -1 +1 @@\n-old " + p + "\n+new " + p + "\n")]
            report.actions = [ActionRecord(.write, "action " + p, reason: "action reason " + p, ok: false)]
            report.journal = ["journal " + p]
            report.source.error = "source " + p
            report.source.location = "location " + p
            report.source.stale = true
            report.source.signer = "signer " + p
            report.warnings = ["warning " + p]
            report.agentVersion = "agent " + p
            report.daemon?.version = "dockerd " + p
            report.serverCertificate?.subject = "subject " + p
            report.pendingCSR = PendingCSR(pem: "csr " + p, sha256: "sha256 " + p, sans: ["san " + p], reason: "csr reason " + p)
        case .inSync, .renewing, .stale, .forged, .silent:
            break
        }
        return report
    }
}
