import BerthAgent
import BerthCore
import Foundation
import Testing
import TestSupport

/// Reporting through a shared directory and through per-host Git refs, read back by `berthctl status`.
@Suite("status reports: shared directory, per-host refs, fifty agents at once")
struct StatusReportingTests {
    func writeReport(_ dir: String, host: String, state: HostState, revision: String, age: TimeInterval = 0) throws {
        var report = ReconcileReport(host: host, agentVersion: "0.1.0", time: Date().addingTimeInterval(-age), state: state, message: "m",
                                     source: SourceStatus(kind: "state", location: "/srv/fleet"), intervalSeconds: 300)
        report.desiredRevision = revision
        report.appliedRevision = revision
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(try report.encoded()).write(to: URL(fileURLWithPath: "\(dir)/\(host).json"))
    }

    @Test("status reads a shared directory: exit 0 only when all are in sync at HEAD; stale and unknown shown")
    func sharedDirectory() throws {
        let fleet = try TestFleet()
        try CLI.git(fleet.root, "init", "-q")
        try CLI.git(fleet.root, "add", "-A")
        try CLI.git(fleet.root, "commit", "-qm", "fleet")
        let head = try CLI.run("/usr/bin/git", ["-C", fleet.root, "rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let reports = fleet.directory.file("reports-out")
        try writeReport(reports, host: "web-1", state: .inSync, revision: head)
        try writeReport(reports, host: "web-2", state: .inSync, revision: head)
        let ok = try CLI.run("berthctl", ["status", "--reports", reports, "--repo", fleet.root])
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.stdout.contains("web-1") && ok.stdout.contains("in-sync"))

        try writeReport(reports, host: "web-2", state: .inSync, revision: head, age: 3600)
        let stale = try CLI.run("berthctl", ["status", "--reports", reports, "--repo", fleet.root])
        #expect(stale.status == 1)
        #expect(stale.stdout.contains("stale"))
        let staleHost = try CLI.run("berthctl", ["status", "web-2", "--reports", reports, "--repo", fleet.root])
        #expect(staleHost.status == 1, "an in-sync report an hour old is not in sync now")
        #expect(staleHost.stdout.hasPrefix("stale: last report 36"), "\(staleHost)")

        try FileManager.default.removeItem(atPath: "\(reports)/web-2.json")
        let unknown = try CLI.run("berthctl", ["status", "--json", "--reports", reports, "--repo", fleet.root])
        #expect(unknown.status == 1)
        #expect(unknown.stdout.contains("\"unknown\""))
        let detail = try CLI.run("berthctl", ["status", "web-1", "--reports", reports, "--repo", fleet.root])
        #expect(detail.stdout.contains("state:     in-sync"))
    }

    @Test("fifty agents push their reports to one bare repository at the same moment; every ref lands")
    func fiftyAgentsPush() throws {
        let work = try TemporaryDirectory("berth-push")
        let fleet = try TestFleet()
        try CLI.gitCommitAll(fleet.root, "fleet")
        let bare = work.file("fleet.git")
        let clone = try CLI.run("/usr/bin/git", ["clone", "-q", "--bare", fleet.root, bare])
        #expect(clone.status == 0, "\(clone)")

        let count = 50
        var processes: [Process] = []
        for i in 0..<count {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "\(CLI.binDir)/berth-agent")
            // Scratch roots with no systemd: each pass reports (failed or invalid-state) and pushes.
            p.arguments = ["reconcile", "--host", "h\(i)", "--root", work.file("root-\(i)"), "--repo", bare, "--branch", "main", "--report-git", "--verify-timeout", "1"]
            p.environment = ProcessInfo.processInfo.environment.merging(CLI.gitIdentity) { $1 }
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            processes.append(p)
        }
        for p in processes { try p.run() }
        for p in processes { p.waitUntilExit() }
        let refs = try CLI.run("/usr/bin/git", ["-C", bare, "for-each-ref", "--format=%(refname)", "refs/berth/status/"])
        let landed = Set(refs.stdout.split(separator: "\n").map(String.init))
        #expect(landed.count == count, "only \(landed.count) of \(count) refs landed")
        for i in 0..<count {
            let show = try CLI.run("/usr/bin/git", ["-C", bare, "show", "refs/berth/status/h\(i):h\(i).json"])
            #expect(show.status == 0)
            #expect((try? ReconcileReport.decode(Array(show.stdout.utf8)))?.host == "h\(i)")
        }
    }
}
