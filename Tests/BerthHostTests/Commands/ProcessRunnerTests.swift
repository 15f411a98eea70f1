import BerthHost
import Foundation
import Testing

@Suite("running commands")
struct ProcessRunnerTests {
    let runner = ProcessRunner()

    @Test("output, input, exit code and working directory come back")
    func basics() throws {
        let result = try runner.runSync(Command("sh", ["-c", "cat; pwd; echo oops >&2; exit 3"], workingDirectory: "/usr", input: Array("in\n".utf8)))
        #expect(result.status == 3)
        #expect(result.output == "in\n/usr\n")
        #expect(result.errorOutput == "oops\n")
        #expect(try runner.runSync(Command("/bin/true")).status == 0)
    }

    @Test("a child that leaves a process behind holding its output is done when the child is")
    func leftBehind() throws {
        let started = Date()
        let result = try runner.runSync(Command("sh", ["-c", "sleep 30 & echo started"], timeout: 20))
        #expect(result.output == "started\n")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("a command past its timeout is killed with everything it started")
    func timeout() throws {
        let started = Date()
        #expect(throws: CommandTimeout.self) {
            try runner.runSync(Command("sh", ["-c", "echo partial; sleep 3007 & sleep 3011"], timeout: 1))
        }
        #expect(Date().timeIntervalSince(started) < 6)
        Thread.sleep(forTimeInterval: 0.2)
        let left = try runner.runSync(Command("pgrep", ["-f", "sleep 30(07|11)"]))
        #expect(left.output.isEmpty, "left running: \(left.output)")
    }

    @Test("a child ended by a signal reports 128 + the signal, as shells do")
    func signalled() throws {
        #expect(try runner.runSync(Command("sh", ["-c", "kill -TERM $$"])).status == 128 + SIGTERM)
    }

    @Test("PATH is the child's: searched in order, directories and non-executables skipped; not found is 127")
    func pathSearch() throws {
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
        let found = try runner.runSync(Command("tool", ["x"], environment: ["PATH": path]))
        #expect(found.status == 0 && found.output == "from b \(root)/b/tool x\n", "\(found)")
        let relative = try runner.runSync(Command("./b/tool", [], environment: ["PATH": path], workingDirectory: root))
        #expect(relative.output == "from b ./b/tool\n", "\(relative)")
        let missing = try runner.runSync(Command("berth-no-such-tool", [], environment: ["PATH": path]))
        #expect(missing.status == 127 && missing.errorOutput.contains("berth-no-such-tool: not found in PATH"), "\(missing)")
    }
}
