import Foundation
import TestSupport

/// A real systemd + dockerd host booted with systemd-nspawn through `scripts/testhost.sh`.
final class TestHost: @unchecked Sendable {
    static let script = "\(CLI.packageRoot)/scripts/testhost.sh"

    /// Real hosts need root, the cached root filesystem and the static agent (`make test` provides all).
    static var available: Bool {
        let env = ProcessInfo.processInfo.environment
        return geteuid() == 0 && env["BERTH_SKIP_HOSTS"] == nil
            && FileManager.default.isExecutableFile(atPath: agentBinary)
            && FileManager.default.fileExists(atPath: (env["BERTH_ROOTFS"] ?? "/var/cache/berth-test/rootfs") + "/usr/sbin/dockerd")
    }

    static var agentBinary: String {
        ProcessInfo.processInfo.environment["BERTH_AGENT_BIN"] ?? "\(CLI.packageRoot)/.build/release/berth-agent"
    }

    let name: String

    /// `containers`: the host's dockerd can run containers (see `testhost.sh boot --containers`).
    init(name: String, network: (host: String, container: String)? = nil, binds: [String] = [], readOnlyBinds: [String] = [],
         containers: Bool = false) async throws {
        self.name = name
        _ = try? await CLI.run(Self.script, ["stop", name])
        var args = ["boot", name]
        if let network { args += ["--network", network.host, network.container] }
        for bind in binds { args += ["--bind", bind] }
        for bind in readOnlyBinds { args += ["--bind-ro", bind] }
        if containers { args.append("--containers") }
        let result = try await CLI.run(Self.script, args)
        guard result.status == 0 else { throw HostError("boot \(name) failed: \(result)") }
        try await copy(Self.agentBinary, to: "/usr/local/bin/berth-agent")
    }

    @discardableResult
    func exec(_ command: [String], input: String? = nil) async throws -> CLI.Result {
        try await CLI.run(Self.script, ["exec", name] + command, input: input)
    }

    /// Runs a shell command inside and returns its stdout, failing on a non-zero exit.
    @discardableResult
    func sh(_ script: String) async throws -> String {
        let result = try await exec(["sh", "-c", script])
        guard result.status == 0 else { throw HostError("`\(script)` on \(name): \(result)") }
        return result.stdout
    }

    func copy(_ source: String, to destination: String) async throws {
        let result = try await CLI.run(Self.script, ["cp", name, source, destination])
        guard result.status == 0 else { throw HostError("cp to \(name) failed: \(result)") }
    }

    func dockerdPID() async throws -> String {
        try await sh("systemctl show docker -p MainPID --value").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() async {
        _ = try? await CLI.run(Self.script, ["stop", name])
    }

    /// A host is stopped when its test lets go of it, also when the test failed: synchronously,
    /// since deinit cannot await (no pipes, so Foundation's Process cannot be kept waiting).
    deinit {
        let stop = Process()
        stop.executableURL = URL(fileURLWithPath: Self.script)
        stop.arguments = ["stop", name]
        stop.standardOutput = FileHandle.nullDevice
        stop.standardError = FileHandle.nullDevice
        if (try? stop.run()) != nil { stop.waitUntilExit() }
    }
}

struct HostError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
