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

    @Flag(help: "Accept a force-pushed branch that rewinds history (for one pass).")
    var allowRewind = false

    @Option(help: ArgumentHelp("OpenSSH allowed-signers file: only commits signed by these keys are applied.", valueName: "file"))
    var allowedSigners: String?

    @Flag(help: "Apply --repo commits without signature checks (reports then say unsigned).")
    var allowUnsigned = false

    @Option(help: ArgumentHelp("Write DIR/HOST.json and DIR/HOST.json.sig after every pass (a shared directory).", valueName: "dir"))
    var reportDir: String?

    @Flag(help: "Push the report to refs/berth/status/HOST (of --report-repo, else of --repo).")
    var reportGit = false

    @Option(help: ArgumentHelp("The repository reports are pushed to, when it is not the fleet repository.", valueName: "url"))
    var reportRepo: String?

    @Option(help: ArgumentHelp("Seconds between passes (reported, and used by `run`).", valueName: "seconds"))
    var interval: Int?

    @Option(help: ArgumentHelp("Past reports to keep in DIR/history/HOST and on the status ref's commit chain (default 50; 0 keeps none).", valueName: "count"))
    var reportHistory: Int?

    @Option(help: ArgumentHelp("Seconds between `git ls-remote` checks of a --repo remote in `run` (default 30).", valueName: "seconds"))
    var pollInterval: Int?

    @Option(help: ArgumentHelp("Seconds dockerd has to restart and become healthy before the agent rolls back.", valueName: "seconds"))
    var verifyTimeout: Int?

    @Option(help: ArgumentHelp("Seconds after which a git fetch or push is killed (default 300).", valueName: "seconds"))
    var gitTimeout: Int?

    @Option(help: ArgumentHelp("Prometheus textfile written after every pass, or none (default: berth.prom in node_exporter's /var/lib/prometheus/node-exporter when it exists).", valueName: "file"))
    var metricsFile: String?

    @Option(help: ArgumentHelp("The least severe log line written: debug, info, notice, warning or error (default info).", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("Agent configuration file (default ROOT/etc/berth/agent.yaml; missing is fine).", valueName: "path"))
    var config: String?

    func validate() throws {
        if state != nil && repo != nil { throw ValidationError("give --state PATH or --repo URL, not both") }
        if allowUnsigned && allowedSigners != nil { throw ValidationError("--allow-unsigned turns off what --allowed-signers asks for; give one of them") }
        for (name, value) in [("--interval", interval), ("--poll-interval", pollInterval), ("--verify-timeout", verifyTimeout), ("--git-timeout", gitTimeout)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1 second") }
        }
        if let reportHistory, !AgentSettings.reportHistoryRange.contains(reportHistory) {
            throw ValidationError("--report-history must be from \(AgentSettings.reportHistoryRange.lowerBound) to \(AgentSettings.reportHistoryRange.upperBound)")
        }
        if let host, !ResourceName.isValid(host) {
            throw ValidationError("--host \"\(host)\" is not a valid host name; use \(ResourceName.rule)")
        }
        try validateObservability()
    }

    /// Defaults, then the configuration file, then flags.
    func settings() throws -> AgentSettings {
        var settings = AgentSettings(host: Self.machineHostname())
        settings.root = root
        let configPath = config ?? HostLayout.path(HostLayout.agentConfig, under: root)
        if let text = try BoundedFile.readText(configPath, limit: BoundedFile.pemLimit) {
            try settings.apply(configText: text, file: configPath)
        } else if config != nil {
            throw BerthError(.notFound, "--config \(configPath) does not exist")
        }
        if let host { settings.host = host }
        if let state { settings.statePath = absolute(state); settings.repoURL = nil }
        if let repo { settings.repoURL = repo; settings.statePath = nil }
        if let branch { settings.branch = branch }
        if allowRewind { settings.allowRewind = true }
        if let allowedSigners { settings.allowedSigners = absolute(allowedSigners) }
        if allowUnsigned { settings.allowUnsigned = true }
        if let reportDir { settings.reportDir = absolute(reportDir) }
        if reportGit { settings.reportGit = true }
        if let reportRepo { settings.reportRepo = reportRepo }
        if let interval { settings.interval = .seconds(interval) }
        if let verifyTimeout { settings.verifyTimeout = .seconds(verifyTimeout) }
        if let pollInterval { settings.pollInterval = .seconds(pollInterval) }
        if let gitTimeout { settings.gitTimeout = .seconds(gitTimeout) }
        if let reportHistory { settings.reportHistory = reportHistory }
        applyObservability(to: &settings)
        return try settings.validated()
    }

    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func machineHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.split(separator: ".").first.map(String.init) ?? "localhost"
    }

    /// The real effects; the log at `settings`' level, naming its host (without settings: info).
    func environment(_ settings: AgentSettings? = nil) -> AgentEnvironment {
        AgentEnvironment(runner: SubprocessRunner(), engine: DockerEngineClient(), logger: Self.logger(settings),
                         expectedOwner: geteuid() == 0 ? (0, 0) : nil)
    }
}

/// `--json` for agent commands.
struct JSONFlag: ParsableArguments {
    @Flag(help: "Print the report as JSON.")
    var json = false
}

/// Prints a pass's report and publishes it where agent.yaml says.
enum PassOutput {
    static func publish(_ outcome: Pass.Outcome, settings: AgentSettings, environment: AgentEnvironment) async {
        guard settings.reportGit, let published = outcome.published else { return }
        let summary = "\(outcome.report.state.rawValue) at \(outcome.report.desiredRevision ?? "-")"
        await StatusPublisher(settings: settings, runner: environment.runner).publishLogged(published, summary: summary, logger: environment.logger)
    }
}
