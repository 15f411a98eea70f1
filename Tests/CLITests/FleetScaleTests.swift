import BerthControl
import BerthCore
import FleetFixture
import Foundation
import Testing
import TestSupport

/// `berthctl status` and `sign --all` over a generated fleet of ten thousand signed hosts
/// (bench/fleet-scale.sh measures the same fleet; these tests check only that it is right).
@Suite("fleet scale: ten thousand signed reports, from a directory and from refs", .serialized)
struct FleetScaleTests {
    static let mixed: [HostState: Int] = [.inSync: 9480, .repaired: 200, .failed: 100, .pendingRestart: 100, .stale: 100, .unverified: 10, .unknown: 10]

    func status(_ fleet: SyntheticFleet, _ arguments: [String]) async throws -> (exit: Int32, status: FleetStatus) {
        let result = try await CLI.run("berthctl", ["status", "--json", "--repo", fleet.fleetDirectory] + arguments)
        #expect(result.stderr.isEmpty, "\(result.stderr.prefix(2000))")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .berthUTC
        return (result.status, try decoder.decode(FleetStatus.self, from: Data(result.stdout.utf8)))
    }

    @Test("10,000 hosts in mixed states: every state counted right, forged reports unverified, exit 1; sign --all finds nothing to sign")
    func tenThousandMixed() async throws {
        let work = try TemporaryDirectory("berth-scale")
        let fleet = SyntheticFleet(count: 10_000, directory: work.path)
        _ = try await fleet.generate()
        #expect(fleet.expectedStates() == Self.mixed)
        let forged = Set((0..<fleet.count).filter { SyntheticFleet.condition(ofHost: $0) == .forged }.map(SyntheticFleet.hostName))
        #expect(forged.count == 10)

        for (source, arguments) in [("directory", ["--reports", fleet.reportDirectory]), ("refs", [])] {
            let (exit, status) = try await status(fleet, arguments)
            #expect(exit == 1, "\(source): a fleet with failed, stale and unverified hosts is not in sync")
            #expect(status.rows.count == fleet.count, "\(source)")
            #expect(Dictionary(grouping: status.rows, by: \.state).mapValues(\.count) == Self.mixed, "\(source)")
            #expect(Set(status.rows.filter { $0.state == .unverified }.map(\.host)) == forged, "\(source)")
            #expect(status.rows.filter { $0.trust == .verified }.count == fleet.count - 20, "\(source): all but the forged and silent hosts verify")
            #expect(status.rows.allSatisfy { $0.state == .unknown || $0.state == .unverified || $0.appliedRevision == status.revision
                                             || $0.state == .failed || $0.state == .pendingRestart }, "\(source)")
        }

        let sign = try await CLI.run("berthctl", ["sign", "--all", "--repo", fleet.fleetDirectory, "--reports", fleet.reportDirectory, "--ca-key", fleet.caKeyPath])
        #expect(sign.status == 0, "\(sign)")
        #expect(sign.stdout.hasPrefix("no host has a pending CSR"), "\(sign)")
    }

    @Test("a fleet all in sync at the current commit exits 0, from a directory and from refs")
    func allInSync() async throws {
        let work = try TemporaryDirectory("berth-scale")
        let fleet = SyntheticFleet(count: 300, directory: work.path, allInSync: true)
        _ = try await fleet.generate()
        for arguments in [["--reports", fleet.reportDirectory], []] {
            let (exit, status) = try await status(fleet, arguments)
            #expect(exit == 0, "\(arguments)")
            #expect(status.rows.count == 300 && status.rows.allSatisfy { $0.state == .inSync && $0.trust == .verified })
        }
    }
}
