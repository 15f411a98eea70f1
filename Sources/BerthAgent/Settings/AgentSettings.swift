import BerthCore
import BerthHost
import Foundation
import Yams

/// How an agent is set up: where desired state comes from, which host it is, where reports go.
/// Built from `/etc/berth/agent.yaml` with command-line flags taking precedence.
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
    public var reportDir: String?
    public var reportGit = false
    public var interval: TimeInterval = 300
    public var verifyTimeout: TimeInterval = 60
    /// A git fetch or push still running after this is killed (the source is then stale).
    public var gitTimeout: TimeInterval = 300
    public var lockTimeout: TimeInterval = 120
    public var dockerSocket: String = HostLayout.dockerSocket

    public init(host: String) { self.host = host }

    /// The keys `agent.yaml` accepts (unknown keys are errors, as in fleet.yaml).
    public static let fileKeys = ["host", "state", "repo", "branch", "allowRewind", "reportDir", "reportGit", "interval", "verifyTimeout", "gitTimeout", "dockerSocket"]

    /// Applies `agent.yaml` text on top of these settings.
    public mutating func apply(configText: String, file: String) throws {
        let node: Node?
        do { node = try Yams.compose(yaml: configText) } catch {
            throw BerthError(.invalidState, "\(file): not valid YAML: \(error)")
        }
        guard let node else { return }
        guard let mapping = node.mapping else {
            throw BerthError(.invalidState, "\(file):1:1: expected a mapping of \(Self.fileKeys.joined(separator: ", "))")
        }
        for (keyNode, value) in mapping {
            let key = keyNode.scalar?.string ?? ""
            let at = "\(file):\(keyNode.mark?.line ?? 1):\(keyNode.mark?.column ?? 1): \(key)"
            // A bad value is pointed at where the value is written.
            let valueAt = "\(file):\(value.mark?.line ?? keyNode.mark?.line ?? 1):\(value.mark?.column ?? keyNode.mark?.column ?? 1): \(key)"
            let text = value.scalar?.string ?? ""
            func bool() throws -> Bool {
                guard text == "true" || text == "false" else { throw BerthError(.invalidState, "\(valueAt): expected true or false") }
                return text == "true"
            }
            func seconds() throws -> TimeInterval {
                guard let span = TimeSpan.parse(text), span.seconds > 0 else {
                    throw BerthError(.invalidState, "\(valueAt): \"\(text)\" is not a duration; write e.g. 5m or 30s")
                }
                return TimeInterval(span.seconds)
            }
            switch key {
            case "host": host = text
            case "state": statePath = text
            case "repo": repoURL = text
            case "branch": branch = text
            case "allowRewind": allowRewind = try bool()
            case "reportDir": reportDir = text
            case "reportGit": reportGit = try bool()
            case "interval": interval = try seconds()
            case "verifyTimeout": verifyTimeout = try seconds()
            case "gitTimeout": gitTimeout = try seconds()
            case "dockerSocket": dockerSocket = text
            default:
                throw BerthError(.invalidState, "\(at): unknown key; valid keys are \(Self.fileKeys.joined(separator: ", "))")
            }
        }
    }

    /// Checks that the settings make sense together.
    public func validated() throws -> AgentSettings {
        guard ResourceName.isValid(host) else {
            throw BerthError(.usage, "host name \"\(host)\" is not valid; pass --host NAME with \(ResourceName.rule)")
        }
        guard (statePath == nil) != (repoURL == nil) else {
            throw BerthError(.usage, "say where desired state comes from: --state PATH (a checkout) or --repo URL (fetched by the agent), not both, not neither")
        }
        if reportGit && repoURL == nil {
            throw BerthError(.usage, "--report-git pushes to the fleet repository, so it needs --repo URL")
        }
        return self
    }

    public func hostPath(_ path: String) -> String { HostLayout.path(path, under: root) }

    /// The real git, with this agent's timeout.
    public func git(runner: any CommandRunner) -> Git { Git(runner: runner, timeout: gitTimeout) }

    /// Where the agent's own checkout lives when it fetches with `--repo`.
    public var checkoutPath: String { hostPath("\(HostLayout.stateDir)/fleet") }
}
