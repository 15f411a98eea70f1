import BerthCore
import BerthHost
import Foundation
import Testing

@Suite("running commands")
struct SubprocessRunnerTests {
    let runner = SubprocessRunner()

    @Test("output, input, exit code and working directory come back")
    func basics() async throws {
        let result = try await runner.run(Command("sh", ["-c", "cat; pwd; echo oops >&2; exit 3"], workingDirectory: "/usr", input: Array("in\n".utf8)))
        #expect(result.status == 3)
        #expect(result.output == "in\n/usr\n")
        #expect(result.errorOutput == "oops\n")
        #expect(try await runner.run(Command("/bin/true")).status == 0)
    }

    @Test("a child that leaves a process behind holding its output is done when the child is")
    func leftBehind() async throws {
        let started = Date()
        let result = try await runner.run(Command("sh", ["-c", "sleep 300 & echo started"], timeout: .seconds(200)))
        #expect(result.output == "started\n")
        #expect(Date().timeIntervalSince(started) < 100, "waited for the process left behind (its sleep 300 holds the output; the timeout is 200 s)")
    }

    @Test("a command past its timeout is killed with everything it started, and the error says so")
    func timeout() async throws {
        let started = Date()
        do {
            _ = try await runner.run(Command("sh", ["-c", "echo partial; sleep 3007 & sleep 3011"], timeout: .seconds(1)))
            Issue.record("the command was not stopped")
        } catch let error as BerthError {
            #expect(error.code == .commandTimedOut)
            #expect(error.message.contains("did not finish within 1 s"), "\(error)")
        }
        #expect(Date().timeIntervalSince(started) < 100, "the 1 s timeout did not end the command (it sleeps 3011 s)")
        try await Task.sleep(for: .milliseconds(200))
        let left = try await runner.run(Command("sh", ["-c", "ps -eo pid,pgid,stat,cmd | grep 'sleep 30[01][71]'"]))
        #expect(left.output.isEmpty, "left running: \(left.output)")
    }

    @Test("cancelling the task that runs a command ends the command's process group")
    func cancellation() async throws {
        let task = Task { try await runner.run(Command("sh", ["-c", "sleep 3013 & sleep 3017"])) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        _ = try? await task.value
        try await Task.sleep(for: .milliseconds(200))
        let left = try await runner.run(Command("pgrep", ["-f", "sleep 30(13|17)"]))
        #expect(left.output.isEmpty, "left running: \(left.output)")
    }

    @Test("a child inherits no descriptor but its standard three")
    func noInheritedDescriptors() async throws {
        let fd = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
        defer { close(fd) }
        let result = try await runner.run(Command("sh", ["-c", "ls /proc/self/fd"]))
        let fds = result.output.split(separator: "\n").compactMap { Int($0) }.filter { $0 > 2 }
        // One descriptor is ls's own handle on /proc/self/fd.
        #expect(fds.count <= 1, "inherited: \(fds)")
    }

    @Test("a child ended by a signal reports 128 + the signal, as shells do")
    func signalled() async throws {
        #expect(try await runner.run(Command("sh", ["-c", "kill -TERM $$"])).status == 128 + SIGTERM)
    }

    @Test("check throws command-failed naming the command and its stderr")
    func check() async throws {
        do {
            try await runner.check(Command("sh", ["-c", "echo broken >&2; exit 4"]))
            Issue.record("no error")
        } catch let error as BerthError {
            #expect(error.code == .commandFailed)
            #expect(error.message == "`sh -c echo broken >&2; exit 4` exited 4: broken")
        }
    }

    @Test("PATH is the child's: searched in order, directories and non-executables skipped; not found is 127")
    func pathSearch() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-path-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for dir in ["a", "b", "c", "c/tool"] { try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true) }
        func script(_ path: String, _ text: String, mode: Int) throws {
            try "#!/bin/sh\necho \(text) \"$0\" \"$@\"\n".write(toFile: "\(root)/\(path)", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: "\(root)/\(path)")
        }
        try script("a/tool", "not executable", mode: 0o644)
        try script("b/tool", "from b", mode: 0o755)
        let path = "\(root)/c:\(root)/a:\(root)/b:/usr/bin:/bin"
        let found = try await runner.run(Command("tool", ["x"], environment: ["PATH": path]))
        #expect(found.status == 0 && found.output == "from b \(root)/b/tool x\n", "\(found)")
        let relative = try await runner.run(Command("./b/tool", [], environment: ["PATH": path], workingDirectory: root))
        #expect(relative.output == "from b \(root)/./b/tool\n", "\(relative)")
        let missing = try await runner.run(Command("berth-no-such-tool", [], environment: ["PATH": path]))
        #expect(missing.status == 127 && missing.errorOutput.contains("berth-no-such-tool: not found in PATH"), "\(missing)")
    }
}
