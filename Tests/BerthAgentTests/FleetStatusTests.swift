import BerthAgent
import BerthCore
import Foundation
import Testing

@Suite("the fleet view: stale, unknown, in sync")
struct FleetStatusTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func report(_ host: String, _ state: HostState, revision: String = "r2", age: TimeInterval = 10) -> ReconcileReport {
        var r = ReconcileReport(host: host, agentVersion: "0.1.0", time: now.addingTimeInterval(-age), state: state, message: "",
                                source: SourceStatus(kind: "state", location: "/srv/fleet"), intervalSeconds: 300)
        r.desiredRevision = revision
        r.appliedRevision = revision
        return r
    }

    @Test("every host in sync at the current revision is the only all-clear")
    func allInSync() {
        let status = FleetStatus.compute(hosts: ["a", "b"], reports: ["a": report("a", .inSync), "b": report("b", .inSync)], revision: "r2", now: now)
        #expect(status.allInSync)
        let behind = FleetStatus.compute(hosts: ["a", "b"], reports: ["a": report("a", .inSync), "b": report("b", .inSync, revision: "r1")], revision: "r2", now: now)
        #expect(!behind.allInSync)
    }

    @Test("a host repaired at the current revision is in sync; one waiting for a restart is not")
    func repairedCounts() {
        let repaired = FleetStatus.compute(hosts: ["a", "b"], reports: ["a": report("a", .inSync), "b": report("b", .repaired)], revision: "r2", now: now)
        #expect(repaired.allInSync)
        let behind = FleetStatus.compute(hosts: ["a"], reports: ["a": report("a", .repaired, revision: "r1")], revision: "r2", now: now)
        #expect(!behind.allInSync)
        for state in [HostState.pendingRestart, .awaitingCertificate, .rolledBack, .failed, .invalidState] {
            let status = FleetStatus.compute(hosts: ["a"], reports: ["a": report("a", state)], revision: "r2", now: now)
            #expect(!status.allInSync, "\(state)")
        }
    }

    @Test("no report is unknown; a report older than three intervals is stale")
    func staleAndUnknown() {
        let status = FleetStatus.compute(hosts: ["a", "b", "c"], reports: ["a": report("a", .inSync, age: 901), "b": report("b", .inSync, age: 899)], revision: "r2", now: now)
        #expect(status.rows.map(\.state) == [.stale, .inSync, .unknown])
        #expect(!status.allInSync)
    }

    @Test("drift is summarised by kind")
    func driftSummary() {
        var r = report("a", .repaired)
        r.drift = [DriftItem(.fileMode, "/x", "m"), DriftItem(.fileMode, "/y", "m"), DriftItem(.fileContent, "/z", "c")]
        let status = FleetStatus.compute(hosts: ["a"], reports: ["a": r], revision: "r2", now: now)
        #expect(status.rows[0].driftSummary == "file-content×1,file-mode×2")
    }
}
