import BerthCore
import BerthHost
import Foundation
import Logging
import Yams

/// How an agent is set up: where desired state comes from, which host it is, who may sign that
/// state, where reports go. Built from `/etc/berth/agent.yaml` with command-line flags winning.
public struct AgentSettings: Sendable, Equatable {
    public var host: String
    /// Every host path is joined onto this (tests use a scratch tree).
    public var root: String = "/"
    /// A checkout kept current by something else.
    public var statePath: String?
    /// A Git remote the agent fetches itself into `/var/lib/berth/fleet`.
    public var repoURL: String?
    public var branch: String = "main"
    public var allowRewind = false
    /// The OpenSSH allowed-signers file whose keys may sign the fleet's commits. It is installed
    /// on the host, never taken from the repository it guards.
    public var allowedSigners: String?
    /// Run `--repo` without signature checks; every report then says `unsigned`.
    public var allowUnsigned = false
    public var reportDir: String?
    public var reportGit = false
    /// Where `reportGit` pushes: a repository of its own, so hosts need only read access to the
    /// fleet repository (default: the fleet repository, `repo`).
    public var reportRepo: String?
    public var interval: Duration = .seconds(300)
    /// How often `run` asks a `repo:` remote whether the branch moved (`git ls-remote`).
    public var pollInterval: Duration = .seconds(30)
    public var verifyTimeout: Duration = .seconds(60)
    /// A git fetch or push still running after this is killed (the source is then stale).
    public var gitTimeout: Duration = .seconds(300)
    public var lockTimeout: Duration = .seconds(120)
    public var dockerSocket: String = HostLayout.dockerSocket
    /// How many past reports are kept: the newest entries of the report directory's
    /// `history/HOST/` and of the commit chain on `refs/berth/status/HOST` (0: the current one only).
    public var reportHistory: Int = AgentSettings.defaultReportHistory
    /// Where the Prometheus textfile goes after every pass (see ``metricsPath``).
    public var metricsFile: MetricsFileSetting = .automatic
    /// The least severe log line written (`debug` shows each pass's detail).
    public var logLevel: Logger.Level = .info

    public init(host: String) { self.host = host }

    /// One key of `agent.yaml`: how its value is read and where it goes.
    struct Key: Sendable {
        var name: String
        var apply: @Sendable (inout AgentSettings, AgentConfigValue) throws -> Void
    }

    static let keys: [Key] = [
        Key(name: "host") { $0.host = try $1.text() },
        Key(name: "state") { $0.statePath = try $1.text() },
        Key(name: "repo") { $0.repoURL = try $1.text() },
        Key(name: "branch") { $0.branch = try $1.text() },
        Key(name: "allowRewind") { $0.allowRewind = try $1.bool() },
        Key(name: "allowedSigners") { $0.allowedSigners = try $1.text() },
        Key(name: "allowUnsigned") { $0.allowUnsigned = try $1.bool() },
        Key(name: "reportDir") { $0.reportDir = try $1.text() },
        Key(name: "reportGit") { $0.reportGit = try $1.bool() },
        Key(name: "reportRepo") { $0.reportRepo = try $1.text() },
        Key(name: "interval") { $0.interval = try $1.duration() },
        Key(name: "pollInterval") { $0.pollInterval = try $1.duration() },
        Key(name: "verifyTimeout") { $0.verifyTimeout = try $1.duration() },
        Key(name: "gitTimeout") { $0.gitTimeout = try $1.duration() },
        Key(name: "dockerSocket") { $0.dockerSocket = try $1.text() },
        Key(name: "reportHistory") { $0.reportHistory = try $1.count(in: AgentSettings.reportHistoryRange) },
        Key(name: "metricsFile") { $0.metricsFile = try $1.metricsFile() },
        Key(name: "logLevel") { $0.logLevel = try $1.logLevel() },
    ]

    /// The keys `agent.yaml` accepts (unknown keys are errors, as in fleet.yaml).
    public static var fileKeys: [String] { keys.map(\.name) }

    /// Applies `agent.yaml` text on top of these settings. Errors name the file, line, column
    /// and key, and what would be valid.
    public mutating func apply(configText: String, file: String) throws {
        if let anchor = YAMLAnchorCheck.first(in: configText) {
            throw BerthError(.invalidInput, "\(file):\(anchor.line):\(anchor.column): YAML anchors and aliases are not accepted; write each value out")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: configText, .basic) } catch {  // see FleetParser: no tag regexes
            throw BerthError(.invalidInput, "\(file): not valid YAML: \(error)")
        }
        guard let node else { return }
        guard let mapping = node.mapping else {
            throw BerthError(.invalidInput, "\(file):1:1: expected a mapping of \(Self.fileKeys.joined(separator: ", "))")
        }
        for (keyNode, valueNode) in mapping {
            let name = keyNode.scalar?.string ?? ""
            guard let key = Self.keys.first(where: { $0.name == name }) else {
                throw BerthError(.invalidInput, "\(file):\(keyNode.mark?.line ?? 1):\(keyNode.mark?.column ?? 1): \(name): unknown key; valid keys are \(Self.fileKeys.joined(separator: ", "))")
            }
            // A bad value is pointed at where the value is written.
            let line = valueNode.mark?.line ?? keyNode.mark?.line ?? 1
            let column = valueNode.mark?.column ?? keyNode.mark?.column ?? 1
            try key.apply(&self, AgentConfigValue(node: valueNode, at: "\(file):\(line):\(column): \(name)"))
        }
    }

    /// Checks that the settings make sense together. The command layer checks the flags it was
    /// given first; this catches what came from agent.yaml.
    public func validated() throws -> AgentSettings {
        guard ResourceName.isValid(host) else {
            throw BerthError(.invalidInput, "host name \"\(host)\" is not valid; set host: in agent.yaml or pass --host NAME with \(ResourceName.rule)")
        }
        guard (statePath == nil) != (repoURL == nil) else {
            throw BerthError(.invalidInput, "say where desired state comes from: state: PATH (a checkout) or repo: URL (fetched by the agent), not both, not neither")
        }
        if reportGit && repoURL == nil && reportRepo == nil {
            throw BerthError(.invalidInput, "reportGit pushes to a repository: set repo: URL, or reportRepo: URL for a separate report repository")
        }
        return self
    }

    public func hostPath(_ path: String) -> String { HostLayout.path(path, under: root) }

    /// The real git, with this agent's timeout.
    public func git(runner: any CommandRunner) -> Git { Git(runner: runner, timeout: gitTimeout) }

    /// Where reports are pushed with `reportGit`.
    public var reportRepositoryURL: String? { reportRepo ?? repoURL }

    /// The allowed-signers file, a path on the machine the agent runs on (like `state` and
    /// `reportDir`, not joined onto `root`).
    public var allowedSignersPath: String? { allowedSigners }
}

/// A value of agent.yaml, with where it was written for error messages.
struct AgentConfigValue {
    var node: Node
    var at: String

    func text() throws -> String {
        guard let scalar = node.scalar else { throw BerthError(.invalidInput, "\(at): expected a single value") }
        return scalar.string
    }

    func bool() throws -> Bool {
        let value = try text()
        guard value == "true" || value == "false" else { throw BerthError(.invalidInput, "\(at): expected true or false") }
        return value == "true"
    }

    func duration() throws -> Duration {
        let value = try text()
        guard let span = TimeSpan.parse(value), span.seconds > 0 else {
            throw BerthError(.invalidInput, "\(at): \"\(value)\" is not a duration; write e.g. 5m or 30s")
        }
        return .seconds(span.seconds)
    }
}
