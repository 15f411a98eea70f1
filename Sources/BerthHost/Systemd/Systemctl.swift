import BerthCore
import Foundation

/// `systemctl` and `journalctl` for the docker unit, through a ``CommandRunner``. Every call has a
/// timeout: a hung systemd job must fail the pass, not hold it (and the lock) forever.
public struct Systemctl: Sendable {
    public var runner: any CommandRunner
    public var unit: String
    /// The limit for calls that only ask systemd something (`show`, `daemon-reload`, `journalctl`).
    public var timeout: Duration

    public init(runner: any CommandRunner, unit: String = "docker.service", timeout: Duration = .seconds(30)) {
        self.runner = runner
        self.unit = unit
        self.timeout = timeout
    }

    static let properties = ["LoadState", "ActiveState", "MainPID", "ExecStart", "DropInPaths", "NeedDaemonReload", "EnvironmentFiles", "Environment"]

    /// What systemd has loaded for the unit.
    public func show() async throws -> UnitState {
        let result = try await runner.check(Command("systemctl", ["show", unit, "--no-pager", "-p", Self.properties.joined(separator: ",")], timeout: timeout))
        return Self.parseShow(result.output)
    }

    /// Parses `systemctl show -p ...` output (`Key=value` lines; `EnvironmentFiles=` once per file).
    public static func parseShow(_ text: String) -> UnitState {
        var state = UnitState()
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq])
            let value = String(line[line.index(after: eq)...])
            switch key {
            case "LoadState": state.loaded = value == "loaded"
            case "ActiveState": state.activeState = value
            case "MainPID": state.mainPID = Int(value) ?? 0
            case "NeedDaemonReload": state.needDaemonReload = value == "yes"
            case "DropInPaths": state.dropInPaths = value.split(separator: " ").map(String.init)
            case "ExecStart":
                // `{ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// ... ; ignore_errors=no ; ... }`
                if let start = value.range(of: "argv[]=") {
                    let rest = value[start.upperBound...]
                    let end = rest.range(of: " ; ")?.lowerBound ?? rest.endIndex
                    state.execStart = rest[..<end].split(separator: " ").map(String.init)
                }
            case "EnvironmentFiles":
                // `/etc/default/docker (ignore_errors=yes)`
                if let path = value.split(separator: " ").first, !path.isEmpty {
                    state.environmentFiles.append(String(path))
                }
            case "Environment":
                state.environment += EnvironmentFiles.words(value)
            default: break
            }
        }
        return state
    }

    public func daemonReload() async throws {
        try await runner.check(Command("systemctl", ["daemon-reload"], timeout: timeout))
    }

    /// Restarts the unit and waits for the start job, at most `timeout`: docker.service has
    /// `TimeoutStartSec=0`, so systemd itself would wait forever for a start that hangs.
    public func restart(timeout: Duration) async throws {
        try await runner.check(Command("systemctl", ["restart", unit], timeout: timeout))
    }

    public func resetFailed() async {
        _ = try? await runner.run(Command("systemctl", ["reset-failed", unit], timeout: timeout))
    }

    /// The unit's last journal lines, for reports of a failed restart.
    public func journal(lines: Int = 25) async -> [String] {
        guard let result = try? await runner.run(Command("journalctl", ["-u", unit, "-n", "\(lines)", "--no-pager", "-o", "short-iso"], timeout: timeout)) else { return [] }
        return result.output.split(separator: "\n").map(String.init).suffix(lines)
    }
}
