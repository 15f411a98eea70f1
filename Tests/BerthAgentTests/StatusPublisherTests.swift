@testable import BerthAgent
import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Testing
import TestSupport

/// The chain of reports on `refs/berth/status/HOST`, pushed to a real bare repository: publishes
/// of one host that run at once or cross each other lose no report, and a host whose record of its
/// chain was lost keeps the reports it published before.
@Suite("the status ref's chain: concurrent and crossed publishes, a lost record")
struct StatusPublisherTests {
    let root: TemporaryDirectory
    let remote: TemporaryDirectory
    let key: String
    let start = Date(timeIntervalSince1970: 1_790_000_000)

    init() throws {
        root = try TemporaryDirectory("berth-root")
        remote = try TemporaryDirectory("berth-status")
        key = try HostIdentity.generateKey()
        try root.write(String(HostLayout.hostKey.dropFirst()), key, mode: 0o600)
        let result = Process()
        result.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        result.arguments = ["init", "-q", "--bare", remote.path]
        try result.run()
        result.waitUntilExit()
    }

    func settings(limit: Int = 50) -> AgentSettings {
        var settings = AgentSettings(host: "web-1")
        settings.root = root.path
        settings.reportGit = true
        settings.reportRepo = remote.path
        settings.reportHistory = limit
        return settings
    }

    /// Report `n`, `n` seconds and a bit after `start`, signed with `signingKey` (the host's by default).
    func report(_ n: Int, event: Bool = true, signingKey: String? = nil) throws -> PublishedReport {
        let time = start.addingTimeInterval(Double(n) + 0.25)
        let states: [HostState] = [.inSync, .repaired, .rolledBack]
        let report = ReconcileReport(host: "web-1", agentVersion: "test", time: time, state: states[n % 3], message: "report \(n)",
                                     source: SourceStatus(kind: .state, location: "/srv/fleet"), intervalSeconds: 300)
        let bytes = try report.encoded()
        return PublishedReport(json: bytes, signature: try ReportSignature.sign(bytes, privateKeyPEM: signingKey ?? key).text, event: event, time: time)
    }

    func publish(_ published: PublishedReport, limit: Int = 50) async throws {
        try await StatusPublisher(settings: settings(limit: limit), runner: SubprocessRunner()).publish(published, summary: "test")
    }

    /// The messages of the reports on the remote ref, oldest first.
    func remoteChain() async throws -> [String] {
        let commits = try await CLI.git(remote.path, "rev-list", "--first-parent", "--reverse", "refs/berth/status/web-1")
        var out: [String] = []
        for commit in commits.split(separator: "\n") {
            let json = try await CLI.git(remote.path, "cat-file", "blob", "\(commit):web-1.json")
            out.append(try ReconcileReport.decode(Array(json.utf8)).message)
        }
        return out
    }

    @Test("eight publishes of one host at once, in any order: every report is on the ref, oldest first, the newest at the head")
    func concurrentPublishes() async throws {
        let reports = try (1...8).map { try report($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for published in [reports[3], reports[7], reports[0], reports[5], reports[2], reports[6], reports[1], reports[4]] {
                group.addTask { try await self.publish(published) }
            }
            try await group.waitForAll()
        }
        #expect(try await remoteChain() == (1...8).map { "report \($0)" })
    }

    @Test("crossed publishes: an older entry goes in its place by time, an older repeat adds nothing, the next repeat replaces the head's")
    func crossedPublishes() async throws {
        try await publish(try report(1))
        try await publish(try report(3, event: false))
        try await publish(try report(2))
        #expect(try await remoteChain() == ["report 1", "report 2", "report 3"], "the newer repeat stays the head")
        try await publish(try report(0, event: false))
        #expect(try await remoteChain() == ["report 1", "report 2", "report 3"])
        try await publish(try report(4, event: false))
        #expect(try await remoteChain() == ["report 1", "report 2", "report 4"], "a repeat replaces the repeat at the head")
        try await publish(try report(4, event: false))
        #expect(try await remoteChain() == ["report 1", "report 2", "report 4"], "publishing the same report again changes nothing")
    }

    @Test("a host that lost its record of the chain keeps the reports it published; commits it did not sign are dropped; the limit holds")
    func lostRecord() async throws {
        for n in 1...3 { try await publish(try report(n)) }
        func forget() throws {
            try FileManager.default.removeItem(atPath: root.file(String(HostLayout.statusChainState.dropFirst())))
            try FileManager.default.removeItem(atPath: root.file(String(HostLayout.statusRepository.dropFirst())))
        }
        try forget()
        try await publish(try report(4))
        #expect(try await remoteChain() == ["report 1", "report 2", "report 3", "report 4"])

        // Someone else puts a report for web-1, signed with another key, on top of the ref.
        let other = try report(5, signingKey: try HostIdentity.generateKey())
        let dir = try TemporaryDirectory("berth-other")
        try await CLI.git(dir.path, "init", "-q")
        try await CLI.git(dir.path, "fetch", "-q", remote.path, "refs/berth/status/web-1")
        try await CLI.git(dir.path, "checkout", "-q", "FETCH_HEAD")
        try Data(other.json).write(to: dir.url("web-1.json"))
        try other.signature!.write(toFile: dir.file("web-1.json.sig"), atomically: true, encoding: .utf8)
        try await CLI.git(dir.path, "add", "-A")
        try await CLI.git(dir.path, "commit", "-qm", "not web-1's")
        try await CLI.git(dir.path, "push", "-q", "-f", remote.path, "HEAD:refs/berth/status/web-1")
        #expect(try await remoteChain() == ["report 1", "report 2", "report 3", "report 4", "report 5"])

        try forget()
        try await publish(try report(6), limit: 4)
        #expect(try await remoteChain() == ["report 2", "report 3", "report 4", "report 6"], "the foreign commit is dropped, the newest four kept")
        // With its record intact, the host replaces a foreign commit again, its own reports kept.
        try await CLI.git(dir.path, "push", "-q", "-f", remote.path, "HEAD:refs/berth/status/web-1")
        try await publish(try report(7), limit: 4)
        #expect(try await remoteChain() == ["report 3", "report 4", "report 6", "report 7"])
    }
}
