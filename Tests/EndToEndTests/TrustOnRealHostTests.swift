import BerthCore
import BerthPKI
import Foundation
import Testing
import TestSupport

/// The trust model on a real host, tried the way an attacker would: a host whose agent may only
/// read the fleet repository (bind-mounted read-only) and reports to a repository of its own;
/// commits signed with a real SSH key and verified by the real git and ssh-keygen on the host;
/// unsigned, foreign-key and rewritten history pushed on top; and a root user on the host who
/// files a report, with its own CSR, as another host.
@Suite("trust on a real host: signed commits, a read-only fleet repository, forged reports", .serialized,
       .enabled(if: TestHost.available), .timeLimit(.minutes(10)))
struct TrustOnRealHostTests {
    static let address = "10.231.12.2"
    static let yaml = FleetFixtures.scratchFleet(hosts: ["web-1": "[\(address)]", "web-2": "[10.231.12.6]"])

    @Test("signed commits only; reports through reportRepo with read-only fleet access; a forged report for another host signs nothing")
    func trust() async throws {
        let work = try TemporaryDirectory("berth-trust")
        let fleet = try TestFleet(yaml: Self.yaml, clients: ["alice"])
        let operatorKey = try await SSHSigner("ops@example.com", in: work)
        let stranger = try await SSHSigner("mallory@example.com", in: work)
        try fleet.write("signers", try operatorKey.allowedSignersLine() + "\n")
        // web-2 exists elsewhere and has its certificate already.
        let web2 = try TestHostIdentity(name: "web-2")
        try web2.certify(in: fleet, sans: [.dnsName("web-2"), .ip(IPAddress("10.231.12.6")!)])
        try await CLI.git(fleet.root, "init", "-q", "-b", "main")
        try await operatorKey.commitAll(fleet.root, "a signed fleet")
        let fleetGit = work.file("fleet.git"), statusGit = work.file("status.git")
        try await CLI.git(fleet.root, "clone", "-q", "--bare", ".", fleetGit)
        try await CLI.git(fleet.root, "remote", "add", "origin", fleetGit)
        try await CLI.git(work.path, "init", "-q", "--bare", statusGit)
        try SSHSigner.allowedSigners([operatorKey], to: work.file("allowed_signers"))
        try work.write("agent.yaml", """
            host: web-1
            repo: /srv/fleet.git
            allowedSigners: /etc/berth/allowed_signers
            reportGit: true
            reportRepo: /srv/status.git
            verifyTimeout: 40s

            """)

        let host = try await TestHost(name: "berth-e2e-trust", network: ("10.231.12.1/30", "\(Self.address)/30"),
                                      binds: ["\(statusGit):/srv/status.git"], readOnlyBinds: ["\(fleetGit):/srv/fleet.git"])
        try await host.copy(work.file("allowed_signers"), to: "/etc/berth/allowed_signers")
        try await host.copy(work.file("agent.yaml"), to: "/etc/berth/agent.yaml")
        let env = ["BERTH_CONFIG_HOME": work.file("config")]
        let caKey = try work.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600)

        /// One pass on the host (agent.yaml says everything), and its report as pushed.
        func pass() async throws -> (status: Int32, report: ReconcileReport?) {
            let r = try await host.exec(["berth-agent", "reconcile"])
            let shown = try await CLI.run("/usr/bin/git", ["-C", statusGit, "show", "refs/berth/status/web-1:web-1.json"])
            return (r.status, shown.status == 0 ? try? ReconcileReport.decode(Array(shown.stdout.utf8)) : nil)
        }
        func ctl(_ args: [String]) async throws -> CLI.Result {
            try await CLI.run("berthctl", args + ["--repo", fleet.root], environment: env)
        }
        func snapshot() async throws -> String {
            try await host.sh("cat /etc/systemd/system/docker.service.d/50-berth.conf; ls -l --time-style=+ /etc/docker/berth; systemctl show docker -p MainPID")
        }

        // The agent cannot write to the fleet repository.
        let push = try await host.exec(["sh", "-c", "git clone -q /srv/fleet.git /tmp/f && cd /tmp/f && git -c user.name=x -c user.email=x@x commit -q --allow-empty -m x && git push -q origin HEAD:main"])
        #expect(push.status != 0, "the host could push to the fleet repository: \(push)")

        // First pass: a key and a CSR, reported through the report repository.
        let first = try await pass()
        #expect(first.status == 4, "\(first)")
        #expect(first.report?.source.trust == .verified, "\(String(describing: first.report?.source))")
        let csr = try #require(first.report?.pendingCSR)
        let sign = try await ctl(["sign", "web-1", "--report-repo", statusGit, "--fingerprint", csr.sha256, "--ca-key", caKey])
        #expect(sign.status == 0, "\(sign)")
        try await operatorKey.commitAll(fleet.root, "sign web-1")
        try await CLI.git(fleet.root, "push", "-q", "origin", "main")
        let converged = try await pass()
        #expect(converged.status == 0, "\(String(describing: converged.report))")
        #expect(try await pass().report?.state == .inSync)
        let status = try await ctl(["status", "web-1", "--report-repo", statusGit])
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("report verified"), "\(status)")
        let trusted = try await CLI.git(fleet.root, "rev-parse", "HEAD")
        let before = try await snapshot()

        /// Pushes what `make` commits and checks the host refuses it and stays exactly as it was.
        func refused(_ what: String, force: Bool = false, expecting reason: String) async throws {
            try await CLI.git(fleet.root, arguments: ["push", "-q"] + (force ? ["--force"] : []) + ["origin", "main"])
            let attempt = try await pass()
            #expect(attempt.status == 8, "\(what): \(String(describing: attempt.report))")
            #expect(attempt.report?.state == .untrusted, "\(what)")
            #expect(attempt.report?.error?.contains(reason) == true, "\(what): \(String(describing: attempt.report?.error))")
            #expect(attempt.report?.appliedRevision == trusted, "\(what)")
            #expect(try await snapshot() == before, "\(what) changed the host")
        }

        try fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: always}\n  daemon: {labels: [pwned=1]}"))
        try await CLI.git(fleet.root, "commit", "-qam", "unsigned")
        try await refused("an unsigned commit", expecting: "is not signed")

        try await stranger.commitAll(fleet.root, "signed by a stranger")
        try await refused("a commit signed by another key", expecting: "not in the allowed signers")

        // A rewrite: an older signed state, force-pushed (a replay of history the host moved past).
        try await CLI.git(fleet.root, "reset", "-q", "--hard", "HEAD~3")
        try await refused("a force-pushed rewrite", force: true, expecting: "history was rewritten")

        // A properly signed commit on top of what the host trusts is applied.
        try await CLI.git(fleet.root, "reset", "-q", "--hard", trusted)
        try await CLI.git(fleet.root, "push", "-q", "--force", "origin", "main")
        try fleet.write("fleet.yaml", Self.yaml.replacingOccurrences(of: "restart: {policy: always}", with: "restart: {policy: always}\n  daemon: {labels: [tier=web]}"))
        let good = try await operatorKey.commitAll(fleet.root, "signed change")
        try await CLI.git(fleet.root, "push", "-q", "origin", "main")
        let applied = try await pass()
        #expect(applied.status == 0, "\(String(describing: applied.report))")
        #expect(applied.report?.appliedRevision == good)
        #expect(try await host.sh("cat /etc/systemd/system/docker.service.d/50-berth.conf").contains("tier=web"))

        // Root on web-1 files a report as web-2, with a CSR of its own key, signed with web-1's key,
        // and pushes it with web-1's credential to web-2's exact ref and to a look-alike ref.
        let web1Key = try await host.sh("cat /var/lib/berth/keys/server-key.pem")
        let attacker = try TestHostIdentity(name: "web-2")
        let forged = try TemporaryDirectory("berth-forged")
        try attacker.publish(attacker.report(.awaitingCertificate, csr: try attacker.pendingCSR(sans: [.dnsName("web-2"), .ip(IPAddress("10.231.12.6")!)])),
                             to: forged.path, signingKey: web1Key)
        for file in ["web-2.json", "web-2.json.sig"] { try await host.copy(forged.file(file), to: "/tmp/forged/\(file)") }
        let forgedPush = try await host.exec(["sh", "-c", """
            set -e; cd /tmp/forged; git init -q --bare /tmp/forge.git; export GIT_DIR=/tmp/forge.git
            j=$(git hash-object -w web-2.json); s=$(git hash-object -w web-2.json.sig)
            t=$(printf '100644 blob %s\\tweb-2.json\\n100644 blob %s\\tweb-2.json.sig\\n' "$j" "$s" | git mktree)
            c=$(GIT_AUTHOR_NAME=x GIT_AUTHOR_EMAIL=x@x GIT_COMMITTER_NAME=x GIT_COMMITTER_EMAIL=x@x git commit-tree "$t" -m forged)
            git push -q --force /srv/status.git "$c:refs/berth/status/web-2" "$c:refs/berth/status/x/web-2"
            """])
        #expect(forgedPush.status == 0, "the forged report was not pushed: \(forgedPush)")
        let web2Cert = try fleet.directory.read("certs/web-2.pem")
        let signAll = try await ctl(["sign", "--all", "--report-repo", statusGit, "--ca-key", caKey])
        #expect(signAll.status == 1, "\(signAll)")
        #expect(signAll.stderr.contains("web-2: its report does not verify"), "\(signAll)")
        #expect(try fleet.directory.read("certs/web-2.pem") == web2Cert, "a certificate was issued for the attacker's key")
        let fleetStatus = try await ctl(["status", "--report-repo", statusGit])
        #expect(fleetStatus.status == 1, "\(fleetStatus)")
        let row = try #require(fleetStatus.stdout.split(separator: "\n").first { $0.hasPrefix("web-2 ") })
        #expect(row.contains("unverified"), "\(fleetStatus.stdout)")
    }
}
