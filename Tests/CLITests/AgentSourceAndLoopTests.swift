import BerthCore
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
    /// A fleet repository with a bare remote, and one agent pass on a scratch root (no systemd:
    /// a trusted pass gets as far as looking for docker.service and fails there; what matters
    /// here is which revision it took and whether it trusted it).
    struct RepoSetup {
        let work: TemporaryDirectory
        let fleet: TestFleet
        var bare: String { work.file("fleet.git") }
        var checkout: String { work.file("root/var/lib/berth/fleet") }

        init() async throws {
            work = try TemporaryDirectory("berth-source")
            fleet = try TestFleet()
        }

        func publish() async throws {
            try await CLI.git(fleet.root, "clone", "-q", "--bare", ".", bare)
            try await CLI.git(fleet.root, "remote", "add", "origin", bare)
        }

        func push(force: Bool = false) async throws {
            try await CLI.git(fleet.root, arguments: ["push", "-q"] + (force ? ["--force"] : []) + ["origin", "main"])
        }

        /// One pass; its exit status and report.
        func pass(_ extra: [String]) async throws -> (status: Int32, report: ReconcileReport?) {
            let r = try await CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", work.file("root"), "--repo", bare, "--branch", "main",
                                                      "--report-dir", work.file("reports"), "--verify-timeout", "1"] + extra, environment: CLI.gitIdentity)
            let report = FileManager.default.contents(atPath: work.file("reports/web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
            #expect(report?.source.kind == .git, "\(r)")
            return (r.status, report)
        }

        func appendComment(_ text: String) throws {
            try fleet.write("fleet.yaml", try fleet.directory.read("fleet.yaml") + "# \(text)\n")
        }
    }

    @Test("--repo (unsigned): checks out the fetched commit; an unreachable remote keeps it and says stale; a rewind is refused until allowed")
    func repositorySource() async throws {
        let r = try await RepoSetup()
        let first = try await CLI.gitCommitAll(r.fleet.root, "one")
        try await r.publish()
        let unsigned = ["--allow-unsigned"]

        // Without allowed signers, --repo is refused unless unsigned operation is asked for.
        let refusedOutright = try await r.pass([])
        #expect(refusedOutright.status == 8)
        #expect(refusedOutright.report?.state == .untrusted)
        #expect(refusedOutright.report?.error?.contains("allowedSigners") == true, "\(String(describing: refusedOutright.report))")

        let initial = try await r.pass(unsigned)
        #expect(initial.report?.source.stale == false)
        #expect(initial.report?.source.trust == .unsigned)
        #expect(initial.report?.desiredRevision == first)
        #expect(try await CLI.git(r.checkout, "rev-parse", "HEAD") == first)

        try r.appendComment("two")
        try await CLI.git(r.fleet.root, "commit", "-qam", "two")
        try await r.push()
        let second = try await CLI.git(r.fleet.root, "rev-parse", "HEAD")
        #expect(try await r.pass(unsigned).report?.desiredRevision == second)

        // The remote is gone: the last good checkout stays, the source is stale and says why.
        try FileManager.default.moveItem(atPath: r.bare, toPath: r.bare + ".away")
        let unreachable = try await r.pass(unsigned)
        #expect(unreachable.report?.source.stale == true)
        #expect(unreachable.report?.source.error?.contains("git fetch") == true, "\(String(describing: unreachable.report))")
        #expect(unreachable.report?.desiredRevision == second)
        try FileManager.default.moveItem(atPath: r.bare + ".away", toPath: r.bare)

        // History rewritten by a force push: untrusted, then accepted with --allow-rewind.
        try await CLI.git(r.fleet.root, "reset", "-q", "--hard", first)
        try r.appendComment("rewritten")
        try await CLI.git(r.fleet.root, "commit", "-qam", "rewritten")
        try await r.push(force: true)
        let rewritten = try await CLI.git(r.fleet.root, "rev-parse", "HEAD")
        let refused = try await r.pass(unsigned)
        #expect(refused.status == 8)
        #expect(refused.report?.state == .untrusted)
        #expect(refused.report?.error?.contains("history was rewritten") == true, "\(String(describing: refused.report))")
        #expect(try await CLI.git(r.checkout, "rev-parse", "HEAD") == second, "the checkout moved to an untrusted commit")
        let accepted = try await r.pass(unsigned + ["--allow-rewind"])
        #expect(accepted.report?.state != .untrusted)
        #expect(accepted.report?.desiredRevision == rewritten)
    }

    @Test("--repo with allowed signers: a signed commit is applied; unsigned, unknown-key and tampered commits are untrusted (exit 8) and the checkout stays")
    func signedCommits() async throws {
        let r = try await RepoSetup()
        let keys = try TemporaryDirectory("berth-keys")
        let operatorKey = try await SSHSigner("ops@example.com", in: keys)
        let stranger = try await SSHSigner("mallory@example.com", in: keys)
        let allowed = keys.file("allowed_signers")
        try SSHSigner.allowedSigners([operatorKey], to: allowed)
        try await CLI.git(r.fleet.root, "init", "-q", "-b", "main")
        let good = try await operatorKey.commitAll(r.fleet.root, "signed")
        try await r.publish()
        let signed = ["--allowed-signers", allowed]

        let applied = try await r.pass(signed)
        #expect(applied.report?.source.trust == .verified, "\(String(describing: applied.report))")
        #expect(applied.report?.source.signer?.hasPrefix("ops@example.com (ED25519 SHA256:") == true, "\(String(describing: applied.report?.source))")
        #expect(applied.report?.desiredRevision == good)

        // An unsigned commit pushed on top.
        try r.appendComment("unsigned")
        try await CLI.git(r.fleet.root, "commit", "-qam", "unsigned")
        try await r.push()
        let unsignedPass = try await r.pass(signed)
        #expect(unsignedPass.status == 8)
        #expect(unsignedPass.report?.state == .untrusted)
        #expect(unsignedPass.report?.error?.contains("is not signed") == true, "\(String(describing: unsignedPass.report))")
        #expect(unsignedPass.report?.appliedRevision != unsignedPass.report?.desiredRevision)
        #expect(try await CLI.git(r.checkout, "rev-parse", "HEAD") == good)

        // Signed by a key the host does not trust.
        try r.appendComment("stranger")
        try await stranger.commitAll(r.fleet.root, "stranger")
        try await r.push()
        let strangerPass = try await r.pass(signed)
        #expect(strangerPass.status == 8)
        #expect(strangerPass.report?.error?.contains("not in the allowed signers") == true, "\(String(describing: strangerPass.report))")

        // A signed commit whose content was changed afterwards (its signature copied along).
        try await CLI.git(r.fleet.root, "reset", "-q", "--hard", good)
        try r.appendComment("honest")
        let honest = try await operatorKey.commitAll(r.fleet.root, "honest")
        try await CLI.git(r.fleet.root, "push", "-q", "origin", "HEAD:refs/heads/side")  // its objects, not the branch
        let object = try await CLI.git(r.fleet.root, "cat-file", "commit", honest)
        let tampered = try await CLI.run("/usr/bin/git", ["-C", r.bare, "hash-object", "-t", "commit", "-w", "--stdin"],
                                         input: object.replacingOccurrences(of: "honest", with: "tampered") + "\n")
        try await CLI.git(r.bare, "update-ref", "refs/heads/main", tampered.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let tamperedPass = try await r.pass(signed)
        #expect(tamperedPass.status == 8)
        #expect(tamperedPass.report?.error?.contains("does not verify") == true, "\(String(describing: tamperedPass.report))")
        #expect(try await CLI.git(r.checkout, "rev-parse", "HEAD") == good)

        // A later, properly signed commit is applied.
        try await r.push(force: true)
        let later = try await r.pass(signed)
        #expect(later.report?.source.trust == .verified)
        #expect(later.report?.desiredRevision == honest)
        #expect(try await CLI.git(r.checkout, "rev-parse", "HEAD") == honest)
    }

    @Test("signer rotation: a signed commit adds a key to `signers`; the host adopts it, also across commits it never saw, and drops the old key")
    func signerRotation() async throws {
        let r = try await RepoSetup()
        let keys = try TemporaryDirectory("berth-keys")
        let old = try await SSHSigner("old@example.com", in: keys)
        let new = try await SSHSigner("new@example.com", in: keys)
        let installed = keys.file("allowed_signers")
        try SSHSigner.allowedSigners([old], to: installed)
        try await CLI.git(r.fleet.root, "init", "-q", "-b", "main")
        try r.fleet.write("signers", try old.allowedSignersLine() + "\n")
        try await old.commitAll(r.fleet.root, "signed by old")
        try await r.publish()
        let signed = ["--allowed-signers", installed]
        #expect(try await r.pass(signed).report?.source.trust == .verified)

        // Two commits the host fetches at once: old hands over to new, then new signs.
        try r.fleet.write("signers", try new.allowedSignersLine() + "\n")
        try await old.commitAll(r.fleet.root, "rotate to new")
        try r.appendComment("by new")
        let byNew = try await new.commitAll(r.fleet.root, "signed by new")
        try await r.push()
        let rotated = try await r.pass(signed)
        #expect(rotated.report?.source.trust == .verified, "\(String(describing: rotated.report))")
        #expect(rotated.report?.source.signer?.hasPrefix("new@example.com") == true)
        #expect(rotated.report?.desiredRevision == byNew)

        // The old key is no longer trusted.
        try r.appendComment("by old again")
        try await old.commitAll(r.fleet.root, "old again")
        try await r.push()
        let stale = try await r.pass(signed)
        #expect(stale.status == 8, "\(String(describing: stale.report))")
    }

    @Test("a verified commit is remembered: the next pass at the same commit runs no verify-commit and no ssh-keygen")
    func verificationRemembered() async throws {
        let r = try await RepoSetup()
        let keys = try TemporaryDirectory("berth-keys")
        let operatorKey = try await SSHSigner("ops@example.com", in: keys)
        try SSHSigner.allowedSigners([operatorKey], to: keys.file("allowed_signers"))
        try await CLI.git(r.fleet.root, "init", "-q", "-b", "main")
        try await operatorKey.commitAll(r.fleet.root, "signed")
        let trace = keys.file("trace")
        func tracedPass() async throws -> String {
            let run = try await CLI.run("/usr/bin/strace", ["-f", "-qq", "-e", "trace=execve", "-o", trace, "\(CLI.binDir)/berth-agent", "reconcile", "--host", "web-1",
                                                            "--root", r.work.file("root"), "--state", r.fleet.root, "--allowed-signers", keys.file("allowed_signers"),
                                                            "--report-dir", r.work.file("reports")], environment: CLI.gitIdentity)
            #expect(run.stdout.contains("web-1:"), "\(run)")
            return try String(contentsOfFile: trace, encoding: .utf8)
        }
        let first = try await tracedPass()
        #expect(first.contains("verify-commit"), "the first pass did not verify the commit")
        let second = try await tracedPass()
        #expect(!second.contains("verify-commit") && !second.contains("ssh-keygen"), "a pass at a verified commit verified it again")
        let report = try ReconcileReport.decode(Array(try r.work.read("reports/web-1.json").utf8))
        #expect(report.source.trust == .verified)
    }

    @Test("--state with allowed signers: local edits are untrusted and nothing is applied")
    func stateLocalEdits() async throws {
        let r = try await RepoSetup()
        let keys = try TemporaryDirectory("berth-keys")
        let operatorKey = try await SSHSigner("ops@example.com", in: keys)
        try SSHSigner.allowedSigners([operatorKey], to: keys.file("allowed_signers"))
        try await CLI.git(r.fleet.root, "init", "-q", "-b", "main")
        try await operatorKey.commitAll(r.fleet.root, "signed")
        try r.appendComment("edited by hand")
        let pass = try await CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", r.work.file("root"), "--state", r.fleet.root,
                                                     "--allowed-signers", keys.file("allowed_signers"), "--report-dir", r.work.file("reports")])
        #expect(pass.status == 8, "\(pass)")
        #expect(pass.stdout.contains("has local edits or files that are not in commit"), "\(pass)")
        #expect(!r.work.exists("root/var/lib/berth/keys"), "an untrusted pass made a key")
    }

    @Test("a checkout left broken (index.lock, edits, a git checkout killed with SIGKILL) is cloned again aside: the tree applied is the commit reported")
    func checkoutIntegrity() async throws {
        let r = try await RepoSetup()
        try await CLI.gitCommitAll(r.fleet.root, "one")
        try await r.publish()
        let unsigned = ["--allow-unsigned"]
        _ = try await r.pass(unsigned)

        // A pass killed inside git checkout leaves index.lock and a mixed tree; someone edits a file.
        try r.appendComment("two")
        try await CLI.git(r.fleet.root, "commit", "-qam", "two")
        try await r.push()
        let two = try await CLI.git(r.fleet.root, "rev-parse", "HEAD")
        FileManager.default.createFile(atPath: r.checkout + "/.git/index.lock", contents: Data())
        try (try String(contentsOfFile: r.checkout + "/fleet.yaml", encoding: .utf8) + "    clients: [ci]\n").write(toFile: r.checkout + "/fleet.yaml", atomically: false, encoding: .utf8)
        let repaired = try await r.pass(unsigned)
        #expect(repaired.report?.desiredRevision == two)
        #expect(repaired.report?.actions.contains { $0.kind == .recloneCheckout } == true, "\(String(describing: repaired.report?.actions))")
        #expect(try await CLI.git(r.checkout, "rev-parse", "HEAD") == two)
        #expect(try await CLI.git(r.checkout, "status", "--porcelain", "--untracked-files=all", "--ignored") == "", "the tree is not exactly the commit")
        #expect(!FileManager.default.fileExists(atPath: r.checkout + "/.git/index.lock"))

        // Now git itself is killed with SIGKILL in the middle of the checkout (from outside: a git
        // wrapper first in PATH runs the real git under strace for `checkout`).
        let bin = try TemporaryDirectory("berth-gitwrap")
        try bin.write("git", """
            #!/bin/sh
            for a in "$@"; do [ "$a" = checkout ] && exec strace -f -qq -o /dev/null -e inject=openat:signal=SIGKILL:when=20 /usr/bin/git "$@"; done
            exec /usr/bin/git "$@"

            """, mode: 0o755)
        try r.appendComment("three")
        try await CLI.git(r.fleet.root, "commit", "-qam", "three")
        try await r.push()
        let three = try await CLI.git(r.fleet.root, "rev-parse", "HEAD")
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let interrupted = try await CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", r.work.file("root"), "--repo", r.bare, "--branch", "main",
                                                            "--report-dir", r.work.file("reports"), "--verify-timeout", "1"] + unsigned,
                                            environment: CLI.gitIdentity.merging(["PATH": path]) { $1 })
        let report = try ReconcileReport.decode(Array(try r.work.read("reports/web-1.json").utf8))
        #expect(report.desiredRevision == three, "\(interrupted)")
        #expect(report.actions.contains { $0.kind == .recloneCheckout }, "the killed checkout was not repaired: \(report.actions)")
        #expect(try await CLI.git(r.checkout, "rev-parse", "HEAD") == three)
        #expect(try await CLI.git(r.checkout, "status", "--porcelain", "--untracked-files=all", "--ignored") == "")
    }

    @Test("init --signing-key sets up signed commits and a signers list that hosts accept")
    func initSigningKey() async throws {
        let work = try TemporaryDirectory("berth-init-signing")
        let key = try await SSHSigner("ops@example.com", in: work)
        let repo = work.file("fleet")
        let env = ["BERTH_CONFIG_HOME": work.file("config")].merging(CLI.gitIdentity) { $1 }
        let result = try await CLI.run("berthctl", ["init", repo, "--fleet", "lab", "--signing-key", key.publicKey, "--principal", "ops@example.com"], environment: env)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("/etc/berth/allowed_signers"), "\(result)")
        let allowed = work.file("config/lab/allowed_signers")
        #expect(try String(contentsOfFile: allowed, encoding: .utf8).contains("ops@example.com namespaces=\"git\" ssh-ed25519 "))
        #expect(try String(contentsOfFile: repo + "/signers", encoding: .utf8) == (try String(contentsOfFile: allowed, encoding: .utf8)))
        // An ordinary `git commit` is now signed, and verifies against the list.
        try await CLI.git(repo, "add", "-A")
        try await CLI.git(repo, "commit", "-qm", "first")
        let verify = try await CLI.run("/usr/bin/git", ["-C", repo, "-c", "gpg.ssh.allowedSignersFile=\(allowed)", "verify-commit", "HEAD"])
        #expect(verify.status == 0, "\(verify)")
        let refused = try await CLI.run("berthctl", ["init", work.file("other"), "--fleet", "x", "--signing-key", key.privateKey], environment: env)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is a private key"), "\(refused)")
    }

    @Test("a remote that stops answering is given up after --git-timeout: the source is stale, the pass ends")
    func hungRemote() async throws {
        let work = try TemporaryDirectory("berth-hung")
        // ssh that never answers (no network is touched: the "ssh" is sleep).
        let (r, _, took) = try await CLI.runTimed("berth-agent", ["reconcile", "--host", "web-1", "--root", work.file("root"), "--repo", "ssh://git.invalid/fleet.git",
                                            "--branch", "main", "--report-dir", work.file("reports"), "--git-timeout", "2", "--allow-unsigned"],
                            environment: ["GIT_SSH_COMMAND": "sleep 60 #"], timeout: .seconds(60))
        #expect(took < 20, "the pass waited for the remote (\(took) s): \(r)")
        let report = try ReconcileReport.decode(Array(try work.read("reports/web-1.json").utf8))
        #expect(report.source.stale)
        #expect(report.source.error?.contains("did not finish within 2 s") == true, "\(report.source)")
    }

    @Test("status shows the last pass and exits with its code; 1 when there is none")
    func statusShowsLastReport() async throws {
        let work = try TemporaryDirectory("berth-status")
        let fleet = try TestFleet()
        let root = work.file("root")
        let none = try await CLI.run("berth-agent", ["status", "--host", "web-1", "--root", root])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no report yet"), "\(none)")
        // A scratch root has no docker.service: the pass fails, and says so.
        let pass = try await CLI.run("berth-agent", ["reconcile", "--host", "web-1", "--root", root, "--state", fleet.root])
        let status = try await CLI.run("berth-agent", ["status", "--host", "web-1", "--root", root])
        #expect(status.status == pass.status, "\(pass)\n\(status)")
        #expect(status.stdout.contains("web-1") && status.stdout.contains("failed"), "\(status)")
        let json = try await CLI.run("berth-agent", ["status", "--host", "web-1", "--root", root, "--json"])
        #expect(try ReconcileReport.decode(Array(json.stdout.utf8)).host == "web-1")
    }

    @Test("a bad agent.yaml is refused with its file, line and key, and nothing runs")
    func badAgentConfig() async throws {
        let work = try TemporaryDirectory("berth-config")
        let fleet = try TestFleet()
        let config = try work.write("agent.yaml", "host: web-1\nstate: \(fleet.root)\nintervall: 5m\n")
        let result = try await CLI.run("berth-agent", ["reconcile", "--root", work.file("root"), "--config", config, "--report-dir", work.file("reports")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(config):3:1: intervall: unknown key; valid keys are host, state"), "\(result)")
        #expect(!work.exists("reports/web-1.json"), "a pass ran despite the bad configuration")
        try work.write("agent.yaml", "host: web-1\nstate: \(fleet.root)\ninterval: soon\n")
        let duration = try await CLI.run("berth-agent", ["reconcile", "--root", work.file("root"), "--config", config, "--report-dir", work.file("reports")])
        #expect(duration.status != 0)
        #expect(!work.exists("reports/web-1.json"), "a pass ran despite the bad configuration")
        #expect(duration.stderr.contains("\(config):3:11: interval: \"soon\" is not a duration; write e.g. 5m or 30s"), "\(duration)")
    }

    @Test("run: a pass at start, on SIGHUP and when fleet.yaml changes; READY=1 to $NOTIFY_SOCKET; SIGTERM ends it")
    func runLoop() async throws {
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
        func waitFor(_ count: Int, _ what: String) async throws {
            let deadline = Date().addingTimeInterval(20)
            while passes() < count, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(passes() == count, "\(what): \(passes()) passes; stderr: \((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")")
        }

        try await waitFor(1, "the first pass")
        #expect(notify.received(within: 5).contains("READY=1"))
        kill(agent.processIdentifier, SIGHUP)
        try await waitFor(2, "a pass on SIGHUP")
        try await Task.sleep(for: .milliseconds(1500))
        #expect(passes() == 2, "no pass without a reason (interval is an hour)")
        try fleet.write("fleet.yaml", try fleet.directory.read("fleet.yaml") + "# changed\n")
        try await waitFor(3, "a pass when fleet.yaml changes")
        try fleet.write("clients/dave.pem", try fleet.directory.read("clients/ci.pem"))
        try await waitFor(4, "a pass when a file under clients/ appears")

        kill(agent.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while agent.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!agent.isRunning, "SIGTERM did not end the loop")
        if !agent.isRunning { #expect(agent.terminationStatus == 0) }
    }
}

extension AgentSourceAndLoopTests {
    @Test("run with --repo asks the remote with git ls-remote every --poll-interval and passes when the branch moves")
    func runPollsRemote() async throws {
        let r = try await RepoSetup()
        try await CLI.gitCommitAll(r.fleet.root, "one")
        try await r.publish()
        let stderrPath = r.work.file("agent.err")
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "\(CLI.binDir)/berth-agent")
        agent.arguments = ["run", "--host", "web-1", "--root", r.work.file("root"), "--repo", r.bare, "--allow-unsigned",
                           "--report-dir", r.work.file("reports"), "--interval", "3600", "--poll-interval", "1", "--verify-timeout", "1"]
        agent.environment = ProcessInfo.processInfo.environment.merging(CLI.gitIdentity) { $1 }
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try agent.run()
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
        func report() -> ReconcileReport? {
            FileManager.default.contents(atPath: r.work.file("reports/web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
        }
        func wait(for revision: String, _ what: String) async throws {
            let deadline = Date().addingTimeInterval(20)
            while report()?.desiredRevision != revision, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(report()?.desiredRevision == revision, "\(what); stderr: \((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")")
        }
        try await wait(for: try await CLI.git(r.fleet.root, "rev-parse", "HEAD"), "the first pass")
        try r.appendComment("two")
        try await CLI.git(r.fleet.root, "commit", "-qam", "two")
        try await r.push()
        let pushed = Date()
        try await wait(for: try await CLI.git(r.fleet.root, "rev-parse", "HEAD"), "a pass after the branch moved")
        // The agent's own clock, in its report: this process may be scheduled late on a loaded machine.
        if let finished = report()?.time { #expect(finished.timeIntervalSince(pushed) < 10, "the pass ended \(finished.timeIntervalSince(pushed)) s after the push") }
        kill(agent.processIdentifier, SIGTERM)
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
