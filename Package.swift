// swift-tools-version: 6.1
import PackageDescription

// Layout (dependencies point inward, to BerthCore):
//   BerthCore            pure: fleet.yaml model, validation, resolution, drop-in rendering, planning
//   BerthPKI             keys, CSRs, certificates, SAN and renewal policy, private-key scan
//   BerthHost            effects: atomic files, commands (systemctl, git), Engine API, lock
//   BerthAgent           one reconcile pass: observe -> plan -> apply -> verify -> report
//   BerthAgentCommands   the `berth-agent` command tree
//   BerthctlCommands     the `berthctl` command tree
let package = Package(
    name: "Berth",
    platforms: [.macOS(.v14)],
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
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
    ],
    targets: [
        .target(name: "BerthCore", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "BerthPKI", dependencies: [
            "BerthCore",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        .target(name: "BerthHost", dependencies: [
            "BerthCore", "BerthPKI",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BerthAgent", dependencies: [
            "BerthCore", "BerthPKI", "BerthHost",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BerthAgentCommands", dependencies: [
            "BerthCore", "BerthPKI", "BerthHost", "BerthAgent",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BerthctlCommands", dependencies: [
            "BerthCore", "BerthPKI", "BerthHost", "BerthAgent",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "berth-agent", dependencies: ["BerthAgentCommands"]),
        .executableTarget(name: "berthctl", dependencies: ["BerthctlCommands"]),

        .target(name: "TestSupport", dependencies: ["BerthCore", "BerthPKI", "BerthHost"], path: "Tests/TestSupport"),
        .testTarget(name: "BerthCoreTests", dependencies: ["BerthCore", "TestSupport"]),
        .testTarget(name: "BerthPKITests", dependencies: ["BerthPKI", "TestSupport"]),
        .testTarget(name: "BerthHostTests", dependencies: ["BerthHost", "TestSupport"]),
        .testTarget(name: "BerthAgentTests", dependencies: ["BerthAgent", "BerthHost", "BerthPKI", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "BerthCore", "BerthPKI", "BerthHost", "BerthAgent"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "BerthCore", "BerthPKI", "BerthHost", "BerthAgent"]),
    ],
    swiftLanguageModes: [.v6]
)
