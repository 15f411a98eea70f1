import BerthCore
import Foundation
import Testing
import TestSupport

/// The Debian package (`make deb`) on a real host: `dpkg -i`, the shipped timer and its hardened
/// service bringing the host to in-sync from a `state:` fleet bind-mounted at /srv/fleet, then
/// `dpkg -r`, which must leave dockerd serving on Berth's files.
@Suite("the Debian package on a real host: install, converge from the packaged timer, remove",
       .serialized, .enabled(if: TestHost.available && BerthPackage.path != nil), .timeLimit(.minutes(10)))
struct PackageTests {
    static let address = "10.231.40.2"
    static let yaml = FleetFixtures.scratchFleet(hosts: ["web-1": "[\(address)]"])
    static let interval = 3
    static let dropIn = "/etc/systemd/system/docker.service.d/50-berth.conf"

    @Test("dpkg -i installs binaries, hardened units, conffile, completions and man pages; the timer converges the host; dpkg -r leaves it serving")
    func installConvergeRemove() async throws {
        let deb = try #require(BerthPackage.path)
        let fleet = try TestFleet(yaml: Self.yaml, clients: ["alice", "ci"])
        let reports = try TemporaryDirectory("berth-pkg-reports")
        let work = try TemporaryDirectory("berth-pkg-work")
        let host = try await TestHost(name: "berth-pkg-web-1", network: ("10.231.40.1/30", "\(Self.address)/30"),
                                      binds: ["\(fleet.root):/srv/fleet", "\(reports.path):/srv/reports"])
        // Only the packaged agent may run here.
        try await host.sh("rm -f /usr/local/bin/berth-agent")

        // Install.
        try await host.copy(deb, to: "/root/berth.deb")
        let install = try await host.exec(["dpkg", "-i", "/root/berth.deb"])
        #expect(install.status == 0, "\(install)")
        let version = try await host.sh("dpkg-query -W -f '${Version}' berth")
        let upstream = String(version.prefix { $0 != "-" })
        #expect(try await host.sh("berth-agent --version").trimmingCharacters(in: .whitespacesAndNewlines) == upstream)
        #expect(try await host.sh("berthctl --version").trimmingCharacters(in: .whitespacesAndNewlines) == upstream)
        #expect(try await host.sh("command -v berth-agent; command -v berthctl") == "/usr/bin/berth-agent\n/usr/bin/berthctl\n")
        let units = ["berth-agent.service", "berth-agent-run.service", "berth-agent.timer", "berth-agent.path"]
        for unit in units {
            #expect(try await host.exec(["test", "-f", "/lib/systemd/system/\(unit)"]).status == 0, "\(unit) is not in /lib/systemd/system")
        }
        #expect(try await host.sh("grep -h ^ExecStart= /lib/systemd/system/berth-agent.service /lib/systemd/system/berth-agent-run.service")
            == "ExecStart=/usr/bin/berth-agent reconcile --once\nExecStart=/usr/bin/berth-agent run\n")
        let verify = try await host.exec(["systemd-analyze", "verify"] + units.map { "/lib/systemd/system/\($0)" })
        #expect(verify.status == 0 && !verify.stderr.contains("berth-agent"), "\(verify)")
        // The package enables and starts nothing.
        #expect(try await host.exec(["systemctl", "is-enabled", "berth-agent.timer"]).stdout == "disabled\n")
        #expect(try await host.exec(["systemctl", "is-active", "berth-agent.timer"]).status != 0)
        #expect(try await host.sh("dpkg-query -W -f '${Conffiles}' berth").contains("/etc/berth/agent.yaml"))
        for file in ["/usr/share/bash-completion/completions/berthctl", "/usr/share/bash-completion/completions/berth-agent",
                     "/usr/share/zsh/vendor-completions/_berthctl", "/usr/share/zsh/vendor-completions/_berth-agent",
                     "/usr/share/fish/vendor_completions.d/berthctl.fish", "/usr/share/fish/vendor_completions.d/berth-agent.fish",
                     "/usr/share/man/man1/berthctl.1.gz", "/usr/share/man/man1/berth-agent.1.gz", "/usr/share/man/man1/berthctl.env.1.gz",
                     "/usr/share/man/man1/berth-agent.reconcile.1.gz", "/usr/share/doc/berth/copyright", "/usr/share/doc/berth/changelog.Debian.gz"] {
            #expect(try await host.exec(["test", "-s", file]).status == 0, "\(file) is missing or empty")
        }
        // The test hosts have no man-db: where `man -w` would look, the page is, and it is a page.
        let manual = try await host.exec(["sh", "-c", "if command -v man >/dev/null; then man -w berthctl; else ls /usr/share/man/man1/berthctl.1.gz; fi"])
        #expect(manual.stdout.contains("/usr/share/man/man1/berthctl.1.gz"), "\(manual)")
        #expect(try await host.sh("zcat /usr/share/man/man1/berthctl.env.1.gz").contains("--no-proxy"))
        let completion = try await host.exec(["bash", "-c", "source /usr/share/bash-completion/completions/berthctl && complete -p berthctl"])
        #expect(completion.status == 0 && completion.stdout.contains("berthctl"), "\(completion)")

        // agent.yaml as shipped sets nothing, so a pass driven by flags is not disturbed by it.
        let plan = try await host.exec(["berth-agent", "plan", "--state", "/srv/fleet", "--host", "web-1"])
        #expect(plan.status != 1 && !plan.stderr.contains("agent.yaml"), "the shipped agent.yaml got in the way: \(plan)")

        // Configure as an operator would: agent.yaml, and the reportDir drop-in the units ask for.
        try await host.copy(try work.write("agent.yaml", """
            host: web-1
            state: /srv/fleet
            reportDir: /srv/reports
            verifyTimeout: 40s

            """), to: "/etc/berth/agent.yaml")
        try await host.copy(try work.write("report-dir.conf", "[Service]\nReadWritePaths=/srv/reports\n"),
                            to: "/etc/systemd/system/berth-agent.service.d/report-dir.conf")
        // Only the timer's pace changes for the test.
        try await host.copy(try work.write("pace.conf", """
            [Timer]
            OnBootSec=
            OnActiveSec=1s
            OnUnitActiveSec=\(Self.interval)s
            RandomizedDelaySec=0
            AccuracySec=100ms

            """), to: "/etc/systemd/system/berth-agent.timer.d/test-pace.conf")
        let started = Date()
        try await host.sh("systemctl daemon-reload && systemctl enable --now berth-agent.timer")

        func report() -> ReconcileReport? {
            FileManager.default.contents(atPath: reports.file("web-1.json")).flatMap { try? ReconcileReport.decode(Array($0)) }
        }
        func waitForReport(_ what: String, _ condition: (ReconcileReport) -> Bool) async throws -> ReconcileReport {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if let report = report(), condition(report) { return report }
                try await Task.sleep(for: .milliseconds(500))
            }
            let journal = (try? await host.sh("journalctl -u berth-agent.service -n 30 --no-pager")) ?? ""
            throw HostError("no report \(what) within 120 s; last: \(report().map { "\($0.state.rawValue) \($0.message) \($0.error ?? "")" } ?? "none")\n\(journal)")
        }

        // The first pass from the timer makes the key and a CSR; the operator signs it with the
        // fingerprint the host's console shows.
        let first = try await waitForReport("awaiting a certificate") { $0.state == .awaitingCertificate && $0.time >= started.addingTimeInterval(-1) }
        let csr = try #require(first.pendingCSR)
        let console = try await host.exec(["berth-agent", "status"])
        #expect(console.stdout.contains("--fingerprint \(csr.sha256)"), "\(console)")
        let caKey = try work.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600)
        let sign = try await CLI.run("berthctl", ["sign", "web-1", "--reports", reports.path, "--fingerprint", csr.sha256, "--ca-key", caKey, "--repo", fleet.root],
                                     environment: ["BERTH_CONFIG_HOME": work.file("config")])
        #expect(sign.status == 0, "\(sign)")
        let signed = Date()
        try await waitForReport("in sync after signing") { $0.state == .inSync && $0.time > signed }
        #expect(try await host.sh("cat \(Self.dropIn)").contains("-H tcp://0.0.0.0:2376"))

        // The sandbox let every step through: the timer ran the hardened service, nothing was denied.
        #expect(try await host.sh("systemctl show -p ProtectSystem --value berth-agent.service") == "strict\n")
        let journal = try await host.sh("journalctl -u berth-agent.service --no-pager")
        for denial in ["Read-only file system", "Permission denied", "Operation not permitted"] {
            #expect(!journal.contains(denial), "the sandbox got in the way (\(denial)):\n\(journal)")
        }
        // UMask=0077 narrows what the agent creates without a mode; the files it writes keep theirs.
        let cert = try await host.sh("sed -n 's/.*--tlscert=\\([^ ]*\\).*/\\1/p' \(Self.dropIn)").trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try await host.sh("sed -n 's/.*--tlskey=\\([^ ]*\\).*/\\1/p' \(Self.dropIn)").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await host.sh("stat -c %a \(Self.dropIn) \(cert) \(key) /var/lib/berth/keys/server-key.pem /srv/reports/web-1.json")
            == "644\n644\n600\n600\n644\n")
        // The directories systemd made for the sandbox (StateDirectory=, ConfigurationDirectory=).
        #expect(try await host.sh("stat -c %a /var/lib/berth /etc/systemd/system/docker.service.d /etc/docker/berth") == "700\n755\n755\n")

        let certs = try TemporaryDirectory("berth-pkg-certs")
        func dockerVersion() async throws -> CLI.Result {
            try await CLI.run("/usr/bin/env", ["docker", "version", "--format", "{{.Server.Version}}"], environment: [
                "DOCKER_HOST": "tcp://\(Self.address):2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": try fleet.dockerCertDirectory(client: "alice", in: certs),
            ], timeout: .seconds(60))
        }
        let served = try await dockerVersion()
        #expect(served.status == 0 && served.stdout.hasPrefix("20.10"), "\(served)")

        // Remove: the agent stops and is disabled; the host keeps what dockerd runs on.
        let remove = try await host.exec(["dpkg", "-r", "berth"])
        #expect(remove.status == 0, "\(remove)")
        #expect((remove.stdout + remove.stderr).contains("retire it in the fleet repository (berthctl host retire NAME)"), "\(remove)")
        #expect(try await host.exec(["test", "-e", "/usr/bin/berth-agent"]).status != 0)
        #expect(try await host.exec(["systemctl", "is-active", "berth-agent.timer"]).status != 0)
        #expect(try await host.exec(["test", "-L", "/etc/systemd/system/timers.target.wants/berth-agent.timer"]).status != 0,
                "the timer's enable link outlived the package")
        for kept in [Self.dropIn, cert, key, "/etc/docker/berth/ca.pem", "/var/lib/berth/keys/server-key.pem", "/var/lib/berth/last-known-good.json", "/etc/berth/agent.yaml"] {
            #expect(try await host.exec(["test", "-f", kept]).status == 0, "dpkg -r removed \(kept)")
        }
        // dockerd restarted now reads only what is on disk: it must come up serving the same way.
        try await host.sh("systemctl daemon-reload && systemctl restart docker")
        let after = try await dockerVersion()
        #expect(after.status == 0 && after.stdout.hasPrefix("20.10"), "dockerd does not serve after dpkg -r: \(after)")
        #expect(try await host.exec(["docker", "version", "--format", "{{.Server.Version}}"]).status == 0, "no answer on the unix socket")

        // Purge takes the conffile and nothing of the host's state.
        let purge = try await host.exec(["dpkg", "-P", "berth"])
        #expect(purge.status == 0, "\(purge)")
        #expect(try await host.exec(["test", "-e", "/etc/berth/agent.yaml"]).status != 0)
        #expect(try await host.exec(["test", "-f", Self.dropIn]).status == 0)
        #expect(try await host.exec(["test", "-f", "/var/lib/berth/keys/server-key.pem"]).status == 0)
    }
}

/// The package under test: `$BERTH_DEB` (`make test` builds it and passes it), else the newest
/// berth_*.deb in the package root.
enum BerthPackage {
    static var path: String? {
        if let path = ProcessInfo.processInfo.environment["BERTH_DEB"] {
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        let root = URL(fileURLWithPath: CLI.packageRoot)
        let found = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        return found.filter { $0.lastPathComponent.hasPrefix("berth_") && $0.pathExtension == "deb" }
            .max { a, b in
                let date = { (url: URL) in (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast }
                return date(a) < date(b)
            }?.path
    }
}
