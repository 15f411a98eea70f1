import BerthControl
import BerthCore
import Foundation
import Testing

@Suite("the fleet view: stale, unknown, unverified, in sync")
struct FleetStatusTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func report(_ host: String, _ state: HostState, revision: String = "r2", age: TimeInterval = 10, interval: Int = 300,
                trust: ReportTrust = .verified) throws -> CheckedReport {
        var r = ReconcileReport(host: host, agentVersion: "0.2.0", time: now.addingTimeInterval(-age), state: state, message: "",
                                source: SourceStatus(kind: .state, location: "/srv/fleet"), intervalSeconds: interval)
        r.desiredRevision = revision
        r.appliedRevision = revision
        return CheckedReport(fetched: FetchedReport(host: host, json: try r.encoded(), signature: nil), trust: trust)
    }

    func compute(_ reports: [String: CheckedReport], hosts: [String]? = nil, staleAfter: TimeInterval = FleetStatus.defaultStaleAfter) -> FleetStatus {
        FleetStatus.compute(hosts: hosts ?? reports.keys.sorted(), reports: reports, revision: "r2", now: now, staleAfter: staleAfter)
    }

    @Test("every host in sync at the current revision is the only all-clear")
    func allInSync() throws {
        #expect(compute(["a": try report("a", .inSync), "b": try report("b", .inSync)]).allInSync)
        #expect(!compute(["a": try report("a", .inSync), "b": try report("b", .inSync, revision: "r1")]).allInSync)
    }

    @Test("a host repaired at the current revision is in sync; one waiting for a restart is not")
    func repairedCounts() throws {
        #expect(compute(["a": try report("a", .inSync), "b": try report("b", .repaired)]).allInSync)
        #expect(!compute(["a": try report("a", .repaired, revision: "r1")]).allInSync)
        for state in [HostState.pendingRestart, .awaitingCertificate, .rolledBack, .failed, .invalidState, .untrusted] {
            #expect(!compute(["a": try report("a", state)]).allInSync, "\(state)")
        }
    }

    @Test("no report is unknown; a report older than the stale limit is stale")
    func staleAndUnknown() throws {
        let status = compute(["a": try report("a", .inSync, age: 901), "b": try report("b", .inSync, age: 899)], hosts: ["a", "b", "c"])
        #expect(status.rows.map(\.state) == [.stale, .inSync, .unknown])
        #expect(!status.allInSync)
        #expect(compute(["a": try report("a", .inSync, age: 901)], staleAfter: 3600).rows[0].state == .inSync)
    }

    @Test("the stale limit is the controller's: a report claiming an interval of 1e9 s still goes stale")
    func claimedIntervalIsCapped() throws {
        let status = compute(["a": try report("a", .inSync, age: 3600, interval: 1_000_000_000)])
        #expect(status.rows[0].state == .stale)
        #expect(compute(["a": try report("a", .inSync, age: 20, interval: 5)], staleAfter: 15).rows[0].state == .stale)
    }

    @Test("a report that does not verify is unverified, says why, and never counts as in sync")
    func unverified() throws {
        let status = compute(["a": try report("a", .inSync, trust: .unverified("the signature was not made by the host's key"))])
        #expect(status.rows[0].state == .unverified)
        #expect(status.rows[0].message.contains("the signature was not made by the host's key"))
        #expect(!status.allInSync)
    }

    @Test("drift is summarised by kind")
    func driftSummary() throws {
        var r = ReconcileReport(host: "a", agentVersion: "0.2.0", time: now, state: .repaired, message: "",
                                source: SourceStatus(kind: .state, location: "/srv/fleet"), intervalSeconds: 300)
        r.drift = [DriftItem(.fileMode, "/x", "m"), DriftItem(.fileMode, "/y", "m"), DriftItem(.fileContent, "/z", "c")]
        let checked = CheckedReport(fetched: FetchedReport(host: "a", json: try r.encoded(), signature: nil), trust: .verified)
        #expect(compute(["a": checked]).rows[0].driftSummary == "file-content×1,file-mode×2")
    }
}
