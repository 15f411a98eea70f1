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

        func run(_ args: [String], extraEnv: [String: String] = [:]) async throws -> CLI.Result {
            try await CLI.run("berthctl", args + ["--repo", repo], environment: env.merging(extraEnv) { $1 })
        }

        func host(_ name: String) throws -> ResolvedHost {
            try FleetRepository(root: repo).loadValid().resolve(host: name)
        }

        /// A CSR as the agent on `name` would make it, plus `extra` SANs; returns (file, fingerprint).
        func csr(for name: String, extra: [SubjectAltName] = []) async throws -> (path: String, pem: String, fingerprint: String) {
            let key = try HostIdentity.generateKey()
            let sans = HostIdentity.subjectAltNames(for: try host(name)) + extra
            let pem = try HostIdentity.makeCSR(hostName: name, subjectAltNames: sans, privateKeyPEM: key)
            let path = try outside.write("\(name).csr", pem)
            return (path, pem, try Fingerprint.sha256(ofCSRPEM: pem))
        }

        func spec() async throws -> FleetSpec { try FleetRepository(root: repo).loadValid().spec }
    }

    @Test("sign --csr issues certs/HOST.pem covering the host's addresses and prints the CSR fingerprint")
    func signWithCSRFile() async throws {
        let s = try Setup()
        let csr = try await s.csr(for: "web-1")
        let unvouched = try await s.run(["sign", "web-1", "--csr", csr.path, "--ca-key", s.caKey])
        #expect(unvouched.status == 64, "a CSR file with nothing vouching for it: \(unvouched)")
        let mismatch = try await s.run(["sign", "web-1", "--csr", csr.path, "--fingerprint", "SHA256:" + String(repeating: "AB:", count: 31) + "AB", "--ca-key", s.caKey])
        #expect(mismatch.status == 1, "\(mismatch)")
        #expect(mismatch.stderr.contains("is not the CSR's"), "\(mismatch)")
        #expect(!s.fleet.directory.exists("certs/web-1.pem"))
        let result = try await s.run(["sign", "web-1", "--csr", csr.path, "--fingerprint", csr.fingerprint, "--ca-key", s.caKey])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("web-1: CSR sha256 \(csr.fingerprint)"))
        #expect(result.stdout.contains("vouched for by --fingerprint"))
        let certPath = s.fleet.directory.file("certs/web-1.pem")
        let mode = try FileManager.default.attributesOfItem(atPath: certPath)[.posixPermissions] as? Int
        #expect(mode == 0o644)
        let summary = try CertificateSummary(pem: try String(contentsOfFile: certPath, encoding: .utf8))
        #expect(summary.subjectAltNames.contains { $0.contains("10.0.0.5") })
        #expect(summary.subjectAltNames.contains { $0.contains("web-1.example.com") })
        #expect(summary.notAfter.timeIntervalSinceNow > 89 * 86_400 && summary.notAfter.timeIntervalSinceNow < 91 * 86_400)
        let validate = try await s.run(["validate"])
        #expect(validate.status == 0, "\(validate)")
    }

    @Test("sign refuses a CSR asking for a name the host does not declare, says why and writes nothing")
    func signRefusesUncoveredSAN() async throws {
        let s = try Setup()
        let csr = try await s.csr(for: "web-1", extra: [.dnsName("evil.example.com")])
        let result = try await s.run(["sign", "web-1", "--csr", csr.path, "--fingerprint", csr.fingerprint, "--ca-key", s.caKey])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("evil.example.com"), "\(result)")
        #expect(!s.fleet.directory.exists("certs/web-1.pem"))
    }

    @Test("a first certificate takes a join token: refused with none, a wrong one or a used one; signed with the right one, once")
    func joinTokenFirstCertificate() async throws {
        let s = try Setup()
        let reports = s.outside.file("reports")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        let web1 = try TestHostIdentity(name: "web-1")
        let sans = HostIdentity.subjectAltNames(for: try s.host("web-1"))
        func publish(token: String?) throws {
            try web1.publish(web1.report(.awaitingCertificate, csr: try web1.pendingCSR(sans: sans, joinToken: token)), to: reports)
        }
        func sign() async throws -> CLI.Result { try await s.run(["sign", "--all", "--reports", reports, "--ca-key", s.caKey]) }

        // No token was ever issued.
        try publish(token: nil)
        let none = try await sign()
        #expect(none.status == 1, "\(none)")
        #expect(none.stderr.contains("no join token is outstanding"), "\(none)")

        let issued = try await s.run(["host", "token", "web-1"])
        #expect(issued.status == 0, "\(issued)")
        let tokenFile = s.outside.file("config/prod/tokens/web-1")
        #expect(try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions] as? Int == 0o600)
        let token = try #require(issued.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix(JoinToken.prefix) })

        // The host has no token: its CSR carries no MAC.
        let unvouched = try await sign()
        #expect(unvouched.status == 1)
        #expect(unvouched.stderr.contains("carries no join-token MAC"), "\(unvouched)")
        // A wrong token (an attacker's guess).
        try publish(token: JoinToken.generate())
        let wrong = try await sign()
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("was not made with the token issued for web-1"), "\(wrong)")
        #expect(!s.fleet.directory.exists("certs/web-1.pem"))

        // The right token: signed, and forgotten on this side.
        try publish(token: token)
        let signed = try await sign()
        #expect(signed.status == 0, "\(signed)")
        #expect(signed.stdout.contains("vouched for by a join token"), "\(signed)")
        #expect(s.fleet.directory.exists("certs/web-1.pem"))
        #expect(!FileManager.default.fileExists(atPath: tokenFile))

        // The same token again, for a new key (say, a machine that copied the token): refused.
        try FileManager.default.removeItem(atPath: s.fleet.directory.file("certs/web-1.pem"))
        let copycat = try TestHostIdentity(name: "web-1")
        try copycat.publish(copycat.report(.awaitingCertificate, csr: try copycat.pendingCSR(sans: sans, joinToken: token)), to: reports)
        let reused = try await sign()
        #expect(reused.status == 1)
        #expect(reused.stderr.contains("already used"), "\(reused)")
    }

    @Test("sign --all signs only vouched CSRs: a renewal signed by the current certificate; a forged report never; a wrong CA key is refused")
    func signAllFromReports() async throws {
        let s = try Setup()
        let reports = s.outside.file("reports")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        let sans = HostIdentity.subjectAltNames(for: try s.host("web-1"))
        // web-1 has a certificate; its agent asks for a renewal with a staged key, in a report
        // signed by its current key.
        let web1 = try TestHostIdentity(name: "web-1")
        try web1.certify(in: s.fleet, sans: sans)
        let staged = try TestHostIdentity(name: "web-1")
        let renewal = try staged.pendingCSR(sans: sans)
        try web1.publish(web1.report(.inSync, csr: renewal), to: reports)
        // web-2 is in sync and asks for nothing.
        let web2 = try TestHostIdentity(name: "web-2")
        try web2.certify(in: s.fleet, sans: HostIdentity.subjectAltNames(for: try s.host("web-2")))
        try web2.publish(web2.report(.inSync), to: reports)

        let other = try FleetCA.create(fleet: "other", now: Date())
        try s.outside.write("other-key.pem", other.privateKeyPEM, mode: 0o600)
        let wrong = try await s.run(["sign", "--all", "--reports", reports, "--ca-key", s.outside.file("other-key.pem")])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("--ca-key"), "\(wrong)")

        let before = try s.fleet.directory.read("certs/web-1.pem")
        let result = try await s.run(["sign", "--all", "--reports", reports, "--ca-key", s.caKey])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("web-1: CSR sha256 \(renewal.sha256)"))
        #expect(result.stdout.contains("vouched for by signed by the host's current certificate"), "\(result)")
        #expect(try s.fleet.directory.read("certs/web-1.pem") != before)
        #expect(try PrivateKeyPEM.pairing(privateKeyPEM: staged.keyPEM, certificatePEM: s.fleet.directory.read("certs/web-1.pem")) == .matches)

        // An attacker on web-1 files a report as web-2, with its own CSR: web-2's certificate does
        // not verify it, so it is shown unverified and nothing is signed.
        let attacker = try TestHostIdentity(name: "web-2")
        try attacker.publish(attacker.report(.awaitingCertificate, csr: try attacker.pendingCSR(sans: [.dnsName("web-2")])), to: reports, signingKey: web1.keyPEM)
        let web2Before = try s.fleet.directory.read("certs/web-2.pem")
        let forged = try await s.run(["sign", "--all", "--reports", reports, "--ca-key", s.caKey])
        #expect(forged.status == 1, "\(forged)")
        #expect(forged.stderr.contains("web-2: its report does not verify"), "\(forged)")
        #expect(try s.fleet.directory.read("certs/web-2.pem") == web2Before)

        let missing = try await s.run(["sign", "web-1", "--reports", reports, "--ca-key", s.caKey])
        #expect(missing.status == 1)
    }

    @Test("client new, add, ls and revoke keep keys out of the repository and fleet.yaml consistent")
    func clientLifecycle() async throws {
        let s = try Setup()
        let new = try await s.run(["client", "new", "bob"])
        #expect(new.status == 0, "\(new)")
        let dir = s.outside.file("config/prod/clients/bob")
        for file in ["ca.pem", "cert.pem", "key.pem"] { #expect(FileManager.default.fileExists(atPath: "\(dir)/\(file)"), "\(file)") }
        #expect(try FileManager.default.attributesOfItem(atPath: "\(dir)/key.pem")[.posixPermissions] as? Int == 0o600)
        #expect(try String(contentsOfFile: "\(dir)/ca.pem", encoding: .utf8) == s.fleet.directory.read("ca.pem"))
        let pinned = try s.fleet.directory.read("clients/bob.pem")
        #expect(pinned == (try String(contentsOfFile: "\(dir)/cert.pem", encoding: .utf8)))
        #expect(PrivateKeyScanner.scan(pinned).isEmpty)
        #expect(try await s.spec().defaults.clients == ["alice", "ci", "bob"])
        #expect(try s.fleet.directory.read("fleet.yaml").contains("hosts:"))

        let again = try await s.run(["client", "new", "bob"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("clients/bob.pem already exists"), "\(again)")

        let carol = try ClientCertificate.create(name: "carol", days: 10, now: Date())
        let carolPath = try s.outside.write("carol.pem", carol.certificatePEM)
        let add = try await s.run(["client", "add", "carol", "--cert", carolPath, "--host", "web-2"])
        #expect(add.status == 0, "\(add)")
        #expect(try await s.spec().host(named: "web-2")?.settings.clients == ["alice", "carol"])
        #expect(try s.host("web-1").clients == ["alice", "ci", "bob"])

        let ca = try await s.run(["client", "add", "boss", "--cert", s.fleet.directory.file("ca.pem")])
        #expect(ca.status == 1)
        #expect(ca.stderr.contains("CA certificate"), "\(ca)")
        let old = try ClientCertificate.create(name: "old", days: 1, now: Date().addingTimeInterval(-10 * 86_400))
        let oldPath = try s.outside.write("old.pem", old.certificatePEM)
        let expired = try await s.run(["client", "add", "old", "--cert", oldPath])
        #expect(expired.status == 1)
        #expect(expired.stderr.contains("expired"), "\(expired)")
        #expect(!s.fleet.directory.exists("clients/boss.pem") && !s.fleet.directory.exists("clients/old.pem"))

        let ls = try await s.run(["client", "ls", "--json"])
        #expect(ls.status == 0, "\(ls)")
        let entries = try JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as! [[String: Any]]
        let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0["name"] as! String, $0) })
        #expect(Set(byName.keys) == ["alice", "bob", "carol", "ci"])
        #expect(byName["carol"]?["hosts"] as? [String] == ["web-2"])
        #expect(byName["alice"]?["hosts"] as? [String] == ["web-1", "web-2"])
        #expect(byName["bob"]?["fingerprint"] as? String == (try Fingerprint.sha256(ofCertificatePEM: pinned)))
        #expect(byName["bob"]?["notAfter"] != nil)
        let table = try await s.run(["client", "ls"])
        #expect(table.stdout.contains("CLIENT") && table.stdout.contains("carol"))

        let revoke = try await s.run(["client", "revoke", "alice"])
        #expect(revoke.status == 0, "\(revoke)")
        #expect(!s.fleet.directory.exists("clients/alice.pem"))
        #expect(try await s.spec().defaults.clients == ["ci", "bob"])
        #expect(try await s.spec().host(named: "web-2")?.settings.clients == ["carol"])
        #expect(!(try s.fleet.directory.read("fleet.yaml").contains("alice")))
        #expect(try await s.run(["validate"]).status == 0)
        let unknown = try await s.run(["client", "revoke", "nobody"])
        #expect(unknown.status == 1)
    }

    @Test("env prints docker-machine style exports for bash, fish, powershell and cmd, and unsets")
    func envPerShell() async throws {
        let s = try Setup()
        #expect(try await s.run(["client", "new", "dave"]).status == 0)
        let dir = s.outside.file("config/prod/clients/dave")

        let bash = try await s.run(["env", "web-1", "--client", "dave"])
        #expect(bash.status == 0, "\(bash)")
        #expect(bash.stdout == """
            export DOCKER_HOST='tcp://10.0.0.5:2376'
            export DOCKER_TLS_VERIFY='1'
            export DOCKER_CERT_PATH='\(dir)'
            # Run this command to configure your shell:
            # eval "$(berthctl env web-1 --client dave)"

            """)
        let fish = try await s.run(["env", "web-1", "--client", "dave", "--shell", "fish"])
        #expect(fish.stdout.contains("set -gx DOCKER_HOST 'tcp://10.0.0.5:2376';"))
        #expect(fish.stdout.contains("set -gx DOCKER_CERT_PATH '\(dir)';"))
        #expect(fish.stdout.contains("# eval (berthctl env web-1 --client dave --shell fish)"))
        let ps = try await s.run(["env", "web-1", "--client", "dave", "--shell", "powershell"])
        #expect(ps.stdout.contains("$Env:DOCKER_HOST = 'tcp://10.0.0.5:2376'"))
        #expect(ps.stdout.contains("$Env:DOCKER_TLS_VERIFY = '1'"))
        #expect(ps.stdout.contains("Invoke-Expression"))
        let cmd = try await s.run(["env", "web-1", "--client", "dave", "--shell", "cmd"])
        #expect(cmd.stdout == """
            SET DOCKER_HOST=tcp://10.0.0.5:2376
            SET DOCKER_TLS_VERIFY=1
            SET DOCKER_CERT_PATH=\(dir)
            REM Run this command to configure your shell:
            REM     @FOR /f "tokens=*" %i IN ('berthctl env web-1 --client dave --shell cmd') DO @%i

            """, "\(cmd)")
        let json = try await s.run(["env", "web-1", "--client", "dave", "--json"])
        let values = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String]
        #expect(values?["DOCKER_HOST"] == "tcp://10.0.0.5:2376")

        let unset = try await s.run(["env", "--unset"])
        #expect(unset.stdout.contains("unset DOCKER_HOST\nunset DOCKER_TLS_VERIFY\nunset DOCKER_CERT_PATH"))
        let unsetFish = try await s.run(["env", "--unset", "--shell", "fish"])
        #expect(unsetFish.stdout.contains("set -e DOCKER_HOST;"))
        let unsetCmd = try await s.run(["env", "--unset", "--shell", "cmd"])
        #expect(unsetCmd.stdout.hasPrefix("SET DOCKER_HOST=\nSET DOCKER_TLS_VERIFY=\nSET DOCKER_CERT_PATH=\nREM "), "\(unsetCmd)")

        // Without --client: the first of the host's clients with a directory here (alice, ci have none).
        let implicit = try await s.run(["env", "web-1"])
        #expect(implicit.status == 0, "\(implicit)")
        #expect(implicit.stdout.contains("export DOCKER_CERT_PATH='\(dir)'"))

        #expect(try await s.run(["host", "add", "v6", "--address", "fd00::5", "--address", "v6.example.com"]).status == 0)
        let v6 = try await s.run(["env", "v6", "--client", "dave"])
        #expect(v6.stdout.contains("export DOCKER_HOST='tcp://[fd00::5]:2376'"), "\(v6)")

        let auto = try await s.run(["env", "web-2", "--client", "dave"])
        #expect(auto.status == 1)
        #expect(auto.stderr.contains("addresses: auto"), "\(auto)")
        #expect(try await s.run(["host", "add", "sock", "--address", "10.0.0.9", "--listen", "fd://"]).status == 0)
        let noTCP = try await s.run(["env", "sock", "--client", "dave"])
        #expect(noTCP.status == 1)
        #expect(noTCP.stderr.contains("no tcp:// listener"), "\(noTCP)")
        let missing = try await s.run(["env", "web-1", "--client", "alice"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("berthctl client new alice"), "\(missing)")
    }

    @Test("context prints the docker context commands when docker is not on PATH")
    func contextWithoutDocker() async throws {
        let s = try Setup()
        #expect(try await s.run(["client", "new", "dave"]).status == 0)
        let result = try await s.run(["context", "--all", "--client", "dave"], extraEnv: ["PATH": "/nonexistent"])
        #expect(result.status == 0, "\(result)")
        let dir = s.outside.file("config/prod/clients/dave")
        #expect(result.stdout.contains("docker context create prod-web-1"))
        #expect(result.stdout.contains("host=tcp://10.0.0.5:2376,ca=\(dir)/ca.pem,cert=\(dir)/cert.pem,key=\(dir)/key.pem"))
        #expect(!result.stdout.contains("prod-web-2"))  // addresses: auto
    }

    @Test("after every command of the PKI workflow and init, no file in the repository holds a private key")
    func noPrivateKeyInRepository() async throws {
        let outside = try TemporaryDirectory("berth-outside")
        let env = ["BERTH_CONFIG_HOME": outside.file("config"), "DOCKER_CONFIG": outside.file("docker")]
        let repo = outside.file("fleet")
        func run(_ args: [String], extraEnv: [String: String] = [:]) async throws -> CLI.Result {
            let r = try await CLI.run("berthctl", args, environment: env.merging(extraEnv) { $1 })
            #expect(r.status == 0, "\(args): \(r)")
            return r
        }
        try await run(["init", repo, "--fleet", "lab"])
        try await run(["host", "add", "web-1", "--address", "10.0.0.7", "--repo", repo])
        try await run(["client", "new", "alice", "--repo", repo])
        try await run(["client", "new", "bob", "--host", "web-1", "--repo", repo])
        let ext = try ClientCertificate.create(name: "ext", days: 5, now: Date())
        try await run(["client", "add", "ext", "--cert", try outside.write("ext.pem", ext.certificatePEM), "--repo", repo])
        let loaded = try FleetRepository(root: repo).loadValid()
        let key = try HostIdentity.generateKey()
        let csr = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: HostIdentity.subjectAltNames(for: try loaded.resolve(host: "web-1")), privateKeyPEM: key)
        try await run(["sign", "web-1", "--csr", try outside.write("web-1.csr", csr), "--fingerprint", try Fingerprint.sha256(ofCSRPEM: csr), "--repo", repo])
        try await run(["init", outside.file("signed"), "--fleet", "signed", "--signing-key", (try await SSHSigner("ops", in: outside)).publicKey])
        try await run(["client", "ls", "--repo", repo])
        try await run(["client", "ls", "--json", "--repo", repo])
        try await run(["env", "web-1", "--client", "alice", "--repo", repo])
        try await run(["env", "--unset"])
        try await run(["context", "web-1", "--client", "alice", "--repo", repo], extraEnv: ["PATH": "/nonexistent"])
        try await run(["client", "revoke", "bob", "--repo", repo])
        try await run(["validate", "--repo", repo])

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
