import BerthAgent
import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

/// `berthctl sign`, `client`, `env` and `context` run as a user runs them.
@Suite("berthctl sign, client, env, context")
struct BerthctlPKICommandTests {
    /// A fleet with its CA key written outside the repository, and a scratch config home.
    struct Setup {
        let fleet: TestFleet
        let outside: TemporaryDirectory
        var repo: String { fleet.root }
        var caKey: String { outside.file("ca-key.pem") }
        var env: [String: String] { ["BERTH_CONFIG_HOME": outside.file("config"), "DOCKER_CONFIG": outside.file("docker")] }

        init() throws {
            fleet = try TestFleet()
            outside = try TemporaryDirectory("berth-outside")
            try outside.write("ca-key.pem", fleet.caKeyPEM, mode: 0o600)
        }

        func run(_ args: [String], extraEnv: [String: String] = [:]) throws -> CLI.Result {
            try CLI.run("berthctl", args + ["--repo", repo], environment: env.merging(extraEnv) { $1 })
        }

        func host(_ name: String) throws -> ResolvedHost {
            try FleetRepository(root: repo).loadValid().resolve(host: name)
        }

        /// A CSR as the agent on `name` would make it, plus `extra` SANs; returns (file, fingerprint).
        func csr(for name: String, extra: [SubjectAltName] = []) throws -> (path: String, pem: String, fingerprint: String) {
            let key = try HostIdentity.generateKey()
            let sans = HostIdentity.subjectAltNames(for: try host(name)) + extra
            let pem = try HostIdentity.makeCSR(hostName: name, subjectAltNames: sans, privateKeyPEM: key)
            let path = try outside.write("\(name).csr", pem)
            return (path, pem, try Fingerprint.sha256(ofCSRPEM: pem))
        }

        func spec() throws -> FleetSpec { try FleetRepository(root: repo).loadValid().spec }
    }

    @Test("sign --csr issues certs/HOST.pem covering the host's addresses and prints the CSR fingerprint")
    func signWithCSRFile() throws {
        let s = try Setup()
        let csr = try s.csr(for: "web-1")
        let result = try s.run(["sign", "web-1", "--csr", csr.path, "--ca-key", s.caKey])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("web-1: CSR sha256 \(csr.fingerprint)"))
        let certPath = s.fleet.directory.file("certs/web-1.pem")
        let mode = try FileManager.default.attributesOfItem(atPath: certPath)[.posixPermissions] as? Int
        #expect(mode == 0o644)
        let summary = try CertificateSummary(pem: try String(contentsOfFile: certPath, encoding: .utf8))
        #expect(summary.subjectAltNames.contains { $0.contains("10.0.0.5") })
        #expect(summary.subjectAltNames.contains { $0.contains("web-1.example.com") })
        #expect(summary.notAfter.timeIntervalSinceNow > 89 * 86_400 && summary.notAfter.timeIntervalSinceNow < 91 * 86_400)
        let validate = try s.run(["validate"])
        #expect(validate.status == 0, "\(validate)")
    }

    @Test("sign refuses a CSR asking for a name the host does not declare, says why and writes nothing")
    func signRefusesUncoveredSAN() throws {
        let s = try Setup()
        let csr = try s.csr(for: "web-1", extra: [.dnsName("evil.example.com")])
        let result = try s.run(["sign", "web-1", "--csr", csr.path, "--ca-key", s.caKey])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("evil.example.com"), "\(result)")
        #expect(!s.fleet.directory.exists("certs/web-1.pem"))
    }

    @Test("sign --all takes pending CSRs from the report directory; a wrong CA key is refused")
    func signAllFromReports() throws {
        let s = try Setup()
        let csr = try s.csr(for: "web-1")
        func report(_ host: String, _ state: HostState) -> ReconcileReport {
            ReconcileReport(host: host, agentVersion: "test", time: Date(), state: state, message: "",
                            source: SourceStatus(kind: "state", location: "/srv/fleet"), intervalSeconds: 300)
        }
        var web1 = report("web-1", .awaitingCertificate)
        web1.pendingCSR = PendingCSR(pem: csr.pem, sha256: csr.fingerprint, sans: [], reason: "new")
        try s.outside.write("reports/web-1.json", String(decoding: try web1.encoded(), as: UTF8.self))
        try s.outside.write("reports/web-2.json", String(decoding: try report("web-2", .inSync).encoded(), as: UTF8.self))

        let other = try FleetCA.create(fleet: "other", now: Date())
        try s.outside.write("other-key.pem", other.privateKeyPEM, mode: 0o600)
        let wrong = try s.run(["sign", "--all", "--reports", s.outside.file("reports"), "--ca-key", s.outside.file("other-key.pem")])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("--ca-key"), "\(wrong)")

        let result = try s.run(["sign", "--all", "--reports", s.outside.file("reports"), "--ca-key", s.caKey])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("web-1: CSR sha256 \(csr.fingerprint)"))
        #expect(s.fleet.directory.exists("certs/web-1.pem"))
        #expect(!s.fleet.directory.exists("certs/web-2.pem"))

        let missing = try s.run(["sign", "web-2", "--reports", s.outside.file("reports"), "--ca-key", s.caKey])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("has no pending CSR"), "\(missing)")
    }

    @Test("client new, add, ls and revoke keep keys out of the repository and fleet.yaml consistent")
    func clientLifecycle() throws {
        let s = try Setup()
        let new = try s.run(["client", "new", "bob"])
        #expect(new.status == 0, "\(new)")
        let dir = s.outside.file("config/prod/clients/bob")
        for file in ["ca.pem", "cert.pem", "key.pem"] { #expect(FileManager.default.fileExists(atPath: "\(dir)/\(file)"), "\(file)") }
        #expect(try FileManager.default.attributesOfItem(atPath: "\(dir)/key.pem")[.posixPermissions] as? Int == 0o600)
        #expect(try String(contentsOfFile: "\(dir)/ca.pem", encoding: .utf8) == s.fleet.directory.read("ca.pem"))
        let pinned = try s.fleet.directory.read("clients/bob.pem")
        #expect(pinned == (try String(contentsOfFile: "\(dir)/cert.pem", encoding: .utf8)))
        #expect(PrivateKeyScanner.scan(pinned).isEmpty)
        #expect(try s.spec().defaults.clients == ["alice", "ci", "bob"])
        #expect(try s.fleet.directory.read("fleet.yaml").contains("hosts:"))

        let again = try s.run(["client", "new", "bob"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("clients/bob.pem already exists"), "\(again)")

        let carol = try ClientCertificate.create(name: "carol", days: 10, now: Date())
        let carolPath = try s.outside.write("carol.pem", carol.certificatePEM)
        let add = try s.run(["client", "add", "carol", "--cert", carolPath, "--host", "web-2"])
        #expect(add.status == 0, "\(add)")
        #expect(try s.spec().host(named: "web-2")?.settings.clients == ["alice", "carol"])
        #expect(try s.host("web-1").clients == ["alice", "ci", "bob"])

        let ca = try s.run(["client", "add", "boss", "--cert", s.fleet.directory.file("ca.pem")])
        #expect(ca.status == 1)
        #expect(ca.stderr.contains("CA certificate"), "\(ca)")
        let old = try ClientCertificate.create(name: "old", days: 1, now: Date().addingTimeInterval(-10 * 86_400))
        let oldPath = try s.outside.write("old.pem", old.certificatePEM)
        let expired = try s.run(["client", "add", "old", "--cert", oldPath])
        #expect(expired.status == 1)
        #expect(expired.stderr.contains("expired"), "\(expired)")
        #expect(!s.fleet.directory.exists("clients/boss.pem") && !s.fleet.directory.exists("clients/old.pem"))

        let ls = try s.run(["client", "ls", "--json"])
        #expect(ls.status == 0, "\(ls)")
        let entries = try JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as! [[String: Any]]
        let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0["name"] as! String, $0) })
        #expect(Set(byName.keys) == ["alice", "bob", "carol", "ci"])
        #expect(byName["carol"]?["hosts"] as? [String] == ["web-2"])
        #expect(byName["alice"]?["hosts"] as? [String] == ["web-1", "web-2"])
        #expect(byName["bob"]?["fingerprint"] as? String == (try Fingerprint.sha256(ofCertificatePEM: pinned)))
        #expect(byName["bob"]?["notAfter"] != nil)
        let table = try s.run(["client", "ls"])
        #expect(table.stdout.contains("CLIENT") && table.stdout.contains("carol"))

        let revoke = try s.run(["client", "revoke", "alice"])
        #expect(revoke.status == 0, "\(revoke)")
        #expect(!s.fleet.directory.exists("clients/alice.pem"))
        #expect(try s.spec().defaults.clients == ["ci", "bob"])
        #expect(try s.spec().host(named: "web-2")?.settings.clients == ["carol"])
        #expect(!(try s.fleet.directory.read("fleet.yaml").contains("alice")))
        #expect(try s.run(["validate"]).status == 0)
        let unknown = try s.run(["client", "revoke", "nobody"])
        #expect(unknown.status == 1)
    }

    @Test("env prints docker-machine style exports for bash, fish and powershell, and unsets")
    func envPerShell() throws {
        let s = try Setup()
        #expect(try s.run(["client", "new", "dave"]).status == 0)
        let dir = s.outside.file("config/prod/clients/dave")

        let bash = try s.run(["env", "web-1", "--client", "dave"])
        #expect(bash.status == 0, "\(bash)")
        #expect(bash.stdout == """
            export DOCKER_HOST="tcp://10.0.0.5:2376"
            export DOCKER_TLS_VERIFY="1"
            export DOCKER_CERT_PATH="\(dir)"
            # Run this command to configure your shell:
            # eval $(berthctl env web-1 --client dave)

            """)
        let fish = try s.run(["env", "web-1", "--client", "dave", "--shell", "fish"])
        #expect(fish.stdout.contains("set -gx DOCKER_HOST \"tcp://10.0.0.5:2376\";"))
        #expect(fish.stdout.contains("set -gx DOCKER_CERT_PATH \"\(dir)\";"))
        #expect(fish.stdout.contains("# eval (berthctl env web-1 --client dave --shell fish)"))
        let ps = try s.run(["env", "web-1", "--client", "dave", "--shell", "powershell"])
        #expect(ps.stdout.contains("$Env:DOCKER_HOST = \"tcp://10.0.0.5:2376\""))
        #expect(ps.stdout.contains("$Env:DOCKER_TLS_VERIFY = \"1\""))
        #expect(ps.stdout.contains("Invoke-Expression"))
        let json = try s.run(["env", "web-1", "--client", "dave", "--json"])
        let values = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String]
        #expect(values?["DOCKER_HOST"] == "tcp://10.0.0.5:2376")

        let unset = try s.run(["env", "--unset"])
        #expect(unset.stdout.contains("unset DOCKER_HOST\nunset DOCKER_TLS_VERIFY\nunset DOCKER_CERT_PATH"))
        let unsetFish = try s.run(["env", "--unset", "--shell", "fish"])
        #expect(unsetFish.stdout.contains("set -e DOCKER_HOST;"))

        // Without --client: the first of the host's clients with a directory here (alice, ci have none).
        let implicit = try s.run(["env", "web-1"])
        #expect(implicit.status == 0, "\(implicit)")
        #expect(implicit.stdout.contains("export DOCKER_CERT_PATH=\"\(dir)\""))

        #expect(try s.run(["host", "add", "v6", "--address", "fd00::5", "--address", "v6.example.com"]).status == 0)
        let v6 = try s.run(["env", "v6", "--client", "dave"])
        #expect(v6.stdout.contains("export DOCKER_HOST=\"tcp://[fd00::5]:2376\""), "\(v6)")

        let auto = try s.run(["env", "web-2", "--client", "dave"])
        #expect(auto.status == 1)
        #expect(auto.stderr.contains("addresses: auto"), "\(auto)")
        #expect(try s.run(["host", "add", "sock", "--address", "10.0.0.9", "--listen", "fd://"]).status == 0)
        let noTCP = try s.run(["env", "sock", "--client", "dave"])
        #expect(noTCP.status == 1)
        #expect(noTCP.stderr.contains("no tcp:// listener"), "\(noTCP)")
        let missing = try s.run(["env", "web-1", "--client", "alice"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("berthctl client new alice"), "\(missing)")
    }

    @Test("context prints the docker context commands when docker is not on PATH")
    func contextWithoutDocker() throws {
        let s = try Setup()
        #expect(try s.run(["client", "new", "dave"]).status == 0)
        let result = try s.run(["context", "--all", "--client", "dave"], extraEnv: ["PATH": "/nonexistent"])
        #expect(result.status == 0, "\(result)")
        let dir = s.outside.file("config/prod/clients/dave")
        #expect(result.stdout.contains("docker context create prod-web-1"))
        #expect(result.stdout.contains("host=tcp://10.0.0.5:2376,ca=\(dir)/ca.pem,cert=\(dir)/cert.pem,key=\(dir)/key.pem"))
        #expect(!result.stdout.contains("prod-web-2"))  // addresses: auto
    }

    @Test("after every command of the PKI workflow and init, no file in the repository holds a private key")
    func noPrivateKeyInRepository() throws {
        let outside = try TemporaryDirectory("berth-outside")
        let env = ["BERTH_CONFIG_HOME": outside.file("config"), "DOCKER_CONFIG": outside.file("docker")]
        let repo = outside.file("fleet")
        func run(_ args: [String], extraEnv: [String: String] = [:]) throws -> CLI.Result {
            let r = try CLI.run("berthctl", args, environment: env.merging(extraEnv) { $1 })
            #expect(r.status == 0, "\(args): \(r)")
            return r
        }
        try run(["init", repo, "--fleet", "lab"])
        try run(["host", "add", "web-1", "--address", "10.0.0.7", "--repo", repo])
        try run(["client", "new", "alice", "--repo", repo])
        try run(["client", "new", "bob", "--host", "web-1", "--repo", repo])
        let ext = try ClientCertificate.create(name: "ext", days: 5, now: Date())
        try run(["client", "add", "ext", "--cert", try outside.write("ext.pem", ext.certificatePEM), "--repo", repo])
        let loaded = try FleetRepository(root: repo).loadValid()
        let key = try HostIdentity.generateKey()
        let csr = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: HostIdentity.subjectAltNames(for: try loaded.resolve(host: "web-1")), privateKeyPEM: key)
        try run(["sign", "web-1", "--csr", try outside.write("web-1.csr", csr), "--repo", repo])
        try run(["client", "ls", "--repo", repo])
        try run(["client", "ls", "--json", "--repo", repo])
        try run(["env", "web-1", "--client", "alice", "--repo", repo])
        try run(["env", "--unset"])
        try run(["context", "web-1", "--client", "alice", "--repo", repo], extraEnv: ["PATH": "/nonexistent"])
        try run(["client", "revoke", "bob", "--repo", repo])
        try run(["validate", "--repo", repo])

        var scanned = 0
        let enumerator = FileManager.default.enumerator(atPath: repo)!
        while let item = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(repo)/\(item)", isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(repo)/\(item)"))
            #expect(PrivateKeyScanner.scan(data).isEmpty, "private key in \(item)")
            scanned += 1
        }
        #expect(scanned >= 6)
        // The keys were made, just not in the repository.
        let aliceKey = try Data(contentsOf: URL(fileURLWithPath: outside.file("config/lab/clients/alice/key.pem")))
        #expect(!PrivateKeyScanner.scan(aliceKey).isEmpty)
        #expect(FileManager.default.fileExists(atPath: outside.file("config/lab/ca-key.pem")))
    }
}
