import Foundation
import Testing
import TestSupport

/// `berthctl env` quoting and `--no-proxy`, and `berthctl context --prune`, run as a user runs
/// them: the output of env is evaluated by the real bash and sh, the contexts are the real
/// docker client's.
@Suite("berthctl env quoting and --no-proxy, context --prune")
struct EnvAndContextTests {
    /// A fleet whose operator's config home (so the client directory) has a path with spaces,
    /// quotes of both kinds, `$`, a backquote and a backslash: everything a shell could split,
    /// expand or end a string on.
    struct Setup {
        let fleet: TestFleet
        let outside: TemporaryDirectory
        let configHome: String
        var certPath: String { "\(configHome)/prod/clients/dave" }
        var env: [String: String] {
            // The machine's own proxy settings must not leak into what is checked.
            ["BERTH_CONFIG_HOME": configHome, "DOCKER_CONFIG": outside.file("docker"), "NO_PROXY": "", "no_proxy": ""]
        }

        init() async throws {
            fleet = try TestFleet()
            outside = try TemporaryDirectory("berth-env")
            configHome = outside.file(#"operator's "home" $HOME `id` \n dir"#)
            let made = try await run(["client", "new", "dave"])
            #expect(made.status == 0, "\(made)")
        }

        func run(_ args: [String], extraEnv: [String: String] = [:]) async throws -> CLI.Result {
            try await CLI.run("berthctl", args + ["--repo", fleet.root], environment: env.merging(extraEnv) { $1 })
        }

        /// Evaluates `berthctl env ARGS` in `shell` and prints the variables back, one per line.
        func evaluated(in shell: String, _ args: [String], extraEnv: [String: String] = [:]) async throws -> CLI.Result {
            // berthctl's path and arguments reach the script as positional parameters, so the
            // script itself holds nothing that needs quoting.
            let script = #"""
                set -e
                eval "$("$@")"
                printf '%s|' "${DOCKER_HOST-<unset>}" "${DOCKER_TLS_VERIFY-<unset>}" "${DOCKER_CERT_PATH-<unset>}" "${NO_PROXY-<unset>}" "${no_proxy-<unset>}"
                """#
            return try await CLI.run(shell, ["-c", script, "sh", "\(CLI.binDir)/berthctl"] + args + ["--repo", fleet.root],
                                     environment: env.merging(extraEnv) { $1 })
        }
    }

    @Test("bash and sh get the client directory back unchanged from a path with spaces, quotes, $, ` and \\", arguments: ["/bin/bash", "/bin/sh"])
    func evaluatedByPOSIXShells(_ shell: String) async throws {
        let s = try await Setup()
        let set = try await s.evaluated(in: shell, ["env", "web-1", "--client", "dave"])
        #expect(set.status == 0, "\(set)")
        #expect(set.stdout == "tcp://10.0.0.5:2376|1|\(s.certPath)|||", "\(set)")
        #expect(FileManager.default.fileExists(atPath: "\(s.certPath)/cert.pem"))

        let unset = try await s.evaluated(in: shell, ["env", "--unset"], extraEnv: ["DOCKER_HOST": "tcp://x:1", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/x"])
        #expect(unset.stdout == "<unset>|<unset>|<unset>|||", "\(unset)")
    }

    @Test("fish, powershell and cmd quote the same path by their own rules")
    func quotedForOtherShells() async throws {
        let s = try await Setup()
        let path = s.certPath
        let fish = try await s.run(["env", "web-1", "--client", "dave", "--shell", "fish"])
        // fish: within single quotes only \\ and \' are escapes.
        let fishPath = path.replacingOccurrences(of: #"\"#, with: #"\\"#).replacingOccurrences(of: "'", with: #"\'"#)
        #expect(fish.stdout.contains("set -gx DOCKER_CERT_PATH '\(fishPath)';\n"), "\(fish)")
        #expect(fish.stdout.contains(#"operator\'s "home" $HOME `id` \\n dir/prod/clients/dave'"#), "\(fish)")

        // PowerShell: single-quoted strings expand nothing; a quote is doubled.
        let ps = try await s.run(["env", "web-1", "--client", "dave", "--shell", "powershell"])
        #expect(ps.stdout.contains("$Env:DOCKER_CERT_PATH = '\(path.replacingOccurrences(of: "'", with: "''"))'\n"), "\(ps)")
        #expect(ps.stdout.contains(#"operator''s "home" $HOME `id` \n dir"#), "\(ps)")

        // cmd: through the FOR /f line SET takes the rest of the line as it is.
        let cmd = try await s.run(["env", "web-1", "--client", "dave", "--shell", "cmd"])
        #expect(cmd.stdout.contains("SET DOCKER_CERT_PATH=\(path)\n"), "\(cmd)")
        #expect(cmd.stdout.hasSuffix("""
            REM Run this command to configure your shell:
            REM     @FOR /f "tokens=*" %i IN ('berthctl env web-1 --client dave --shell cmd') DO @%i

            """), "\(cmd)")
    }

    @Test("cmd refuses a value with a line break rather than print a broken SET")
    func cmdRefusesLineBreaks() async throws {
        let fleet = try TestFleet()
        let outside = try TemporaryDirectory("berth-env")
        let env = ["BERTH_CONFIG_HOME": outside.file("two\nlines"), "DOCKER_CONFIG": outside.file("docker")]
        #expect(try await CLI.run("berthctl", ["client", "new", "dave", "--repo", fleet.root], environment: env).status == 0)
        let cmd = try await CLI.run("berthctl", ["env", "web-1", "--client", "dave", "--shell", "cmd", "--repo", fleet.root], environment: env)
        #expect(cmd.status == 1, "\(cmd)")
        #expect(cmd.stderr.contains("line break") && cmd.stderr.contains("--shell powershell"), "\(cmd)")
        #expect(cmd.stdout.isEmpty)
        let bash = try await CLI.run("/bin/bash", ["-c", #"eval "$("$@")"; printf %s "$DOCKER_CERT_PATH""#, "sh", "\(CLI.binDir)/berthctl",
                                                   "env", "web-1", "--client", "dave", "--repo", fleet.root], environment: env)
        #expect(bash.stdout == outside.file("two\nlines") + "/prod/clients/dave", "\(bash)")
    }

    @Test("--no-proxy appends the host's address to no_proxy or NO_PROXY, keeping what is there, once; --unset takes it out")
    func noProxy() async throws {
        let s = try await Setup()
        let env = ["env", "web-1", "--client", "dave", "--no-proxy"]
        // Nothing set: NO_PROXY is the address.
        let fresh = try await s.evaluated(in: "/bin/bash", env)
        #expect(fresh.stdout == "tcp://10.0.0.5:2376|1|\(s.certPath)|10.0.0.5||", "\(fresh)")
        // NO_PROXY kept, the address appended; 10.0.0.50 is another address.
        let kept = try await s.evaluated(in: "/bin/sh", env, extraEnv: ["NO_PROXY": "localhost,.corp.example,10.0.0.50"])
        #expect(kept.stdout.hasSuffix("|localhost,.corp.example,10.0.0.50,10.0.0.5||"), "\(kept)")
        // Already listed: unchanged.
        let again = try await s.run(env, extraEnv: ["NO_PROXY": "localhost, 10.0.0.5"])
        #expect(again.stdout.contains("export NO_PROXY='localhost, 10.0.0.5'\n"), "\(again)")
        #expect(again.stdout.contains(#"# eval "$(berthctl env web-1 --client dave --no-proxy)""#), "\(again)")
        // A lower-case no_proxy in use is the one extended, as docker-machine does.
        let lower = try await s.evaluated(in: "/bin/bash", env, extraEnv: ["no_proxy": "localhost", "NO_PROXY": "ignored"])
        #expect(lower.stdout.hasSuffix("|ignored|localhost,10.0.0.5|"), "\(lower)")
        let fish = try await s.run(env + ["--shell", "fish"], extraEnv: ["no_proxy": "localhost"])
        #expect(fish.stdout.contains("set -gx no_proxy 'localhost,10.0.0.5';"), "\(fish)")
        let cmd = try await s.run(env + ["--shell", "cmd"], extraEnv: ["NO_PROXY": "localhost"])
        #expect(cmd.stdout.contains("SET NO_PROXY=localhost,10.0.0.5\n"), "\(cmd)")
        let json = try await s.run(env + ["--json"], extraEnv: ["NO_PROXY": "localhost"])
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String])?["NO_PROXY"] == "localhost,10.0.0.5", "\(json)")

        // --unset --no-proxy: the address goes, the rest stays; nothing left means unset.
        let out = try await s.evaluated(in: "/bin/bash", ["env", "web-1", "--unset", "--no-proxy"], extraEnv: ["NO_PROXY": "localhost,10.0.0.5", "DOCKER_HOST": "tcp://x:1"])
        #expect(out.stdout == "<unset>|<unset>|<unset>|localhost||", "\(out)")
        let gone = try await s.evaluated(in: "/bin/sh", ["env", "web-1", "--unset", "--no-proxy"], extraEnv: ["NO_PROXY": "10.0.0.5"])
        #expect(gone.stdout == "<unset>|<unset>|<unset>|<unset>||", "\(gone)")
        let noHost = try await s.run(["env", "--unset", "--no-proxy"])
        #expect(noHost.status == 64, "\(noHost)")
        #expect(noHost.stderr.contains("berthctl env HOST --unset --no-proxy"), "\(noHost)")
    }

    static var docker: String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/docker" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("context --prune removes this fleet's contexts for hosts no longer in fleet.yaml, and nothing else",
          .enabled(if: docker != nil))
    func contextPrune() async throws {
        let s = try await Setup()
        let docker = try #require(Self.docker)
        func dockerContext(_ args: [String]) async throws -> CLI.Result {
            let result = try await CLI.run(docker, ["context"] + args, environment: s.env)
            #expect(result.status == 0, "docker context \(args): \(result)")
            return result
        }
        func contexts() async throws -> Set<String> {
            Set(try await dockerContext(["ls", "--format", "{{.Name}}"]).stdout.split(separator: "\n").map(String.init))
        }

        #expect(try await s.run(["host", "add", "web-3", "--address", "10.0.0.7"]).status == 0)
        // Made by berthctl, through a client directory whose path docker must read as one CSV field.
        let made = try await s.run(["context", "--all", "--client", "dave"])
        #expect(made.status == 0, "\(made)")
        #expect(made.stdout.contains("created docker context prod-web-1") && made.stdout.contains("created docker context prod-web-3"), "\(made)")
        let inspect = try await dockerContext(["inspect", "prod-web-1", "--format", "{{.Endpoints.docker.Host}} {{.TLSMaterial.docker}}"])
        #expect(inspect.stdout.hasPrefix("tcp://10.0.0.5:2376 "), "\(inspect)")
        // A stale one of this fleet, a hand-made one under a FLEET-HOST name, another fleet's.
        try await dockerContext(["create", "prod-web-9", "--description", "Berth fleet prod, host web-9", "--docker", "host=tcp://10.0.0.9:2376"])
        try await dockerContext(["create", "prod-web-8", "--description", "mine", "--docker", "host=tcp://10.0.0.8:2376"])
        try await dockerContext(["create", "lab-web-9", "--description", "Berth fleet lab, host web-9", "--docker", "host=tcp://10.0.1.9:2376"])

        #expect(try await s.run(["host", "rm", "web-3", "--force"]).status == 0)
        let pruned = try await s.run(["context", "--prune"])
        #expect(pruned.status == 0, "\(pruned)")
        #expect(pruned.stdout.contains("removed docker context prod-web-9") && pruned.stdout.contains("removed docker context prod-web-3"), "\(pruned)")
        #expect(try await contexts() == ["default", "prod-web-1", "prod-web-8", "lab-web-9"])

        // The context in use is kept, and the run says how to let it go.
        try await dockerContext(["create", "prod-web-7", "--description", "Berth fleet prod, host web-7", "--docker", "host=tcp://10.0.0.7:2376"])
        try await dockerContext(["use", "prod-web-7"])
        let inUse = try await s.run(["context", "--prune", "--all", "--client", "dave"])
        #expect(inUse.status == 1, "\(inUse)")
        #expect(inUse.stderr.contains("prod-web-7 is the current one") && inUse.stderr.contains("docker context use default"), "\(inUse)")
        #expect(inUse.stdout.contains("updated docker context prod-web-1"), "--all still ran: \(inUse)")
        #expect(try await contexts().contains("prod-web-7"))

        let withoutDocker = try await s.run(["context", "--prune"], extraEnv: ["PATH": "/nonexistent"])
        #expect(withoutDocker.status == 1 && withoutDocker.stderr.contains("docker is not on PATH"), "\(withoutDocker)")
        let nothing = try await s.run(["context"])
        #expect(nothing.status == 64 && nothing.stderr.contains("--prune"), "\(nothing)")
    }
}
