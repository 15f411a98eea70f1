import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// A generated fleet of `count` hosts for measuring the controller at scale
/// (`bench/fleet-scale.sh`) and for the tests that check it stays correct there.
///
/// Everything a real fleet has, made the way Berth makes it: a fleet CA, fleet.yaml declaring
/// every host, `certs/HOST.pem` issued by `FleetCA` from each host's own CSR, and each host's
/// report signed with its own key (`ReportSignature`), written to a report directory and, as
/// `refs/berth/status/HOST`, into the fleet repository through one `git fast-import` stream.
/// With ``agentRoots`` each host also gets a root directory holding its last report as the
/// agent keeps it, for `berth-agent publish`.
///
/// Hosts are in mixed states, decided by their index alone (``condition(ofHost:)``), so a test
/// can know the right count of every state without reading what was written.
///
/// This is a library of its own (not `TestSupport`) because both the generator executable and
/// the tests use it, and the executable must not link the test helpers (fakes, the CLI runner).
public struct SyntheticFleet: Sendable {
    /// What a host's report says, and whether it is believed.
    public enum Condition: String, Sendable, CaseIterable {
        case inSync, repaired, failed, pendingRestart, stale
        /// Signed by another host's key: `berthctl status` must show it `unverified`.
        case forged
        /// No report at all: `unknown`.
        case silent

        /// The state `berthctl status` must show for a host in this condition.
        public var shownState: HostState {
            switch self {
            case .inSync: return .inSync
            case .repaired: return .repaired
            case .failed: return .failed
            case .pendingRestart: return .pendingRestart
            case .stale: return .stale
            case .forged: return .unverified
            case .silent: return .unknown
            }
        }
    }

    public var count: Int
    /// Where everything is written: `fleet/`, `reports/`, `ca-key.pem`, `roots/`.
    public var directory: String
    public var now: Date
    /// Every host in sync at the current commit (status exits 0), instead of the mixed states.
    public var allInSync: Bool
    /// Also write `roots/HOST/var/lib/berth/last-report.json` (and `.sig`) for every host.
    public var agentRoots: Bool

    public init(count: Int, directory: String, now: Date = Date(), allInSync: Bool = false, agentRoots: Bool = false) {
        self.count = count
        self.directory = directory
        self.now = now
        self.allInSync = allInSync
        self.agentRoots = agentRoots
    }

    public var fleetDirectory: String { "\(directory)/fleet" }
    public var reportDirectory: String { "\(directory)/reports" }
    public var caKeyPath: String { "\(directory)/ca-key.pem" }
    public func agentRoot(_ index: Int) -> String { "\(directory)/roots/\(Self.hostName(index))" }

    public static func hostName(_ index: Int) -> String { "h\(index)" }

    /// The condition of host `index` in a mixed fleet: per hundred hosts two repaired, one each
    /// failed, pending-restart and stale; per thousand one forged report and one silent host.
    public static func condition(ofHost index: Int) -> Condition {
        switch index % 1000 {
        case 42: return .forged
        case 77: return .silent
        default: break
        }
        switch index % 100 {
        case 3, 53: return .repaired
        case 7: return .failed
        case 13: return .pendingRestart
        case 21: return .stale
        default: return .inSync
        }
    }

    public func condition(ofHost index: Int) -> Condition {
        allInSync ? .inSync : Self.condition(ofHost: index)
    }

    /// How many hosts `berthctl status` must show in each state.
    public func expectedStates() -> [HostState: Int] {
        var counts: [HostState: Int] = [:]
        for index in 0..<count { counts[condition(ofHost: index).shownState, default: 0] += 1 }
        return counts
    }

    /// What was made, and how long each step took (the generator prints it).
    public struct Generated: Sendable {
        public var revision: String
        public var steps: [(step: String, seconds: Double)]
    }

    /// Writes the whole fleet. Keys, certificates and signatures are made on every core.
    public func generate() async throws -> Generated {
        var steps: [(String, Double)] = []
        var started = ContinuousClock.now
        func lap(_ step: String) {
            let elapsed = ContinuousClock.now - started
            steps.append((step, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            started = ContinuousClock.now
        }
        for dir in [fleetDirectory + "/certs", fleetDirectory + "/clients", reportDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let ca = try FleetCA.create(fleet: "scale", now: now)
        try Self.write(ca.privateKeyPEM, to: caKeyPath, mode: 0o600)
        try Self.write(ca.certificatePEM, to: "\(fleetDirectory)/ca.pem")
        let client = try ClientCertificate.create(name: "alice", days: 365, now: now)
        try Self.write(client.certificatePEM, to: "\(fleetDirectory)/clients/alice.pem")
        try Self.write(fleetYAML(), to: "\(fleetDirectory)/fleet.yaml")
        let authority = try FleetCA(certificatePEM: ca.certificatePEM, privateKeyPEM: ca.privateKeyPEM)
        let hosts = try await Self.parallel(count) { index in try HostMaterial(index: index, ca: authority, now: now) }
        for host in hosts { try Self.write(host.certificatePEM, to: "\(fleetDirectory)/certs/\(host.name).pem") }
        lap("keys, CSRs and certificates")

        let git = Git()
        try await git.run(fleetDirectory, "init", "-q", "-b", "main")
        try await git.run(fleetDirectory, "add", "-A")
        try await git.run(fleetDirectory, "commit", "-q", "-m", "fleet of \(count) hosts")
        let revision = try await git.run(fleetDirectory, "rev-parse", "HEAD")
        lap("fleet repository commit")

        let reports = try await Self.parallel(count) { index -> SignedReport? in
            try report(for: hosts[index], index: index, revision: revision, forger: hosts[(index + 1) % count])
        }
        lap("reports signed")
        for report in reports.compactMap({ $0 }) {
            try Self.write(report.signature, to: "\(reportDirectory)/\(report.host).json.sig")
            try Self.write(report.json, to: "\(reportDirectory)/\(report.host).json")
            if agentRoots, let index = Int(report.host.dropFirst()) {
                let lib = "\(agentRoot(index))/var/lib/berth"
                try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
                chmod(lib, 0o700)
                try Self.write(report.signature, to: "\(lib)/last-report.json.sig", mode: 0o600)
                try Self.write(report.json, to: "\(lib)/last-report.json", mode: 0o600)
            }
        }
        lap("reports written")
        let stream = Self.fastImportStream(reports.compactMap { $0 }, time: now)
        let imported = try await git.run(fleetDirectory, arguments: ["fast-import", "--quiet"], input: stream)
        guard imported.succeeded else { throw BerthError(.commandFailed, "git fast-import failed: \(imported.errorSummary)") }
        lap("refs/berth/status/* (one git fast-import)")
        return Generated(revision: revision, steps: steps)
    }

    func fleetYAML() -> String {
        var lines = [
            "apiVersion: berth/v1", "fleet: scale", "ca: ca.pem",
            "defaults:", "  listeners: [fd://, tcp://0.0.0.0:2376]", "  clients: [alice]", "  tls:", "    serverCertDays: 90",
            "hosts:",
        ]
        for index in 0..<count {
            lines.append("  \(Self.hostName(index)):")
            lines.append("    addresses: [\(Self.address(index))]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func address(_ index: Int) -> String {
        let n = index + 257
        return "10.\(n >> 16 & 255).\(n >> 8 & 255).\(n & 255)"
    }

    /// A host's key (in memory only) and the certificate the fleet CA issued from its CSR.
    struct HostMaterial: Sendable {
        var name: String
        var keyPEM: String
        var certificatePEM: String
        var certificateSHA256: String
        var sans: [SubjectAltName]

        init(index: Int, ca: FleetCA, now: Date) throws {
            name = SyntheticFleet.hostName(index)
            keyPEM = try HostIdentity.generateKey()
            sans = [.ip(IPAddress(SyntheticFleet.address(index))!), .dnsName(name)]
            let csr = try HostIdentity.makeCSR(hostName: name, subjectAltNames: sans, privateKeyPEM: keyPEM)
            certificatePEM = try ca.issueServerCertificate(csrPEM: csr, days: 90, now: now)
            certificateSHA256 = try Fingerprint.sha256(ofCertificatePEM: certificatePEM)
        }
    }

    struct SignedReport: Sendable {
        var host: String
        var json: [UInt8]
        var signature: String
    }

    /// The report a host in its condition would publish, signed as the agent signs it.
    func report(for host: HostMaterial, index: Int, revision: String, forger: HostMaterial) throws -> SignedReport? {
        let condition = condition(ofHost: index)
        if condition == .silent { return nil }
        let state: HostState
        switch condition {
        case .repaired: state = .repaired
        case .failed: state = .failed
        case .pendingRestart: state = .pendingRestart
        default: state = .inSync
        }
        let time = condition == .stale ? now.addingTimeInterval(-7200) : now.addingTimeInterval(-Double(index % 280))
        var report = ReconcileReport(host: host.name, agentVersion: "0.9.0", time: time, state: state,
                                     message: Self.message(state), source: SourceStatus(kind: .git, location: "https://git.example.com/fleet.git",
                                                                                         trust: .verified, signer: "ops ssh-ed25519 AAAAC3Nza…"),
                                     intervalSeconds: 300)
        report.fleet = "scale"
        report.desiredRevision = revision
        report.appliedRevision = state == .pendingRestart || state == .failed ? nil : revision
        report.lastKnownGoodRevision = revision
        report.serverCertificate = CertificateInfo(subject: "CN=\(host.name)", sans: host.sans.map(\.description),
                                                   notAfter: now.addingTimeInterval(90 * 86_400), sha256: host.certificateSHA256)
        report.nextPassAt = time.addingTimeInterval(300)
        let listeners = [ListenerStatus(url: "fd://", .passed), ListenerStatus(url: "tcp://0.0.0.0:2376", .passed)]
        report.daemon = DaemonStatus(active: state != .failed, pid: 1000 + index, version: "20.10.24+dfsg1", containersRunning: index % 17,
                                     liveRestore: false, listeners: state == .failed ? [] : listeners)
        let dropIn = "/etc/systemd/system/docker.service.d/50-berth.conf"
        switch state {
        case .repaired:
            report.drift = [DriftItem(.fileContent, dropIn, "differs from the desired content",
                                      diff: "--- \(dropIn)\n+++ desired\n@@ -1,3 +1,3 @@\n [Service]\n ExecStart=\n-ExecStart=/usr/sbin/dockerd -H fd://\n+ExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376 --tlsverify\n")]
            report.actions = [ActionRecord(.write, dropIn, reason: "content differs"), ActionRecord(.daemonReload, "docker.service", reason: "drop-in changed"),
                              ActionRecord(.restart, "docker.service", reason: "listeners changed")]
        case .pendingRestart:
            report.drift = [DriftItem(.staleDaemon, "docker.service", "dockerd started before the managed files changed")]
            report.actions = [ActionRecord(.write, dropIn, reason: "content differs")]
        case .failed:
            report.error = "docker.service did not become active within 60s"
            report.drift = [DriftItem(.daemonDown, "docker.service", "dockerd is not running")]
            report.actions = [ActionRecord(.restart, "docker.service", reason: "listeners changed", ok: false)]
            report.journal = ["dockerd[812]: failed to start daemon: pid file found, ensure docker is not running or delete /var/run/docker.pid",
                              "systemd[1]: docker.service: Main process exited, code=exited, status=1/FAILURE"]
        default:
            break
        }
        let json = try report.encoded()
        let signingKey = condition == .forged ? forger.keyPEM : host.keyPEM
        return SignedReport(host: host.name, json: json, signature: try ReportSignature.sign(json, privateKeyPEM: signingKey).text)
    }

    static func message(_ state: HostState) -> String {
        switch state {
        case .repaired: return "repaired 1 drifted file and restarted dockerd; verified"
        case .failed: return "dockerd failed to restart on the new files and could not be verified"
        case .pendingRestart: return "dockerd runs older files; restart deferred to the window Sun 02:00-04:00 UTC"
        default: return "in sync"
        }
    }

    /// One `git fast-import` stream: for every report a parentless commit on
    /// `refs/berth/status/HOST` whose tree holds `HOST.json` and `HOST.json.sig`, as
    /// `StatusPublisher` pushes it.
    static func fastImportStream(_ reports: [SignedReport], time: Date) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(reports.reduce(0) { $0 + $1.json.count + $1.signature.utf8.count + 300 })
        let stamp = Int(time.timeIntervalSince1970)
        func data(_ bytes: some Collection<UInt8>) {
            out += Array("data \(bytes.count)\n".utf8)
            out += bytes
            out.append(0x0a)
        }
        for report in reports {
            out += Array("commit refs/berth/status/\(report.host)\ncommitter berth <berth@localhost> \(stamp) +0000\n".utf8)
            data(Array("berth status \(report.host)".utf8))
            out += Array("M 100644 inline \(report.host).json\n".utf8)
            data(report.json)
            out += Array("M 100644 inline \(report.host).json.sig\n".utf8)
            data(Array(report.signature.utf8))
        }
        return out
    }

    /// `work(0..<count)` on every core, results in index order.
    ///
    /// On threads of its own, not Swift's cooperative pool: this is seconds of CPU (10,000 keys,
    /// certificates and signatures), and a pool it filled would schedule every other task of the
    /// process late. In a test process that made unrelated tests' timeouts fire.
    static func parallel<T: Sendable>(_ count: Int, _ work: @escaping @Sendable (Int) throws -> T) async throws -> [T] {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        return try await withCheckedThrowingContinuation { continuation in
            let results = ParallelResults(count: count, workers: workers, continuation: continuation)
            for worker in 0..<workers {
                Thread {
                    do {
                        results.finish(try stride(from: worker, to: count, by: workers).map { ($0, try work($0)) })
                    } catch {
                        results.fail(error)
                    }
                }.start()
            }
        }
    }

    static func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        try write(Array(text.utf8), to: path, mode: mode)
    }

    /// A plain write: thousands of files need no fsync each (AtomicFile's job on hosts).
    static func write(_ bytes: [UInt8], to path: String, mode: Int = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw BerthError(.io, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fchmod(fd, mode_t(mode)) == 0 else {
            throw BerthError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// What ``SyntheticFleet/parallel(_:_:)``'s threads hand back: the continuation is resumed once,
/// when the last worker is done, with every result in index order or the first error.
private final class ParallelResults<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    private var pending: Int
    private var error: (any Error)?
    private let continuation: CheckedContinuation<[T], any Error>

    init(count: Int, workers: Int, continuation: CheckedContinuation<[T], any Error>) {
        slots = [T?](repeating: nil, count: count)
        pending = workers
        self.continuation = continuation
    }

    func finish(_ chunk: [(Int, T)]) {
        end { for (index, value) in chunk { slots[index] = value } }
    }

    func fail(_ error: any Error) {
        end { if self.error == nil { self.error = error } }
    }

    private func end(_ record: () -> Void) {
        lock.lock()
        record()
        pending -= 1
        let done = pending == 0
        lock.unlock()
        guard done else { return }
        if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: slots.map { $0! }) }
    }
}
