import ArgumentParser
import BerthHost
import Foundation

/// `--repo DIR`: which fleet repository a command works on.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The fleet repository (default: $BERTH_REPO, else the current directory).", valueName: "dir"))
    var repo: String?

    var repository: FleetRepository {
        let dir = repo ?? ProcessInfo.processInfo.environment["BERTH_REPO"].flatMap({ $0.isEmpty ? nil : $0 }) ?? FileManager.default.currentDirectoryPath
        return FleetRepository(root: Self.absolute(dir))
    }

    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
        return ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
    }
}

/// `--json`: machine-readable output for commands that print data.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}
