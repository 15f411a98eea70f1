import ArgumentParser
import BerthAgent
import BerthCore
import BerthHost
import Foundation

/// Flags every agent command shares; each may also come from `/etc/berth/agent.yaml`.
struct AgentOptions: ParsableArguments {
    @Option(help: "This host's name in fleet.yaml (default: the machine's hostname).")
    var host: String?

    @Option(help: ArgumentHelp("Root directory every host path is joined onto (for tests).", valueName: "dir"))
    var root: String = "/"

    @Option(help: ArgumentHelp("Desired state: a checkout of the fleet repository kept current by something else.", valueName: "path"))
    var state: String?

    @Option(help: ArgumentHelp("Desired state: a Git URL the agent fetches itself into /var/lib/berth/fleet.", valueName: "url"))
    var repo: String?

    @Option(help: "The branch to follow with --repo.")
    var branch: String?

    @Flag(help: "Accept a force-pushed branch that rewinds history.")
    var allowRewind = false

    @Option(help: ArgumentHelp("Write DIR/HOST.json after every pass (a shared directory).", valueName: "dir"))
    var reportDir: String?

    @Flag(help: "Push the report to refs/berth/status/HOST of the fleet repository (needs --repo).")
    var reportGit = false

    @Option(help: ArgumentHelp("Seconds between passes (reported, and used by `run`).", valueName: "seconds"))
    var interval: Int?

    @Option(help: ArgumentHelp("Seconds to wait for dockerd to become healthy after a restart.", valueName: "seconds"))
    var verifyTimeout: Int?

    @Option(help: ArgumentHelp("Seconds after which a git fetch or push is killed (default 300).", valueName: "seconds"))
    var gitTimeout: Int?

    @Option(help: ArgumentHelp("Agent configuration file (default ROOT/etc/berth/agent.yaml; missing is fine).", valueName: "path"))
    var config: String?

    /// Defaults, then the configuration file, then flags.
    func settings() throws -> AgentSettings {
        var settings = AgentSettings(host: Self.machineHostname())
        settings.root = root
        let configPath = config ?? HostLayout.path(HostLayout.agentConfig, under: root)
        if let data = FileManager.default.contents(atPath: configPath) {
            try settings.apply(configText: String(decoding: data, as: UTF8.self), file: configPath)
        } else if config != nil {
            throw BerthError(.notFound, "--config \(configPath) does not exist")
        }
        if let host { settings.host = host }
        if let state { settings.statePath = absolute(state); settings.repoURL = nil }
        if let repo { settings.repoURL = repo; settings.statePath = nil }
        if let branch { settings.branch = branch }
        if allowRewind { settings.allowRewind = true }
        if let reportDir { settings.reportDir = absolute(reportDir) }
        if reportGit { settings.reportGit = true }
        if let interval { settings.interval = TimeInterval(interval) }
        if let verifyTimeout { settings.verifyTimeout = TimeInterval(verifyTimeout) }
        if let gitTimeout { settings.gitTimeout = TimeInterval(gitTimeout) }
        return try settings.validated()
    }

    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func machineHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(cString: buffer).split(separator: ".").first.map(String.init) ?? "localhost"
    }

    func environment() -> AgentEnvironment {
        AgentEnvironment(runner: ProcessRunner(), engine: DockerEngineClient(), expectedOwner: geteuid() == 0 ? (0, 0) : nil)
    }
}

/// `--json` for agent commands.
struct JSONFlag: ParsableArguments {
    @Flag(help: "Print the report as JSON.")
    var json = false
}
