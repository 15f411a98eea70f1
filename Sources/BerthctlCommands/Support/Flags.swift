import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
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

/// Where hosts' reports are: `--reports DIR` (agents with `reportDir:`), else the status refs,
/// fetched from `--report-repo URL` (agents with `reportRepo:`) or the fleet repository's origin.
struct ReportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Shared report directory holding HOST.json and HOST.json.sig (default: status refs).", valueName: "dir"))
    var reports: String?

    @Option(help: ArgumentHelp("The repository hosts push refs/berth/status/HOST to (default: the fleet repository's origin).", valueName: "url"))
    var reportRepo: String?

    func validate() throws {
        if reports != nil && reportRepo != nil { throw ValidationError("give --reports DIR or --report-repo URL, not both") }
    }

    var location: ReportLocation {
        if let reports { return .directory(RepositoryOptions.absolute(reports)) }
        return .refs(remote: reportRepo)
    }

    /// How to say where reports were looked for.
    func describe(repository: String) -> String {
        if let reports { return RepositoryOptions.absolute(reports) }
        return "the refs/berth/status/* refs of \(reportRepo ?? repository)"
    }
}
