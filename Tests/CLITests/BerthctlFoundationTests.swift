import BerthCore
import BerthHost
import Foundation
import Testing
import TestSupport

/// `berthctl` run as a user runs it: init, validate, host add/rm/ls, render.
@Suite("berthctl init, validate, host, render")
struct BerthctlFoundationTests {
    let env = ["BERTH_CONFIG_HOME": "/tmp/berth-cli-tests-config"]

    func initFleet(_ dir: TemporaryDirectory, fleet: String = "prod") async throws -> String {
        let repo = dir.file("fleet")
        let keyPath = dir.file("keys/ca-key.pem")
        let result = try await CLI.run("berthctl", ["init", repo, "--fleet", fleet, "--ca-key", keyPath], environment: env)
        #expect(result.status == 0, "\(result)")
        return repo
    }

    @Test("init makes a repository that validates, with the CA key outside it and 0600")
    func initValidates() async throws {
        let dir = try TemporaryDirectory()
        let repo = try await initFleet(dir)
        for file in ["fleet.yaml", "ca.pem", ".gitignore", "clients/README.md", "certs/README.md", ".git"] {
            #expect(FileManager.default.fileExists(atPath: "\(repo)/\(file)"), "\(file) missing")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: dir.file("keys/ca-key.pem"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let validate = try await CLI.run("berthctl", ["validate", "--repo", repo])
        #expect(validate.status == 0, "\(validate)")
        #expect(validate.stdout.contains("ok: fleet prod"))
    }

    @Test("init refuses a CA key path inside the repository")
    func initRefusesKeyInRepo() async throws {
        let dir = try TemporaryDirectory()
        let repo = dir.file("fleet")
        let result = try await CLI.run("berthctl", ["init", repo, "--fleet", "prod", "--ca-key", "\(repo)/ca-key.pem"], environment: env)
        #expect(result.status == 1)
        #expect(result.stderr.contains("inside the repository"))
        #expect(!FileManager.default.fileExists(atPath: "\(repo)/ca-key.pem"))
    }

    @Test("host add keeps the repository valid; host ls shows it; host rm of an unknown host fails clearly")
    func hostLifecycle() async throws {
        let dir = try TemporaryDirectory()
        let repo = try await initFleet(dir)
        let add = try await CLI.run("berthctl", ["host", "add", "web-1", "--address", "10.0.0.5", "--address", "web-1.example.com", "--repo", repo])
        #expect(add.status == 0, "\(add)")
        let add2 = try await CLI.run("berthctl", ["host", "add", "web-2", "--address", "auto", "--listen", "fd://", "--repo", repo])
        #expect(add2.status == 0, "\(add2)")
        #expect(try await CLI.run("berthctl", ["validate", "--repo", repo]).status == 0)

        let ls = try await CLI.run("berthctl", ["host", "ls", "--json", "--repo", repo])
        #expect(ls.status == 0)
        let hosts = try JSONDecoder().decode([ResolvedHost].self, from: Data(ls.stdout.utf8))
        #expect(hosts.map(\.name) == ["web-1", "web-2"])
        #expect(hosts[1].listeners == [.fd(name: nil)])
        #expect(try await CLI.run("berthctl", ["host", "ls", "--repo", repo]).stdout.contains("web-1.example.com"))

        let rmUnknown = try await CLI.run("berthctl", ["host", "rm", "web-9", "--repo", repo])
        #expect(rmUnknown.status == 1)
        #expect(rmUnknown.stderr.contains("host \"web-9\" is not in fleet.yaml"))
        #expect(rmUnknown.stderr.contains("web-1, web-2"))

        let rm = try await CLI.run("berthctl", ["host", "rm", "web-2", "--force", "--repo", repo])
        #expect(rm.status == 0, "\(rm)")
        #expect(try await CLI.run("berthctl", ["validate", "--repo", repo]).status == 0)
    }

    @Test("host add without an address is refused when the host needs a certificate, and fleet.yaml is untouched")
    func hostAddNeedsAddress() async throws {
        let dir = try TemporaryDirectory()
        let repo = try await initFleet(dir)
        let before = try String(contentsOfFile: "\(repo)/fleet.yaml", encoding: .utf8)
        let add = try await CLI.run("berthctl", ["host", "add", "web-1", "--repo", repo])
        #expect(add.status == 1)
        #expect(add.stderr.contains("hosts.web-1"))
        #expect(add.stderr.contains("no addresses"))
        #expect(try String(contentsOfFile: "\(repo)/fleet.yaml", encoding: .utf8) == before)
        let bad = try await CLI.run("berthctl", ["host", "add", "Web_1", "--address", "10.0.0.5", "--repo", repo])
        #expect(bad.status == 64)
    }

    @Test("validate refuses each bad fleet.yaml with its line and field", arguments: FleetFixtures.badCases)
    func validateBadInput(_ bad: FleetFixtures.BadCase) async throws {
        let fleet = try TestFleet(yaml: bad.yaml)
        let result = try await CLI.run("berthctl", ["validate", "--repo", fleet.root])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("fleet.yaml:\(bad.line):"), "\(result.stderr)")
        #expect(result.stderr.contains("\(bad.field): "), "\(result.stderr)")
    }

    @Test("validate accepts the spec's example fleet")
    func validateGood() async throws {
        let fleet = try TestFleet()
        let result = try await CLI.run("berthctl", ["validate", "--repo", fleet.root])
        #expect(result.status == 0, "\(result)")
        let json = try await CLI.run("berthctl", ["validate", "--json", "--repo", fleet.root])
        #expect(json.stdout.contains("\"valid\" : true"))
    }

    @Test("berthctl render and the agent's library call produce the same bytes")
    func renderIsTheLibraryPath() async throws {
        let fleet = try TestFleet()
        let host = try TemporaryDirectory("berth-host")
        try host.write("lib/systemd/system/docker.service", "[Service]\nExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS\n")
        try host.write("var/lib/berth/probe.pem", try String(contentsOfFile: fleet.directory.file("clients/ci.pem"), encoding: .utf8))
        try fleet.write("certs/web-1.pem", try String(contentsOfFile: fleet.directory.file("ca.pem"), encoding: .utf8))
        let out = try TemporaryDirectory("berth-render")
        let result = try await CLI.run("berthctl", ["render", "web-1", "--root", host.path, "--out", out.path, "--revision", "r1", "--repo", fleet.root])
        #expect(result.status == 0, "\(result)")

        let loaded = try FleetRepository(root: fleet.root).loadValid()
        let resolved = try loaded.resolve(host: "web-1")
        let unit = try DesiredFiles.findUnit(root: host.path)
        let certificate = try FleetRepository(root: fleet.root).readIfPresent("certs/web-1.pem")
        let files = try DesiredFiles.render(fleet: loaded, host: resolved, revision: "r1", root: host.path, unit: unit, serverCertificate: certificate).files
        #expect(files.map(\.role) == [.fleetCA, .clientBundle, .serverCertificate, .dropIn], "TLS files first, the drop-in that names them last")
        for file in files {
            let written = try #require(FileManager.default.contents(atPath: HostLayout.path(file.path, under: out.path)))
            #expect(Array(written) == file.contents, "\(file.path) differs")
        }
        let printed = try await CLI.run("berthctl", ["render", "web-1", "--root", host.path, "--revision", "r1", "--repo", fleet.root])
        #expect(printed.stdout.contains(files[3].text))
    }

    @Test("render without a docker.service says how to proceed; --base works anywhere")
    func renderBase() async throws {
        let fleet = try TestFleet()
        let empty = try TemporaryDirectory()
        let missing = try await CLI.run("berthctl", ["render", "web-1", "--root", empty.path, "--repo", fleet.root])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("--base debian"))
        let based = try await CLI.run("berthctl", ["render", "web-1", "--base", "docker", "--repo", fleet.root])
        #expect(based.status == 0, "\(based)")
        #expect(based.stdout.contains("ExecStart=/usr/bin/dockerd"))
        #expect(based.stderr.contains("awaiting-certificate"))
    }

    @Test("every command has --help with an example")
    func helpHasExamples() async throws {
        for command in [["init"], ["validate"], ["host", "add"], ["host", "rm"], ["host", "ls"], ["render"]] {
            let result = try await CLI.run("berthctl", command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(command) --help has no example")
        }
    }
}
