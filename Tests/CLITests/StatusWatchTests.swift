import BerthCore
import Foundation
import Testing
import TestSupport

/// `berthctl status --watch` in a real terminal: tmux runs it in a detached session, the test
/// changes the fleet underneath (a new report, a new commit) and reads the screen back.
///
/// Built for a loaded machine: every step waits for the screen to show what it expects (up to
/// ``Tmux/patience`` seconds: a debug berthctl runs two git processes per frame) and no step
/// measures time. Each wait is for the whole line it then checks, so a frame caught half drawn
/// is waited past, not judged.
@Suite("status --watch under tmux: redrawn in place, cursor restored on Ctrl-C", .serialized)
struct StatusWatchTests {
    /// A tmux server of this test's own (`-L`), with panes kept after their command exits so its
    /// exit status can be read.
    struct Tmux {
        let socket = "berth-watch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let config: String

        init(in work: TemporaryDirectory) throws {
            config = try work.write("tmux.conf", "set -g remain-on-exit on\nset -g history-limit 1000\nset -g status off\n")
        }

        @discardableResult
        func run(_ arguments: String...) async throws -> String {
            let result = try await CLI.run("/usr/bin/tmux", ["-L", socket, "-f", config] + arguments, timeout: .seconds(120))
            guard result.status == 0 else { throw Failure(description: "tmux \(arguments.joined(separator: " ")): \(result)") }
            return result.stdout
        }

        func screen() async throws -> String { try await run("capture-pane", "-p", "-t", "watch") }
        func value(_ format: String) async throws -> String {
            try await run("display-message", "-p", "-t", "watch", format).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// How long a step waits for the screen: generous, since it only bounds a failing run.
        static let patience: Double = 120

        /// Polls the screen until `done` holds (at most `seconds`); returns the last screen.
        func wait(_ seconds: Double = patience, until done: (String) -> Bool) async throws -> String {
            let deadline = Date().addingTimeInterval(seconds)
            var last = ""
            while Date() < deadline {
                last = try await screen()
                if done(last) { return last }
                try await Task.sleep(for: .milliseconds(200))
            }
            return last
        }

        struct Failure: Error, CustomStringConvertible { var description: String }

        func stop() async { _ = try? await CLI.run("/usr/bin/tmux", ["-L", socket, "kill-server"], timeout: .seconds(120)) }
    }

    func certifiedFleet() async throws -> (TestFleet, [String: TestHostIdentity], String) {
        let fleet = try TestFleet()
        let web1 = try TestHostIdentity(name: "web-1"), web2 = try TestHostIdentity(name: "web-2")
        try web1.certify(in: fleet, sans: [.dnsName("web-1"), .ip(IPAddress("10.0.0.5")!), .dnsName("web-1.example.com")])
        try web2.certify(in: fleet, sans: [.dnsName("web-2")])
        let head = try await CLI.gitCommitAll(fleet.root, "fleet")
        return (fleet, ["web-1": web1, "web-2": web2], head)
    }

    func lines(_ screen: String, containing text: String) -> [String] {
        screen.split(separator: "\n").map(String.init).filter { $0.contains(text) }
    }

    @Test("a new report and a new commit show up in place: one table, no leftovers, nothing scrolled; Ctrl-C exits 130 with the cursor back",
          .timeLimit(.minutes(10)))
    func redrawsInPlace() async throws {
        let work = try TemporaryDirectory("berth-watch")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            Issue.record("tmux is missing: run scripts/deps.sh")
            return
        }
        let (fleet, hosts, head) = try await certifiedFleet()
        let reports = work.file("reports")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        try hosts["web-1"]!.publish(hosts["web-1"]!.report(.inSync, revision: head), to: reports)
        var failed = hosts["web-2"]!.report(.failed, revision: head)
        failed.drift = [DriftItem(.daemonDown, "docker.service", "dockerd is not running"), DriftItem(.listenerProbe, "tcp://0.0.0.0:2376", "refused")]
        try hosts["web-2"]!.publish(failed, to: reports)

        let tmux = try Tmux(in: work)
        do {
            // The shell stays after the watch ends and prints its exit status, so the cursor and
            // the status are read from a live pane: tmux may mark a pane dead before it has read
            // the last bytes its process wrote, or before it has the exit status. `trap : INT`
            // keeps that shell through Ctrl-C; berthctl, its child, gets SIGINT as usual (a trap is not inherited).
            try await tmux.run("new-session", "-d", "-s", "watch", "-x", "150", "-y", "30",
                               "trap : INT; \(CLI.binDir)/berthctl status --watch --interval 1s --repo \(fleet.root) --reports \(reports); "
                               + "echo \"watch exited $?\"; exec sleep 3600")
            var screen = try await tmux.wait { self.lines($0, containing: "web-2").first?.contains("daemon-down×1,listener-probe×1") == true }
            #expect(screen.contains("Every 1s: berthctl status"), "\(screen)")
            #expect(lines(screen, containing: "web-2").first?.contains("failed") == true, "\(screen)")
            #expect(lines(screen, containing: "web-2").first?.contains("daemon-down×1,listener-probe×1") == true, "\(screen)")
            #expect(try await tmux.value("#{cursor_flag}") == "0", "the cursor is shown while watching")

            // web-2 recovers: its line gets shorter; nothing of the old one may stay on screen.
            try hosts["web-2"]!.publish(hosts["web-2"]!.report(.inSync, revision: head), to: reports)
            screen = try await tmux.wait { self.lines($0, containing: "web-2").first.map { $0.contains("in-sync") && $0.hasSuffix("signed") } == true }
            #expect(lines(screen, containing: "web-2").first?.contains("in-sync") == true, "the new report never showed: \(screen)")
            #expect(!screen.contains("failed") && !screen.contains("daemon-down") && !screen.contains("listener-probe"), "leftovers: \(screen)")

            // A new commit: both hosts now lag behind it.
            try fleet.write("fleet.yaml", FleetFixtures.validYAML.replacingOccurrences(of: "labels: [env=prod]", with: "labels: [env=prod, tier=1]"))
            try await CLI.git(fleet.root, "commit", "-qam", "label tier=1")
            let newHead = try await CLI.git(fleet.root, "rev-parse", "HEAD")
            screen = try await tmux.wait { screen in
                ["web-1", "web-2"].allSatisfy { host in
                    self.lines(screen, containing: host).first.map { $0.contains("(desired \(newHead.prefix(12)))") && $0.hasSuffix("signed") } == true
                }
            }
            #expect(screen.components(separatedBy: "(desired \(newHead.prefix(12)))").count == 3, "the new commit never showed: \(screen)")

            // One frame on the screen, drawn over the last: one header, one line per host, each
            // ending in its last column, and nothing pushed into tmux's scrollback.
            #expect(lines(screen, containing: "Every 1s:").count == 1, "\(screen)")
            #expect(lines(screen, containing: "HOST").count == 1, "\(screen)")
            for host in ["web-1", "web-2"] {
                let rows = lines(screen, containing: host)
                #expect(rows.count == 1, "\(host): \(screen)")
                #expect(rows.first?.hasSuffix("signed") == true, "\(host) line does not end in its last column: \(rows)")
            }
            #expect(try await tmux.value("#{history_size}") == "0", "frames scrolled the screen instead of redrawing it")

            try await tmux.run("send-keys", "-t", "watch", "C-c")
            screen = try await tmux.wait { $0.contains("watch exited") }
            #expect(screen.contains("watch exited 130"), "Ctrl-C did not end the watch with 130: \(screen)")
            #expect(try await tmux.value("#{cursor_flag}") == "1", "the cursor stayed hidden after Ctrl-C")
        } catch {
            await tmux.stop()
            throw error
        }
        await tmux.stop()
    }

    @Test("a frame taller than the terminal is cut to it, saying how many lines are hidden", .timeLimit(.minutes(10)))
    func cutToTerminalHeight() async throws {
        let work = try TemporaryDirectory("berth-watch")
        let (fleet, hosts, head) = try await certifiedFleet()
        let reports = work.file("reports")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        for host in hosts.values { try host.publish(host.report(.inSync, revision: head), to: reports) }
        let tmux = try Tmux(in: work)
        do {
            try await tmux.run("new-session", "-d", "-s", "watch", "-x", "60", "-y", "4",
                               "exec \(CLI.binDir)/berthctl status --watch --repo \(fleet.root) --reports \(reports)")
            let screen = try await tmux.wait { $0.contains("… 2 more lines") }
            var rows = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            while rows.last?.isEmpty == true { rows.removeLast() }
            #expect(rows.count == 4 && rows[3].hasPrefix("… 2 more lines"), "\(screen)")
            #expect(rows.allSatisfy { $0.count <= 60 })
            #expect(try await tmux.value("#{history_size}") == "0")
        } catch {
            await tmux.stop()
            throw error
        }
        await tmux.stop()
    }
}
