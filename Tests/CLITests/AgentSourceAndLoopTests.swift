import BerthAgent
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The agent's own Git checkout (`--repo`) and its long-running mode (`run`), on scratch roots:
/// no systemd is needed to see which revision a pass took and when passes happen.
@Suite("berth-agent --repo and run", .serialized)
struct AgentSourceAndLoopTests {
    @Test("--repo checks out the fetched commit; an unreachable remote keeps it and says stale; a rewind is refused unless allowed")
    func repositorySource() throws {
        let work = try TemporaryDirectory("berth-source")
        let fleet = try TestFleet()
        let first = try CLI.gitCommitAll(fleet.root, "one")
        let bare = work.file("fleet.git")
        try CLI.git(fleet.root, "clone", "-q", "--bare", ".", bare)
        try CLI.git(fleet.root, "remote", "add", "origin", bare)

        /// One pass; its report's source status, and the revision it took as desired.
        func pass(_ extra: [String] = []) throws -> (source: SourceStatus, revision: String?)? {
            let r = try CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", work.file("root"), "--repo", bare, "--branch", "main",
                                                "--report-dir", work.file("reports"), "--verify-timeout", "1"] + extra, environment: CLI.gitIdentity)
            let report = FileManager.default.contents(atPath: work.file("reports/web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
            #expect(report?.source.kind == "git", "\(r)")
            return report.map { ($0.source, $0.desiredRevision) }
        }
        let checkout = work.file("root/var/lib/berth/fleet")

        let initial = try pass()
        #expect(initial?.source.stale == false)
        #expect(initial?.revision == first)
        #expect(try CLI.git(checkout, "rev-parse", "HEAD") == first)

        try fleet.write("fleet.yaml", try fleet.directory.read("fleet.yaml") + "# two\n")
        try CLI.git(fleet.root, "commit", "-qam", "two")
        try CLI.git(fleet.root, "push", "-q", "origin", "main")
        let second = try CLI.git(fleet.root, "rev-parse", "HEAD")
        #expect(try pass()?.revision == second)

        // The remote is gone: the last good checkout stays, the source is stale and says why.
        try FileManager.default.moveItem(atPath: bare, toPath: bare + ".away")
        let unreachable = try pass()
        #expect(unreachable?.source.stale == true)
        #expect(unreachable?.source.error?.contains("git fetch") == true, "\(String(describing: unreachable))")
        #expect(unreachable?.revision == second)
        try FileManager.default.moveItem(atPath: bare + ".away", toPath: bare)

        // History rewritten by a force push: refused, then accepted with --allow-rewind.
        try CLI.git(fleet.root, "reset", "-q", "--hard", first)
        try fleet.write("fleet.yaml", try fleet.directory.read("fleet.yaml") + "# rewritten\n")
        try CLI.git(fleet.root, "commit", "-qam", "rewritten")
        try CLI.git(fleet.root, "push", "-q", "--force", "origin", "main")
        let rewritten = try CLI.git(fleet.root, "rev-parse", "HEAD")
        let refused = try pass()
        #expect(refused?.source.stale == true)
        #expect(refused?.source.error?.contains("history was rewritten") == true, "\(String(describing: refused))")
        #expect(refused?.revision == second)
        #expect(try CLI.git(checkout, "rev-parse", "HEAD") == second)
        let accepted = try pass(["--allow-rewind"])
        #expect(accepted?.source.stale == false)
        #expect(accepted?.revision == rewritten)
    }

    @Test("a remote that stops answering is given up after --git-timeout: the source is stale, the pass ends")
    func hungRemote() throws {
        let work = try TemporaryDirectory("berth-hung")
        let started = Date()
        // ssh that never answers (no network is touched: the "ssh" is sleep).
        let r = try CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", work.file("root"), "--repo", "ssh://git.invalid/fleet.git",
                                            "--branch", "main", "--report-dir", work.file("reports"), "--git-timeout", "2"],
                            environment: ["GIT_SSH_COMMAND": "sleep 60 #"], timeout: 60)
        #expect(Date().timeIntervalSince(started) < 20, "the pass waited for the remote: \(r)")
        let report = try ReconcileReport.decode(Array(try work.read("reports/web-1.json").utf8))
        #expect(report.source.stale)
        #expect(report.source.error?.contains("did not finish within 2 s") == true, "\(report.source)")
    }

    @Test("status shows the last pass and exits with its code; 1 when there is none")
    func statusShowsLastReport() throws {
        let work = try TemporaryDirectory("berth-status")
        let fleet = try TestFleet()
        let root = work.file("root")
        let none = try CLI.run("berth-agent", ["status", "--host", "web-1", "--root", root])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no report yet"), "\(none)")
        // A scratch root has no docker.service: the pass fails, and says so.
        let pass = try CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", root, "--state", fleet.root])
        let status = try CLI.run("berth-agent", ["status", "--host", "web-1", "--root", root])
        #expect(status.status == pass.status, "\(pass)\n\(status)")
        #expect(status.stdout.contains("web-1") && status.stdout.contains("failed"), "\(status)")
        let json = try CLI.run("berth-agent", ["status", "--host", "web-1", "--root", root, "--json"])
        #expect(try ReconcileReport.decode(Array(json.stdout.utf8)).host == "web-1")
    }

    @Test("a bad agent.yaml is refused with its file, line and key, and nothing runs")
    func badAgentConfig() throws {
        let work = try TemporaryDirectory("berth-config")
        let fleet = try TestFleet()
        let config = try work.write("agent.yaml", "host: web-1\nstate: \(fleet.root)\nintervall: 5m\n")
        let result = try CLI.run("berth-agent", ["reconcile", "--root", work.file("root"), "--config", config, "--report-dir", work.file("reports")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(config):3:1: intervall: unknown key; valid keys are host, state"), "\(result)")
        #expect(!work.exists("reports/web-1.json"), "a pass ran despite the bad configuration")
        try work.write("agent.yaml", "host: web-1\nstate: \(fleet.root)\ninterval: soon\n")
        let duration = try CLI.run("berth-agent", ["reconcile", "--root", work.file("root"), "--config", config, "--report-dir", work.file("reports")])
        #expect(duration.status != 0)
        #expect(!work.exists("reports/web-1.json"), "a pass ran despite the bad configuration")
        #expect(duration.stderr.contains("\(config):3:11: interval: \"soon\" is not a duration; write e.g. 5m or 30s"), "\(duration)")
    }

    @Test("run: a pass at start, on SIGHUP and when fleet.yaml changes; READY=1 to $NOTIFY_SOCKET; SIGTERM ends it")
    func runLoop() throws {
        let work = try TemporaryDirectory("berth-run")
        let fleet = try TestFleet()
        let notify = try NotifySocket(path: work.file("notify.sock"))
        let stderrPath = work.file("agent.err")
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "\(CLI.binDir)/berth-agent")
        agent.arguments = ["run", "--host", "web-1", "--root", work.file("root"), "--state", fleet.root,
                           "--report-dir", work.file("reports"), "--interval", "3600", "--verify-timeout", "1"]
        agent.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": notify.path]) { $1 }
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try agent.run()
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }

        /// Passes so far: the loop prints one summary line per pass.
        func passes() -> Int {
            ((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.hasPrefix("web-1: ") }.count
        }
        func waitFor(_ count: Int, _ what: String) {
            let deadline = Date().addingTimeInterval(20)
            while passes() < count, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            #expect(passes() == count, "\(what): \(passes()) passes; stderr: \((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")")
        }

        waitFor(1, "the first pass")
        #expect(notify.received(within: 5).contains("READY=1"))
        kill(agent.processIdentifier, SIGHUP)
        waitFor(2, "a pass on SIGHUP")
        Thread.sleep(forTimeInterval: 1.5)
        #expect(passes() == 2, "no pass without a reason (interval is an hour)")
        try fleet.write("fleet.yaml", try fleet.directory.read("fleet.yaml") + "# changed\n")
        waitFor(3, "a pass when fleet.yaml changes")

        kill(agent.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while agent.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!agent.isRunning, "SIGTERM did not end the loop")
        if !agent.isRunning { #expect(agent.terminationStatus == 0) }
    }
}

/// A unix datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
    }

    deinit { close(fd) }

    /// Every datagram that arrives within `seconds`, joined.
    func received(within seconds: Double) -> String {
        var out = ""
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { if !out.isEmpty { break }; continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { out += String(decoding: buffer[0..<n], as: UTF8.self) + "\n" }
        }
        return out
    }
}
