import Foundation
import Testing
import TestSupport

/// The sandboxing of the units in systemd/, rated by the host's own `systemd-analyze security`.
/// That the agent still does its work inside it is shown by the suites that run it from these
/// units (FleetLoopTests, PackageTests).
@Suite("the agent's units are sandboxed: systemd-analyze security rates them OK", .serialized,
       .enabled(if: TestHost.available), .timeLimit(.minutes(5)))
struct HardenedUnitTests {
    /// The highest exposure allowed: systemd's "OK" band ends at 4.0. docs/operations.md explains
    /// each point that is left.
    static let ceiling = 4.0

    @Test("systemd-analyze security scores berth-agent.service and berth-agent-run.service at most 4.0, and verify is clean")
    func exposure() async throws {
        let host = try await TestHost(name: "berth-pkg-security")
        let units = ["berth-agent.service", "berth-agent-run.service", "berth-agent.timer", "berth-agent.path"]
        for unit in units {
            try await host.copy("\(CLI.packageRoot)/systemd/\(unit)", to: "/etc/systemd/system/\(unit)")
        }
        try await host.sh("systemctl daemon-reload")
        let verify = try await host.exec(["systemd-analyze", "verify"] + units.map { "/etc/systemd/system/\($0)" })
        #expect(verify.status == 0 && !verify.stderr.contains("berth-agent"), "\(verify)")

        for unit in ["berth-agent.service", "berth-agent-run.service"] {
            let result = try await host.exec(["systemd-analyze", "security", "--no-pager", unit])
            try #require(result.status == 0, "systemd-analyze security \(unit) failed: \(result)")
            let score = try #require(Self.exposure(in: result.stdout, unit: unit), "no overall exposure in: \(result.stdout)")
            // Printed for the record: the settings still counted against the unit, and the score.
            let open = result.stdout.split(separator: "\n").filter { $0.hasPrefix("✗") }.joined(separator: "\n")
            print("systemd-analyze security \(unit): exposure \(score) (ceiling \(Self.ceiling))\n\(open)")
            #expect(score <= Self.ceiling, "\(unit): exposure \(score) is above \(Self.ceiling):\n\(result.stdout)")
        }
    }

    /// The number in "→ Overall exposure level for UNIT: 2.4 OK 🙂".
    static func exposure(in output: String, unit: String) -> Double? {
        guard let line = output.split(separator: "\n").last(where: { $0.contains("Overall exposure level for \(unit):") }),
              let value = line.split(separator: ":").last?.split(separator: " ").first
        else { return nil }
        return Double(value)
    }
}
