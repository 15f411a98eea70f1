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
    init(name: String, network: (host: String, container: String)? = nil, binds: [String] = [], containers: Bool = false) throws {
        self.name = name
        _ = try? CLI.run(Self.script, ["stop", name])
        var args = ["boot", name]
        if let network { args += ["--network", network.host, network.container] }
        for bind in binds { args += ["--bind", bind] }
        if containers { args.append("--containers") }
        let result = try CLI.run(Self.script, args)
        guard result.status == 0 else { throw HostError("boot \(name) failed: \(result)") }
        try copy(Self.agentBinary, to: "/usr/local/bin/berth-agent")
    }

    @discardableResult
    func exec(_ command: [String], input: String? = nil) throws -> CLI.Result {
        try CLI.run(Self.script, ["exec", name] + command, input: input)
    }

    /// Runs a shell command inside and returns its stdout, failing on a non-zero exit.
    @discardableResult
    func sh(_ script: String) throws -> String {
        let result = try exec(["sh", "-c", script])
        guard result.status == 0 else { throw HostError("`\(script)` on \(name): \(result)") }
        return result.stdout
    }

    func copy(_ source: String, to destination: String) throws {
        let result = try CLI.run(Self.script, ["cp", name, source, destination])
        guard result.status == 0 else { throw HostError("cp to \(name) failed: \(result)") }
    }

    func dockerdPID() throws -> String {
        try sh("systemctl show docker -p MainPID --value").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        _ = try? CLI.run(Self.script, ["stop", name])
    }

    deinit { stop() }
}

struct HostError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
