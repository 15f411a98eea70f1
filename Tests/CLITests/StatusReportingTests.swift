import BerthCore
import FleetFixture
import Foundation
import Testing
import TestSupport

/// Reporting through a shared directory and through per-host Git refs, read back by `berthctl status`.
@Suite("status reports: shared directory, per-host refs, a thousand agents at once")
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

    @Test("a thousand agents publish to one repository over git:// with 250 in flight; every report lands, each the host's own bytes",
          .timeLimit(.minutes(10)))
    func thousandAgentsPublish() async throws {
        let work = try TemporaryDirectory("berth-push")
        // Each host's root holds its last report and signature, as the agent leaves them.
        let fleet = SyntheticFleet(count: 1000, directory: work.path, allInSync: true, agentRoots: true)
        _ = try await fleet.generate()
        try await CLI.git(work.path, "init", "-q", "--bare", "status.git")
        let daemon = try await GitDaemon(serving: work.path)
        defer { daemon.stop() }
        let url = daemon.url("status.git")

        let inFlight = 250
        let outcomes = try await withThrowingTaskGroup(of: (Int, CLI.Result).self) { group in
            var outcomes: [Int: CLI.Result] = [:]
            func publish(_ index: Int) {
                group.addTask {
                    (index, try await CLI.run("berth-agent", ["publish", "--root", fleet.agentRoot(index), "--host", SyntheticFleet.hostName(index),
                                                              "--state", "/anything", "--report-repo", url]))
                }
            }
            for index in 0..<inFlight { publish(index) }
            var next = inFlight
            for try await (index, result) in group {
                outcomes[index] = result
                if next < fleet.count { publish(next); next += 1 }
            }
            return outcomes
        }
        // A push whose four attempts all fail (git daemon listens with a backlog of 5: 250
        // connections at once overflow it, and a connection may be reset) is not lost: the report
        // stays on the host and its next pass pushes it. Those hosts publish once more, one at a
        // time, as their next pass would; every one must land then. docs/scale.md has the figures.
        let gaveUp = outcomes.filter { $0.value.status != 0 }.keys.sorted()
        for index in gaveUp {
            #expect(outcomes[index]!.stderr.contains("git push"), "publish failed for another reason than the push: \(outcomes[index]!)")
            let again = try await CLI.run("berth-agent", ["publish", "--root", fleet.agentRoot(index), "--host", SyntheticFleet.hostName(index),
                                                          "--state", "/anything", "--report-repo", url])
            #expect(again.status == 0, "the next publish of h\(index) fails too: \(again)")
        }
        #expect(gaveUp.count <= fleet.count / 20, "\(gaveUp.count) of \(fleet.count) publishes used up their retries")
        daemon.stop()
        let retries = outcomes.values.compactMap { $0.stdout.split(separator: "(retries: ").last.flatMap { Int($0.prefix { $0.isNumber }) } }
        #expect(retries.count == fleet.count - gaveUp.count, "every publish that lands says how many retries it took")

        let refs = try await CLI.git("\(work.path)/status.git", "for-each-ref", "--format=%(refname)", "refs/berth/status/")
        #expect(Set(refs.split(separator: "\n").map(String.init)) == Set((0..<fleet.count).map { "refs/berth/status/\(SyntheticFleet.hostName($0))" }))
        // Every ref's blobs are exactly the bytes that host published: read back in one batch.
        var requests = ""
        for index in 0..<fleet.count {
            let host = SyntheticFleet.hostName(index)
            requests += "refs/berth/status/\(host):\(host).json\nrefs/berth/status/\(host):\(host).json.sig\n"
        }
        let batch = try await CLI.run("/usr/bin/git", ["-C", "\(work.path)/status.git", "cat-file", "--batch"], input: requests)
        let blobs = Self.blobs(Array(batch.stdout.utf8))
        #expect(blobs.count == 2 * fleet.count)
        var mismatched: [String] = []
        for index in 0..<fleet.count where blobs.count == 2 * fleet.count {
            let lib = "\(fleet.agentRoot(index))/var/lib/berth"
            let published = [try Array(Data(contentsOf: URL(fileURLWithPath: "\(lib)/last-report.json"))),
                             try Array(Data(contentsOf: URL(fileURLWithPath: "\(lib)/last-report.json.sig")))]
            if published != [blobs[2 * index], blobs[2 * index + 1]] { mismatched.append(SyntheticFleet.hostName(index)) }
        }
        #expect(mismatched.isEmpty, "refs holding other bytes than their host published: \(mismatched.prefix(10))")
    }

    /// The contents of each object in `git cat-file --batch` output (`<oid> blob <size>\n<bytes>\n`).
    static func blobs(_ output: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var index = 0
        while let newline = output[index...].firstIndex(of: 0x0a) {
            let header = String(decoding: output[index..<newline], as: UTF8.self).split(separator: " ")
            guard header.count == 3, header[1] == "blob", let size = Int(header[2]), newline + 1 + size <= output.count else { break }
            out.append(Array(output[(newline + 1)..<(newline + 1 + size)]))
            index = newline + 2 + size
            if index >= output.count { break }
        }
        return out
    }
}
