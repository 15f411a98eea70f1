import BerthCore
import BerthPKI
import Foundation
import Testing
import TestSupport

/// Inputs an attacker or an accident would hand Berth, run through the real binaries: each gets
/// a clear error naming what is wrong, in bounded time, a non-zero exit, and no change.
@Suite("hostile inputs: reports, fleet repositories, checkouts")
struct HostileInputTests {
    /// A committed fleet whose web-1 has a certificate, and a report directory.
    struct Fleet {
        let fleet: TestFleet
        let web1: TestHostIdentity
        let reports: TemporaryDirectory
        let head: String

        init() async throws {
            fleet = try TestFleet()
            web1 = try TestHostIdentity(name: "web-1")
            try web1.certify(in: fleet, sans: [.dnsName("web-1"), .ip(IPAddress("10.0.0.5")!), .dnsName("web-1.example.com")])
            head = try await CLI.gitCommitAll(fleet.root, "fleet")
            reports = try TemporaryDirectory("berth-hostile-reports")
        }

        /// `berthctl status` and the CPU time it used; the wall time only guards against a hang.
        func status(_ extra: [String] = []) async throws -> (result: CLI.Result, seconds: Double) {
            let run = try await CLI.runTimed("berthctl", ["status", "--reports", reports.path, "--repo", fleet.root] + extra, timeout: .seconds(30))
            return (run.result, run.cpuSeconds)
        }
    }

    @Test("status returns within 2 s of CPU (it never reads forever) and exits non-zero for a report that is a link to /dev/zero, one of 50 MB, one claiming an interval of 1e9 s, one full of escape sequences")
    func hostileReports() async throws {
        let f = try await Fleet()

        try FileManager.default.createSymbolicLink(atPath: f.reports.file("web-1.json"), withDestinationPath: "/dev/zero")
        let zero = try await f.status()
        #expect(zero.seconds < 2, "a link to /dev/zero took \(zero.seconds) s")
        #expect(zero.result.status == 1)
        #expect(zero.result.stdout.contains("unverified") || zero.result.stdout.contains("unknown"), "\(zero.result)")
        try FileManager.default.removeItem(atPath: f.reports.file("web-1.json"))

        let big = f.reports.file("web-1.json")
        FileManager.default.createFile(atPath: big, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        try handle.truncate(atOffset: 50 << 20)
        try handle.close()
        let large = try await f.status(["web-1"])
        #expect(large.seconds < 2, "a 50 MB report took \(large.seconds) s")
        #expect(large.result.status == 1)
        #expect(large.result.stderr.contains("50.0 MiB; it may be at most 1.0 MiB"), "\(large.result)")
        try FileManager.default.removeItem(atPath: big)

        var forever = f.web1.report(.inSync, revision: f.head, age: 3600)
        forever.intervalSeconds = 1_000_000_000
        try f.web1.publish(forever, to: f.reports.path)
        let claimed = try await f.status(["--json"])
        #expect(claimed.seconds < 2)
        #expect(claimed.result.status == 1)
        #expect(claimed.result.stdout.contains("\"state\" : \"stale\""), "\(claimed.result)")

        var loud = f.web1.report(.inSync, revision: f.head)
        loud.message = "all good\u{1B}]0;pwned\u{07}\u{1B}[2J\u{9B}31m"
        loud.drift = [DriftItem(.fileContent, "/etc/\u{1B}[8mhidden", "x\u{1B}[1A", diff: "+\u{1B}[2K")]
        try f.web1.publish(loud, to: f.reports.path)
        for args in [[String](), ["web-1"]] {
            let shown = try await f.status(args)
            #expect(shown.seconds < 2)
            #expect(!shown.result.stdout.utf8.contains(0x1B) && !shown.result.stdout.contains("\u{9B}"), "escape sequences reached the terminal: \(args)")
            if args == ["web-1"] { #expect(shown.result.stdout.contains("all good\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m"), "\(shown.result.stdout)") }
        }
        // That report is in sync and signed: it counts. The fleet's other host never reported.
        #expect(try await f.status().result.status == 1)
    }

    @Test("validate finds private-key material published in a status ref")
    func validateScansStatusRefs() async throws {
        let f = try await Fleet()
        var leaky = f.web1.report(.repaired, revision: f.head)
        leaky.message = try PrivateKeyPEM.generate(.ecdsa)
        let dir = try TemporaryDirectory("berth-leak")
        try f.web1.publish(leaky, to: dir.path)
        let git = { (args: [String], input: String?) async throws -> String in
            let r = try await CLI.run("/usr/bin/git", ["-C", f.fleet.root] + args, environment: CLI.gitIdentity, input: input)
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let blob = try await git(["hash-object", "-w", dir.file("web-1.json")], nil)
        let tree = try await git(["mktree"], "100644 blob \(blob)\tweb-1.json\n")
        let commit = try await git(["commit-tree", tree, "-m", "leak"], nil)
        _ = try await git(["update-ref", "refs/berth/status/web-1", commit], nil)
        let result = try await CLI.run("berthctl", ["validate", "--repo", f.fleet.root])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("web-1.json:1:1: holds a PEM PRIVATE KEY block"), "\(result)")
    }

    @Test("berthctl keeps the operator's secrets under $HOME and $XDG_CONFIG_HOME, not the password database's home")
    func configDirectory() async throws {
        let home = try TemporaryDirectory("berth-home")
        let repo = home.file("fleet")
        let viaHome = try await CLI.run("berthctl", ["init", repo, "--fleet", "lab"], environment: ["HOME": home.path, "XDG_CONFIG_HOME": "", "BERTH_CONFIG_HOME": ""])
        #expect(viaHome.status == 0, "\(viaHome)")
        #expect(home.exists(".config/berth/lab/ca-key.pem"), "\(viaHome)")
        let xdg = try TemporaryDirectory("berth-xdg")
        let viaXDG = try await CLI.run("berthctl", ["init", home.file("fleet2"), "--fleet", "lab2"], environment: ["HOME": home.path, "XDG_CONFIG_HOME": xdg.path, "BERTH_CONFIG_HOME": ""])
        #expect(viaXDG.status == 0, "\(viaXDG)")
        #expect(xdg.exists("berth/lab2/ca-key.pem"))
        let token = try await CLI.run("berthctl", ["host", "add", "web-9", "--address", "10.0.0.9", "--repo", repo], environment: ["HOME": home.path, "XDG_CONFIG_HOME": "", "BERTH_CONFIG_HOME": ""])
        #expect(token.status == 0, "\(token)")
        let path = home.file(".config/berth/lab/tokens/web-9")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
    }

    /// A fleet repository made hostile by `damage`; the agent's pass on a scratch root and `validate`.
    func refused(_ name: String, _ damage: (TestFleet) throws -> Void, message: String) async throws {
        let fleet = try TestFleet()
        try damage(fleet)
        let root = try TemporaryDirectory("berth-bad-root")
        try root.write("lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/sbin/dockerd -H fd://\n")
        // CPU time, which reading /dev/zero or a huge file would burn; blocking ends at the timeout.
        let (pass, cpu, _) = try await CLI.runTimed("berth-agent", ["reconcile", "--host", "web-1", "--root", root.path, "--state", fleet.root,
                                                                    "--report-dir", root.file("reports")], timeout: .seconds(60))
        #expect(cpu < 5, "\(name): the pass used \(cpu) s of CPU")
        #expect(pass.status == 7, "\(name): \(pass)")
        let report = try ReconcileReport.decode(Array(try root.read("reports/web-1.json").utf8))
        #expect(report.error?.contains(message) == true, "\(name): \(report.error ?? "")")
        #expect(!root.exists("var/lib/berth/keys") && !root.exists("var/lib/berth/probe-key.pem") && !root.exists("etc"), "\(name): the pass changed the host")
        let validate = try await CLI.run("berthctl", ["validate", "--repo", fleet.root], timeout: .seconds(60))
        #expect(validate.status == 1, "\(name): \(validate)")
        #expect(validate.stderr.contains(message), "\(name): \(validate)")
    }

    @Test("a 2 MiB fleet.yaml, an alias bomb, non-UTF-8, a client that is a link to /dev/zero and a 10 MB PEM: each refused clearly, quickly, with no change")
    func boundedInputs() async throws {
        try await refused("2 MiB fleet.yaml", { try $0.write("fleet.yaml", try $0.directory.read("fleet.yaml") + "# " + String(repeating: "x", count: 2 << 20) + "\n") },
                          message: "fleet.yaml is 2.0 MiB; it may be at most 1.0 MiB")
        let bomb = """
            apiVersion: berth/v1
            fleet: prod
            a: &a [x, x, x, x, x, x, x, x, x]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
            d: {*c: 1}
            hosts: {web-1: {}}

            """
        try await refused("alias bomb", { try $0.write("fleet.yaml", bomb) }, message: "fleet.yaml:3:4: an anchor (&name): YAML anchors and aliases are not accepted")
        try await refused("non-UTF-8", { fleet in
            var bytes = Array(try fleet.directory.read("fleet.yaml").utf8)
            bytes.insert(contentsOf: [0x23, 0x20, 0xff, 0xfe, 0x0a], at: bytes.firstIndex(of: 0x0a)! + 1)
            FileManager.default.createFile(atPath: fleet.directory.file("fleet.yaml"), contents: Data(bytes))
        }, message: "fleet.yaml:2:3: byte 0xff is not UTF-8")
        try await refused("a client that is a link to /dev/zero", { fleet in
            try FileManager.default.removeItem(atPath: fleet.directory.file("clients/alice.pem"))
            try FileManager.default.createSymbolicLink(atPath: fleet.directory.file("clients/alice.pem"), withDestinationPath: "/dev/zero")
        }, message: "clients/alice.pem:1:1: is a symbolic link")
        try await refused("a 10 MB PEM", { fleet in
            let pem = try fleet.directory.read("clients/alice.pem")
            try fleet.write("clients/alice.pem", pem + String(repeating: "#", count: 10_000_000) + "\n")
        }, message: "clients/alice.pem is 9.5 MiB; it may be at most 64 KiB")
    }

    @Test("the exit codes of both tools are the README's: usage 64, bad input 1, a failed operation 1 (reconcile: its state)")
    func exitCodes() async throws {
        let work = try TemporaryDirectory("berth-exit")
        let fleet = try TestFleet()
        // Usage errors: the command line.
        #expect(try await CLI.run("berthctl", ["sign"]).status == 64)
        #expect(try await CLI.run("berthctl", ["status", "--stale-after", "soon"]).status == 64)
        #expect(try await CLI.run("berth-agent", ["reconcile", "--state", "/a", "--repo", "/b"]).status == 64)
        #expect(try await CLI.run("berth-agent", ["reconcile", "--no-such-flag"]).status == 64)
        // Bad input: a file says something Berth does not accept.
        try fleet.write("fleet.yaml", "apiVersion: berth/v2\n")
        #expect(try await CLI.run("berthctl", ["validate", "--repo", fleet.root]).status == 1)
        let config = try work.write("agent.yaml", "host: web-1\nbogus: 1\n")
        let badConfig = try await CLI.run("berth-agent", ["reconcile", "--config", config, "--root", work.file("root")])
        #expect(badConfig.status == 1, "\(badConfig)")
        #expect(badConfig.stderr.hasPrefix("berth-agent: \(config):2:1: bogus: unknown key"), "\(badConfig)")
        // A failed operation.
        let good = try TestFleet()
        let noKey = try await CLI.run("berthctl", ["sign", "web-1", "--ca-key", work.file("missing.pem"), "--repo", good.root])
        #expect(noKey.status == 1)
        #expect(noKey.stderr.hasPrefix("berthctl: CA key"), "\(noKey)")
        #expect(try await CLI.run("berth-agent", ["status", "--root", work.file("root"), "--host", "web-1"]).status == 1)
        // reconcile's code is its state: invalid desired state is 7.
        #expect(try await CLI.run("berth-agent", ["reconcile", "--state", fleet.root, "--root", work.file("root"), "--host", "web-1"]).status == 7)
    }
}
