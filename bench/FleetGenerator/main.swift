import FleetFixture
import Foundation

// berth-fleet-gen: writes a synthetic fleet for bench/fleet-scale.sh (never shipped).
//
//   berth-fleet-gen --count N --out DIR [--agent-roots] [--all-in-sync]
//   berth-fleet-gen --showcase --count N --out DIR   (every state, for docs/status-page.png)
//
// DIR/fleet (fleet.yaml, ca.pem, certs/, committed, with refs/berth/status/*), DIR/reports,
// DIR/ca-key.pem and, with --agent-roots, DIR/roots/HOST for `berth-agent publish`.

var count: Int?
var out: String?
var agentRoots = false
var allInSync = false
var showcase = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--count": count = arguments.popFirst().flatMap { Int($0) }
    case "--out": out = arguments.popFirst()
    case "--agent-roots": agentRoots = true
    case "--all-in-sync": allInSync = true
    case "--showcase": showcase = true   // every state, for the status page's screenshot (ShowcaseFleet)
    default:
        FileHandle.standardError.write(Data("berth-fleet-gen: unknown argument \(argument)\n".utf8))
        exit(64)
    }
}
guard let count, count > 0, let out else {
    FileHandle.standardError.write(Data("usage: berth-fleet-gen --count N --out DIR [--agent-roots] [--all-in-sync]\n".utf8))
    exit(64)
}
if showcase {
    do {
        print("revision \(try await ShowcaseFleet(count: max(count, 16), directory: out).generate())")
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("berth-fleet-gen: \(error)\n".utf8))
        exit(1)
    }
}
let fleet = SyntheticFleet(count: count, directory: out, allInSync: allInSync, agentRoots: agentRoots)
do {
    let generated = try await fleet.generate()
    for (step, seconds) in generated.steps { print(step.padding(toLength: 45, withPad: " ", startingAt: 0) + String(format: "%7.2f s", seconds)) }
    print("revision \(generated.revision)")
    print("expected " + fleet.expectedStates().sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " "))
} catch {
    FileHandle.standardError.write(Data("berth-fleet-gen: \(error)\n".utf8))
    exit(1)
}
