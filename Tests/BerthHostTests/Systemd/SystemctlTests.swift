import BerthCore
import BerthHost
import Foundation
import Testing

/// Records every command and answers each with a canned result (or error).
private final class SystemctlRecordingRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Command] = []
    private let answer: @Sendable (Command) throws -> CommandResult

    init(answer: @escaping @Sendable (Command) throws -> CommandResult = { _ in CommandResult(status: 0) }) {
        self.answer = answer
    }

    var commands: [Command] { lock.withLock { recorded } }

    func run(_ command: Command) async throws -> CommandResult {
        lock.withLock { recorded.append(command) }
        return try answer(command)
    }
}

@Suite("systemctl: parsing `show` and the commands it runs")
struct SystemctlTests {
    static let debianShow = """
        LoadState=loaded
        ActiveState=active
        MainPID=4242
        ExecStart={ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS ; ignore_errors=no ; start_time=[Sun 2026-03-01 12:00:00 UTC] ; stop_time=[n/a] ; pid=4242 ; code=(null) ; status=0/0 }
        DropInPaths=/etc/systemd/system/docker.service.d/50-berth.conf /etc/systemd/system/docker.service.d/http-proxy.conf
        NeedDaemonReload=no
        EnvironmentFiles=/etc/default/docker (ignore_errors=yes)
        EnvironmentFiles=/etc/sysconfig/docker (ignore_errors=no)
        Environment="DOCKER_OPTS=-H tcp://0.0.0.0:2375" HTTP_PROXY=http://proxy:3128

        """

    @Test("a loaded, running Debian unit: every property is read")
    func parsesEverything() {
        let state = Systemctl.parseShow(Self.debianShow)
        #expect(state.loaded)
        #expect(state.activeState == "active")
        #expect(state.isActive)
        #expect(state.mainPID == 4242)
        #expect(state.execStart == ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"])
        #expect(state.dropInPaths == ["/etc/systemd/system/docker.service.d/50-berth.conf", "/etc/systemd/system/docker.service.d/http-proxy.conf"])
        #expect(!state.needDaemonReload)
        #expect(state.environmentFiles == ["/etc/default/docker", "/etc/sysconfig/docker"])
        #expect(state.environment == ["DOCKER_OPTS=-H tcp://0.0.0.0:2375", "HTTP_PROXY=http://proxy:3128"])
    }

    @Test("a unit systemd does not know: not loaded, inactive, no PID, empty lists")
    func notFound() {
        let state = Systemctl.parseShow("""
            LoadState=not-found
            ActiveState=inactive
            MainPID=0
            ExecStart=
            DropInPaths=
            NeedDaemonReload=no
            Environment=
            """)
        #expect(!state.loaded)
        #expect(!state.isActive)
        #expect(state.mainPID == 0)
        #expect(state.execStart == [])
        #expect(state.dropInPaths == [])
        #expect(state.environmentFiles == [])
        #expect(state.environment == [])
    }

    @Test("empty output is the default state; unknown keys, lines without = and a bad PID are ignored")
    func toleratesNoise() {
        #expect(Systemctl.parseShow("") == UnitState())
        let state = Systemctl.parseShow("Garbage\nSomethingElse=1\nMainPID=abc\nActiveState=failed\n")
        #expect(state.mainPID == 0)
        #expect(state.activeState == "failed")
        #expect(!state.isActive)
    }

    @Test("NeedDaemonReload=yes is read", arguments: [("yes", true), ("no", false), ("", false)])
    func needReload(_ value: String, _ expected: Bool) {
        #expect(Systemctl.parseShow("NeedDaemonReload=\(value)").needDaemonReload == expected)
    }

    @Test("ExecStart's argv stops at the next field, and a value with '=' keeps it")
    func execStartBoundaries() {
        let state = Systemctl.parseShow("ExecStart={ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// --label=a=b ; ignore_errors=no }")
        #expect(state.execStart == ["/usr/bin/dockerd", "-H", "fd://", "--label=a=b"])
        #expect(Systemctl.parseShow("ExecStart={ path=/usr/bin/dockerd }").execStart == [])
    }

    @Test("Environment= values split on spaces honouring quotes, and repeated lines add up")
    func environment() {
        let state = Systemctl.parseShow("Environment=A=1 'B=two words'\nEnvironment=C=3\n")
        #expect(state.environment == ["A=1", "B=two words", "C=3"])
    }

    @Test("show asks for exactly the properties it parses, with the query timeout")
    func showCommand() async throws {
        let runner = SystemctlRecordingRunner { _ in CommandResult(status: 0, stdout: Array(Self.debianShow.utf8)) }
        let systemctl = Systemctl(runner: runner, unit: "docker.service", timeout: .seconds(7))
        let state = try await systemctl.show()
        #expect(state.mainPID == 4242)
        let command = try #require(runner.commands.first)
        #expect(runner.commands.count == 1)
        #expect(command.executable == "systemctl")
        #expect(command.arguments == ["show", "docker.service", "--no-pager", "-p",
                                      "LoadState,ActiveState,MainPID,ExecStart,DropInPaths,NeedDaemonReload,EnvironmentFiles,Environment"])
        #expect(command.timeout == .seconds(7))
    }

    @Test("restart carries its own timeout; daemon-reload, reset-failed and journalctl carry the query timeout")
    func timeouts() async throws {
        let runner = SystemctlRecordingRunner { command in
            CommandResult(status: 0, stdout: command.executable == "journalctl" ? Array("l1\nl2\nl3\n".utf8) : [])
        }
        let systemctl = Systemctl(runner: runner, unit: "docker.service", timeout: .seconds(30))
        try await systemctl.daemonReload()
        try await systemctl.restart(timeout: .seconds(90))
        await systemctl.resetFailed()
        let journal = await systemctl.journal(lines: 2)
        #expect(journal == ["l2", "l3"])

        let commands = runner.commands
        #expect(commands.map(\.description) == [
            "systemctl daemon-reload",
            "systemctl restart docker.service",
            "systemctl reset-failed docker.service",
            "journalctl -u docker.service -n 2 --no-pager -o short-iso",
        ])
        #expect(commands.map(\.timeout) == [.seconds(30), .seconds(90), .seconds(30), .seconds(30)])
    }

    @Test("every command names the unit it was made for")
    func otherUnit() async throws {
        let runner = SystemctlRecordingRunner()
        let systemctl = Systemctl(runner: runner, unit: "podman.service")
        _ = try await systemctl.show()
        try await systemctl.restart(timeout: .seconds(1))
        #expect(runner.commands.allSatisfy { $0.arguments.contains("podman.service") })
        #expect(runner.commands[0].timeout == .seconds(30), "the default query timeout")
    }

    @Test("a failed restart throws commandFailed with the command and its stderr")
    func restartFails() async throws {
        let runner = SystemctlRecordingRunner { _ in
            CommandResult(status: 1, stderr: Array("Job for docker.service failed because the control process exited with error code.\n".utf8))
        }
        let systemctl = Systemctl(runner: runner)
        do {
            try await systemctl.restart(timeout: .seconds(60))
            Issue.record("expected an error")
        } catch let error as BerthError {
            #expect(error.code == .commandFailed)
            #expect(error.message.contains("`systemctl restart docker.service` exited 1"), "\(error.message)")
            #expect(error.message.contains("Job for docker.service failed"), "\(error.message)")
        }
    }

    @Test("a timed-out show passes the runner's commandTimedOut through")
    func showTimesOut() async throws {
        let runner = SystemctlRecordingRunner { _ in throw BerthError(.commandTimedOut, "systemctl show timed out") }
        do {
            _ = try await Systemctl(runner: runner).show()
            Issue.record("expected an error")
        } catch let error as BerthError {
            #expect(error.code == .commandTimedOut)
        }
    }

    @Test("reset-failed and journalctl never throw: a failure gives nothing")
    func bestEffort() async {
        let failing = SystemctlRecordingRunner { _ in throw BerthError(.commandTimedOut, "hung") }
        let systemctl = Systemctl(runner: failing)
        await systemctl.resetFailed()
        #expect(await systemctl.journal() == [])
        #expect(failing.commands.count == 2)
        #expect(failing.commands[1].arguments.contains("25"), "the default is the last 25 lines")
    }
}
