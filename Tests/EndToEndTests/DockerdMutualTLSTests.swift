import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The real thing without systemd: a scratch `dockerd` 20.10 served with the files Berth makes,
/// and the real `docker` client configured by `berthctl env`.
@Suite("real dockerd serves mutual TLS with Berth's certificates and pinned clients",
       .serialized, .timeLimit(.minutes(5)),
       .enabled(if: geteuid() == 0 && ProcessInfo.processInfo.environment["BERTH_SKIP_HOSTS"] == nil
                    && FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd")))
struct DockerdMutualTLSTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// A dockerd on a scratch tree; stopped by the PID in its pidfile.
    final class ScratchDockerd: @unchecked Sendable {
        let scratch: String
        let port: Int
        var process: Process?
        var pidfile: String { "\(scratch)/docker.pid" }
        var socket: String { "\(scratch)/docker.sock" }
        var log: String { "\(scratch)/dockerd.log" }

        init(scratch: String, port: Int) {
            self.scratch = scratch
            self.port = port
        }

        func start(tls: String) async throws {
            FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            handle.seekToEndOfFile()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/dockerd")
            p.arguments = [
                "-H", "unix://\(socket)", "-H", "tcp://127.0.0.1:\(port)",
                "--tlsverify", "--tlscacert", "\(tls)/clients.pem", "--tlscert", "\(tls)/server.pem", "--tlskey", "\(tls)/server-key.pem",
                "--data-root", "\(scratch)/data", "--exec-root", "\(scratch)/exec", "--pidfile", pidfile,
                "--iptables=false", "--bridge=none",
            ]
            p.standardOutput = handle
            p.standardError = handle
            p.standardInput = FileHandle.nullDevice
            try p.run()
            process = p
            // Ready when the unix socket answers.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if !p.isRunning { throw Failure("dockerd exited \(p.terminationStatus):\n\(tail())") }
                let r = try await CLI.run("/bin/bash", ["-c", "timeout 10 docker -H unix://\(socket) version --format '{{.Server.Version}}'"], environment: ["DOCKER_CONFIG": "\(scratch)/dockercfg"])
                if r.status == 0 { return }
                try await Task.sleep(for: .milliseconds(500))
            }
            throw Failure("dockerd did not answer on \(socket) within 60 s:\n\(tail())")
        }

        func stop() {
            var pid: pid_t = 0
            if let text = try? String(contentsOfFile: pidfile, encoding: .utf8), let value = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                pid = value
            } else if let p = process, p.isRunning {
                pid = p.processIdentifier  // our own child, before it wrote its pidfile
            }
            guard pid > 0 else { return }
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, kill(pid, 0) == 0 {
                if let p = process, p.processIdentifier == pid, !p.isRunning { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            if kill(pid, 0) == 0, process?.isRunning ?? true { kill(pid, SIGKILL) }
            process?.waitUntilExit()
            process = nil
            try? FileManager.default.removeItem(atPath: pidfile)
        }

        func tail() -> String {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(15).joined(separator: "\n")
        }
    }

    static func freePort() -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20000...40000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if ok == 0 { return port }
        }
        return Int.random(in: 20000...40000)
    }

    @Test("an authorized client connects; unlisted CA-signed, stranger and revoked clients are refused")
    func mutualTLS() async throws {
        let scratch = try TemporaryDirectory("bdm")
        let port = Self.freePort()
        let env = ["BERTH_CONFIG_HOME": scratch.file("config"), "DOCKER_CONFIG": scratch.file("dockercfg")]
        let repo = scratch.file("fleet")
        let berthctl = "\(CLI.binDir)/berthctl"
        @discardableResult
        func ctl(_ args: [String]) async throws -> CLI.Result {
            let r = try await CLI.run("berthctl", args, environment: env)
            guard r.status == 0 else { throw Failure("berthctl \(args.joined(separator: " ")): \(r)") }
            return r
        }

        try await ctl(["init", repo, "--fleet", "e2e"])
        // 127.0.0.1 is refused as an address (loopback cannot be a SAN); localhost is a DNS name.
        try await ctl(["host", "add", "web-1", "--address", "localhost", "--listen", "tcp://127.0.0.1:\(port)", "--repo", repo])
        try await ctl(["client", "new", "alice", "--repo", repo])
        try await ctl(["client", "new", "bob", "--repo", repo])

        // The host's side: key and CSR made locally, signed by `berthctl sign`.
        let fleetRepo = FleetRepository(root: repo)
        let host = try fleetRepo.loadValid().resolve(host: "web-1")
        let serverKey = try HostIdentity.generateKey()
        let csr = try HostIdentity.makeCSR(hostName: "web-1", subjectAltNames: HostIdentity.subjectAltNames(for: host), privateKeyPEM: serverKey)
        let sign = try await ctl(["sign", "web-1", "--csr", try scratch.write("web-1.csr", csr), "--fingerprint", try Fingerprint.sha256(ofCSRPEM: csr), "--repo", repo])
        #expect(sign.stdout.contains("web-1: CSR sha256 \(try Fingerprint.sha256(ofCSRPEM: csr))"))

        func writeTLS() async throws {
            let loaded = try fleetRepo.loadValid()
            let resolved = try loaded.resolve(host: "web-1")
            let clients = try resolved.clients.map { NamedPEM(name: $0, pem: try fleetRepo.read("clients/\($0).pem")) }
            let files = HostRenderer.render(RenderInput(
                host: resolved, revision: "test", unit: PackagedUnit.debian.unit, caPEM: try fleetRepo.read("ca.pem"),
                clients: clients, probeCertificatePEM: nil, serverCertificatePEM: try fleetRepo.read("certs/web-1.pem"))).files
            let bundle = try #require(files.first { $0.role == .clientBundle })
            let cert = try #require(files.first { $0.role == .serverCertificate })
            try scratch.write("tls/clients.pem", bundle.text)
            try scratch.write("tls/server.pem", cert.text)
            try scratch.write("tls/server-key.pem", serverKey, mode: 0o600)
        }
        try await writeTLS()

        // A client signed by the fleet CA but not pinned (FleetCA issues only serverAuth, so openssl
        // signs a clientAuth leaf with the same CA key), and a self-signed stranger.
        let caKey = scratch.file("config/e2e/ca-key.pem")
        try scratch.write("mallory/ca.pem", try fleetRepo.read("ca.pem"))
        try scratch.write("mallory/ext.cnf", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
        let m = scratch.file("mallory")
        let openssl = try await CLI.run("/bin/bash", ["-c", """
            set -e
            openssl ecparam -genkey -name prime256v1 -noout -out \(m)/k.pem
            openssl pkcs8 -topk8 -nocrypt -in \(m)/k.pem -out \(m)/key.pem
            openssl req -new -key \(m)/key.pem -subj /CN=mallory -out \(m)/req.csr
            openssl x509 -req -in \(m)/req.csr -CA \(m)/ca.pem -CAkey \(caKey) -set_serial 0x\(UInt32.random(in: 1...UInt32.max)) -days 2 -extfile \(m)/ext.cnf -out \(m)/cert.pem
            """])
        try #require(openssl.status == 0, "\(openssl)")
        let stranger = try ClientCertificate.create(name: "stranger", days: 2, now: Date())
        try scratch.write("stranger/ca.pem", try fleetRepo.read("ca.pem"))
        try scratch.write("stranger/cert.pem", stranger.certificatePEM)
        try scratch.write("stranger/key.pem", stranger.privateKeyPEM, mode: 0o600)

        /// `docker version` with the variables `berthctl env` prints, optionally pointing at another cert directory.
        func dockerVersion(client: String, certPath: String? = nil) async throws -> CLI.Result {
            let override = certPath.map { "export DOCKER_CERT_PATH=\($0); " } ?? ""
            return try await CLI.run("/bin/bash", ["-c", """
                set -e
                eval "$(\(berthctl) env web-1 --client \(client) --repo \(repo))"
                \(override)test "$DOCKER_TLS_VERIFY" = 1
                echo "DOCKER_HOST=$DOCKER_HOST" >&2
                timeout 30 docker version --format 'server {{.Server.Version}}'
                """], environment: env)
        }

        let dockerd = ScratchDockerd(scratch: scratch.path, port: port)
        defer { dockerd.stop() }
        try await dockerd.start(tls: scratch.file("tls"))

        let alice = try await dockerVersion(client: "alice")
        #expect(alice.status == 0, "\(alice)\n\(dockerd.tail())")
        #expect(alice.stdout.contains("server 20.10"), "\(alice)")
        #expect(alice.stderr.contains("DOCKER_HOST=tcp://localhost:\(port)"), "\(alice)")

        // The same through a Docker context made by `berthctl context` with the real docker client.
        let context = try await ctl(["context", "web-1", "--client", "alice", "--repo", repo])
        #expect(context.stdout.contains("created docker context e2e-web-1"), "\(context)")
        let viaContext = try await CLI.run("/usr/bin/env", ["docker", "--context", "e2e-web-1", "version", "--format", "server {{.Server.Version}}"],
                                     environment: env, timeout: .seconds(30))
        #expect(viaContext.stdout.contains("server 20.10"), "\(viaContext)")

        let mallory = try await dockerVersion(client: "alice", certPath: m)
        #expect(mallory.status != 0, "a CA-signed but unlisted client was accepted: \(mallory)")
        #expect(!mallory.stdout.contains("server 20.10"))
        #expect(mallory.stderr.lowercased().contains("tls"), "refused for another reason than TLS: \(mallory)")
        let strangerResult = try await dockerVersion(client: "alice", certPath: scratch.file("stranger"))
        #expect(strangerResult.status != 0, "a stranger was accepted: \(strangerResult)")
        #expect(strangerResult.stderr.lowercased().contains("tls"), "refused for another reason than TLS: \(strangerResult)")

        // Revocation: the rebuilt bundle no longer holds alice; bob still connects.
        try await ctl(["client", "revoke", "alice", "--repo", repo])
        try await writeTLS()
        #expect(!(try scratch.read("tls/clients.pem")).contains("client: alice"))
        await dockerd.stop()
        try await dockerd.start(tls: scratch.file("tls"))
        let revoked = try await dockerVersion(client: "bob", certPath: scratch.file("config/e2e/clients/alice"))
        #expect(revoked.status != 0, "a revoked client was accepted: \(revoked)")
        #expect(revoked.stderr.lowercased().contains("tls"), "refused for another reason than TLS: \(revoked)")
        let bob = try await dockerVersion(client: "bob")
        #expect(bob.status == 0, "\(bob)\n\(dockerd.tail())")
    }
}
