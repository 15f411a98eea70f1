import BerthCore
import Foundation
import Testing
import TestSupport

/// Reporting through a shared directory and through per-host Git refs, read back by `berthctl status`.
@Suite("status reports: shared directory, per-host refs, fifty agents at once")
struct StatusReportingTests {
    /// A fleet whose two hosts have certificates, committed; returns the hosts and the commit.
    func certifiedFleet() async throws -> (TestFleet, [String: TestHostIdentity], String) {
        let fleet = try TestFleet()
        let web1 = try TestHostIdentity(name: "web-1"), web2 = try TestHostIdentity(name: "web-2")
        try web1.certify(in: fleet, sans: [.dnsName("web-1"), .ip(IPAddress("10.0.0.5")!), .dnsName("web-1.example.com")])
        try web2.certify(in: fleet, sans: [.dnsName("web-2")])
        let head = try await CLI.gitCommitAll(fleet.root, "fleet")
        return (fleet, ["web-1": web1, "web-2": web2], head)
    }

    func writeReport(_ dir: String, host: TestHostIdentity, state: HostState, revision: String, age: TimeInterval = 0) async throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try host.publish(host.report(state, revision: revision, age: age), to: dir)
    }

    @Test("status reads a shared directory: exit 0 only when all are in sync at HEAD; stale and unknown shown")
    func sharedDirectory() async throws {
        let (fleet, hosts, head) = try await certifiedFleet()
        let reports = fleet.directory.file("reports-out")
        try await writeReport(reports, host: hosts["web-1"]!, state: .inSync, revision: head)
        try await writeReport(reports, host: hosts["web-2"]!, state: .inSync, revision: head)
        let ok = try await CLI.run("berthctl", ["status", "--reports", reports, "--repo", fleet.root])
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.stdout.contains("web-1") && ok.stdout.contains("in-sync"))

        try await writeReport(reports, host: hosts["web-2"]!, state: .inSync, revision: head, age: 3600)
        let stale = try await CLI.run("berthctl", ["status", "--reports", reports, "--repo", fleet.root])
        #expect(stale.status == 1)
        #expect(stale.stdout.contains("stale"))
        let staleHost = try await CLI.run("berthctl", ["status", "web-2", "--reports", reports, "--repo", fleet.root])
        #expect(staleHost.status == 1, "an in-sync report an hour old is not in sync now")
        #expect(staleHost.stdout.hasPrefix("stale: last report 36"), "\(staleHost)")
        #expect(try await CLI.run("berthctl", ["status", "--reports", reports, "--repo", fleet.root, "--stale-after", "2h"]).status == 0)

        try FileManager.default.removeItem(atPath: "\(reports)/web-2.json")
        let unknown = try await CLI.run("berthctl", ["status", "--json", "--reports", reports, "--repo", fleet.root])
        #expect(unknown.status == 1)
        #expect(unknown.stdout.contains("\"unknown\""))
        let detail = try await CLI.run("berthctl", ["status", "web-1", "--reports", reports, "--repo", fleet.root])
        #expect(detail.stdout.contains("state:     in-sync"))
    }

    @Test("fifty agents push their reports to one bare repository at the same moment; every ref lands")
    func fiftyAgentsPush() async throws {
        let work = try TemporaryDirectory("berth-push")
        let fleet = try TestFleet()
        try await CLI.gitCommitAll(fleet.root, "fleet")
        let bare = work.file("fleet.git")
        let clone = try await CLI.run("/usr/bin/git", ["clone", "-q", "--bare", fleet.root, bare])
        #expect(clone.status == 0, "\(clone)")

        let count = 50
        var processes: [Process] = []
        for i in 0..<count {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "\(CLI.binDir)/berth-agent")
            // Scratch roots with no systemd: each pass reports (failed or invalid-state) and pushes.
            p.arguments = ["reconcile", "--host", "h\(i)", "--root", work.file("root-\(i)"), "--repo", bare, "--branch", "main", "--report-git",
                           "--allow-unsigned", "--verify-timeout", "1"]
            p.environment = ProcessInfo.processInfo.environment.merging(CLI.gitIdentity) { $1 }
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            processes.append(p)
        }
        for p in processes { try p.run() }
        for p in processes { p.waitUntilExit() }
        let refs = try await CLI.run("/usr/bin/git", ["-C", bare, "for-each-ref", "--format=%(refname)", "refs/berth/status/"])
        let landed = Set(refs.stdout.split(separator: "\n").map(String.init))
        #expect(landed.count == count, "only \(landed.count) of \(count) refs landed")
        for i in 0..<count {
            let show = try await CLI.run("/usr/bin/git", ["-C", bare, "show", "refs/berth/status/h\(i):h\(i).json"])
            #expect(show.status == 0)
            #expect((try? ReconcileReport.decode(Array(show.stdout.utf8)))?.host == "h\(i)")
        }
    }
}
