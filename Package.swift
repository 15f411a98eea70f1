// swift-tools-version: 6.1
import PackageDescription

// Berth builds and runs on Linux only (systemd, /proc, Glibc, posix_spawn): no Apple platform
// is declared because none is supported. docs/design.md draws the architecture.
//
// Layout (dependencies point inward, to BerthCore):
//   BerthCore            pure: fleet.yaml model, validation, rendering, planning, the report, errors
//   BerthPKI             keys, CSRs, certificates, SAN and renewal policy, report signatures, join tokens
//   BerthHost            effects: files, child processes, git, systemd, the Engine API, the lock
//   BerthAgent           the agent: one pass in stages, last-known-good, quarantine, publishing, the run loop
//   BerthControl         the controller: reading and verifying reports, fleet status, signing, client edits
//   BerthCommandSupport  what both command trees share: the one error-to-exit-code mapping, output
//   BerthAgentCommands   the `berth-agent` command tree
//   BerthctlCommands     the `berthctl` command tree
let package = Package(
    name: "Berth",
    products: [
        .executable(name: "berth-agent", targets: ["berth-agent"]),
        .executable(name: "berthctl", targets: ["berthctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
    ],
    targets: [
        .target(name: "BerthCore", dependencies: [
            .product(name: "Yams", package: "Yams"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "BerthPKI", dependencies: [
            "BerthCore",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .target(name: "BerthHost", dependencies: [
            "BerthCore", "BerthPKI",
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "SystemPackage", package: "swift-system"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BerthAgent", dependencies: [
            "BerthCore", "BerthPKI", "BerthHost",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BerthControl", dependencies: ["BerthCore", "BerthPKI", "BerthHost"]),
        .target(name: "BerthCommandSupport", dependencies: [
            "BerthCore", "BerthHost",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "BerthAgentCommands", dependencies: [
            "BerthCore", "BerthPKI", "BerthHost", "BerthAgent", "BerthCommandSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BerthctlCommands", dependencies: [
            "BerthCore", "BerthPKI", "BerthHost", "BerthControl", "BerthCommandSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "berth-agent", dependencies: ["BerthAgentCommands"]),
        .executableTarget(name: "berthctl", dependencies: ["BerthctlCommands"]),

        // bench/fleet-scale.sh: a synthetic fleet of N signed hosts (never a product, never shipped).
        // The library is shared by the generator and the tests that check status at that scale.
        .target(name: "FleetFixture", dependencies: ["BerthCore", "BerthPKI", "BerthHost"], path: "bench/FleetFixture"),
        .executableTarget(name: "berth-fleet-gen", dependencies: ["FleetFixture"], path: "bench/FleetGenerator"),

        .target(name: "TestSupport", dependencies: ["BerthCore", "BerthPKI", "BerthHost"], path: "Tests/TestSupport"),
        .testTarget(name: "BerthCoreTests", dependencies: ["BerthCore", "TestSupport"], exclude: ["Render/Golden"]),
        .testTarget(name: "BerthPKITests", dependencies: ["BerthPKI", "TestSupport"]),
        .testTarget(name: "BerthHostTests", dependencies: ["BerthHost", "TestSupport"]),
        .testTarget(name: "BerthAgentTests", dependencies: ["BerthAgent", "BerthHost", "BerthPKI", "TestSupport"]),
        .testTarget(name: "BerthControlTests", dependencies: ["BerthControl", "BerthHost", "BerthPKI", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "BerthCore", "BerthPKI", "BerthHost", "BerthControl", "FleetFixture"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "BerthCore", "BerthPKI", "BerthHost", "BerthControl"]),
    ],
    swiftLanguageModes: [.v6]
)
