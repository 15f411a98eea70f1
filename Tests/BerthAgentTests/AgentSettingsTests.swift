import BerthAgent
import BerthCore
import Foundation
import Testing

@Suite("agent.yaml and the settings it makes")
struct AgentSettingsTests {
    let file = "/etc/berth/agent.yaml"

    func applied(_ text: String, to base: AgentSettings = AgentSettings(host: "web-1")) throws -> AgentSettings {
        var settings = base
        try settings.apply(configText: text, file: file)
        return settings
    }

    func refusal(_ text: String) -> BerthError? {
        do {
            _ = try applied(text)
            Issue.record("accepted:\n\(text)")
            return nil
        } catch let error as BerthError {
            return error
        } catch {
            Issue.record("expected a BerthError, got \(error)")
            return nil
        }
    }

    /// One line of agent.yaml per key, and what it must set.
    struct KeyCase: Sendable, CustomTestStringConvertible {
        var line: String
        var check: @Sendable (AgentSettings) -> Bool
        var testDescription: String { line }
    }

    static let cases: [String: KeyCase] = [
        "host": KeyCase(line: "host: db-7") { $0.host == "db-7" },
        "state": KeyCase(line: "state: /srv/fleet") { $0.statePath == "/srv/fleet" },
        "repo": KeyCase(line: "repo: git@git.example.com:ops/fleet.git") { $0.repoURL == "git@git.example.com:ops/fleet.git" },
        "branch": KeyCase(line: "branch: production") { $0.branch == "production" },
        "allowRewind": KeyCase(line: "allowRewind: true") { $0.allowRewind },
        "allowedSigners": KeyCase(line: "allowedSigners: /etc/berth/allowed_signers") { $0.allowedSigners == "/etc/berth/allowed_signers" && $0.allowedSignersPath == "/etc/berth/allowed_signers" },
        "allowUnsigned": KeyCase(line: "allowUnsigned: true") { $0.allowUnsigned },
        "reportDir": KeyCase(line: "reportDir: /srv/reports") { $0.reportDir == "/srv/reports" },
        "reportGit": KeyCase(line: "reportGit: true") { $0.reportGit },
        "reportRepo": KeyCase(line: "reportRepo: https://git.example.com/ops/reports.git") { $0.reportRepo == "https://git.example.com/ops/reports.git" },
        "interval": KeyCase(line: "interval: 7m") { $0.interval == .seconds(420) },
        "pollInterval": KeyCase(line: "pollInterval: 45s") { $0.pollInterval == .seconds(45) },
        "verifyTimeout": KeyCase(line: "verifyTimeout: 90s") { $0.verifyTimeout == .seconds(90) },
        "gitTimeout": KeyCase(line: "gitTimeout: 2h") { $0.gitTimeout == .seconds(7200) },
        "dockerSocket": KeyCase(line: "dockerSocket: /run/docker.sock") { $0.dockerSocket == "/run/docker.sock" },
        "metricsFile": KeyCase(line: "metricsFile: /srv/metrics/berth.prom") { $0.metricsFile == .file("/srv/metrics/berth.prom") },
        "logLevel": KeyCase(line: "logLevel: debug") { $0.logLevel == .debug },
        "reportHistory": KeyCase(line: "reportHistory: 7") { $0.reportHistory == 7 },
    ]

    @Test("the documented keys, and nothing else, are accepted")
    func keySet() {
        #expect(Set(AgentSettings.fileKeys) == Set(Self.cases.keys), "a key without a test case, or a case without a key")
        #expect(AgentSettings.fileKeys.count == Set(AgentSettings.fileKeys).count)
    }

    @Test("each key sets its own setting and no other", arguments: AgentSettings.fileKeys)
    func eachKey(_ key: String) throws {
        let sample = try #require(Self.cases[key], "no test case for key \(key)")
        let base = AgentSettings(host: "web-1")
        let settings = try applied(sample.line + "\n", to: base)
        #expect(sample.check(settings), "\(sample.line) did not take effect")
        #expect(!sample.check(base), "the sample value of \(key) is its default: pick another")
        // Undo the one key by applying the defaults' view of it and nothing else differs.
        var others = settings
        switch key {
        case "host": others.host = base.host
        case "state": others.statePath = base.statePath
        case "repo": others.repoURL = base.repoURL
        case "branch": others.branch = base.branch
        case "allowRewind": others.allowRewind = base.allowRewind
        case "allowedSigners": others.allowedSigners = base.allowedSigners
        case "allowUnsigned": others.allowUnsigned = base.allowUnsigned
        case "reportDir": others.reportDir = base.reportDir
        case "reportGit": others.reportGit = base.reportGit
        case "reportRepo": others.reportRepo = base.reportRepo
        case "interval": others.interval = base.interval
        case "pollInterval": others.pollInterval = base.pollInterval
        case "verifyTimeout": others.verifyTimeout = base.verifyTimeout
        case "gitTimeout": others.gitTimeout = base.gitTimeout
        case "dockerSocket": others.dockerSocket = base.dockerSocket
        case "metricsFile": others.metricsFile = base.metricsFile
        case "logLevel": others.logLevel = base.logLevel
        case "reportHistory": others.reportHistory = base.reportHistory
        default: Issue.record("unhandled key \(key)")
        }
        #expect(others == base)
    }

    @Test("a whole file applies on top of what is there; keys it does not name stay")
    func wholeFile() throws {
        var base = AgentSettings(host: "from-flag")
        base.root = "/scratch"
        base.lockTimeout = .seconds(5)
        let settings = try applied("""
            # written by the installer
            host: web-2
            repo: https://git.example.com/ops/fleet.git
            branch: main
            allowedSigners: /etc/berth/allowed_signers
            reportGit: true
            interval: 10m
            """, to: base)
        #expect(settings.host == "web-2")
        #expect(settings.repoURL == "https://git.example.com/ops/fleet.git")
        #expect(settings.reportGit)
        #expect(settings.reportRepositoryURL == "https://git.example.com/ops/fleet.git")
        #expect(settings.interval == .seconds(600))
        #expect(settings.root == "/scratch")
        #expect(settings.lockTimeout == .seconds(5))
        #expect(settings.hostPath("/etc/docker/berth") == "/scratch/etc/docker/berth")
        #expect(try settings.validated() == settings)
    }

    @Test("an empty file or one of comments only changes nothing", arguments: ["", "# nothing yet\n", "\n\n"])
    func empty(_ text: String) throws {
        #expect(try applied(text) == AgentSettings(host: "web-1"))
    }

    @Test("an unknown key is refused at its line and column, listing the valid keys")
    func unknownKey() throws {
        let error = refusal("host: web-1\n  # comment\nintervall: 5m\n")
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "\(file):3:1: intervall: unknown key; valid keys are \(AgentSettings.fileKeys.joined(separator: ", "))")
        #expect(error?.message.contains("host, state, repo, branch") == true)
    }

    @Test("the command-line-only setting lockTimeout is not an agent.yaml key")
    func lockTimeoutIsNotAKey() {
        #expect(refusal("lockTimeout: 30s\n")?.message.hasPrefix("\(file):1:1: lockTimeout: unknown key") == true)
    }

    @Test("a value that is not true or false is refused where the value is written",
          arguments: ["allowRewind: yes", "allowUnsigned: True", "reportGit: 1", "reportGit: \"\""])
    func badBool(_ line: String) throws {
        let key = String(line.prefix { $0 != ":" })
        let error = refusal("host: web-1\n\(line)\n")
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "\(file):2:\(key.count + 3): \(key): expected true or false")
    }

    @Test("a duration that is not one is refused where the value is written, quoting it",
          arguments: ["interval: 5", "verifyTimeout: 0s", "gitTimeout: -1m", "interval: soon", "interval: 1.5m", "interval: 5 m"])
    func badDuration(_ line: String) throws {
        let key = String(line.prefix { $0 != ":" })
        let value = String(line.dropFirst(key.count + 2))
        let error = refusal("\n\n    \(line)\n")
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "\(file):3:\(key.count + 7): \(key): \"\(value)\" is not a duration; write e.g. 5m or 30s")
    }

    @Test("reportHistory is a whole number from 0 to 10000, refused where the value is written otherwise",
          arguments: ["reportHistory: -1", "reportHistory: 10001", "reportHistory: 5000000", "reportHistory: 1.5", "reportHistory: fifty"])
    func badReportHistory(_ line: String) throws {
        let value = String(line.dropFirst("reportHistory: ".count))
        let error = refusal("host: web-1\n\(line)\n")
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "\(file):2:16: reportHistory: \"\(value)\" is not a whole number from 0 to 10000; write e.g. 50")
        #expect(try applied("reportHistory: 0\n").reportHistory == 0, "0 keeps no history")
        #expect(AgentSettings(host: "web-1").reportHistory == 50)
    }

    @Test("a value that is a list or a mapping is refused", arguments: ["host: [a, b]", "repo:\n  url: x"])
    func notScalar(_ text: String) {
        let error = refusal(text + "\n")
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasSuffix("expected a single value") == true, "\(error?.message ?? "")")
        #expect(error?.message.hasPrefix("\(file):") == true)
    }

    @Test("YAML anchors and aliases are refused at the first one", arguments: [
        ("host: web-1\nrepo: &r https://x\nreportRepo: *r\n", "2:7"),
        ("host: web-1\nstate: /srv\nbranch: *b\n", "3:9"),
    ])
    func anchors(_ text: String, _ at: String) {
        let error = refusal(text)
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "\(file):\(at): YAML anchors and aliases are not accepted; write each value out")
    }

    @Test("a document that is not a mapping is refused at 1:1 naming the keys", arguments: ["- host: web-1\n", "web-1\n", "[a, b]\n"])
    func notAMapping(_ text: String) {
        let error = refusal(text)
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "\(file):1:1: expected a mapping of \(AgentSettings.fileKeys.joined(separator: ", "))")
    }

    @Test("text that is not YAML is refused naming the file")
    func notYAML() {
        let error = refusal("host: [web-1\n")
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix("\(file): not valid YAML") == true, "\(error?.message ?? "")")
    }

    // MARK: validated()

    func invalid(_ settings: AgentSettings) -> BerthError? {
        do {
            _ = try settings.validated()
            Issue.record("accepted \(settings)")
            return nil
        } catch let error as BerthError {
            return error
        } catch {
            Issue.record("expected a BerthError, got \(error)")
            return nil
        }
    }

    func settings(host: String = "web-1", state: String? = "/srv/fleet", repo: String? = nil) -> AgentSettings {
        var settings = AgentSettings(host: host)
        settings.statePath = state
        settings.repoURL = repo
        return settings
    }

    @Test("a host name Berth cannot use is refused, naming it and the rule", arguments: ["", "Web-1", "web_1", "-web", "web..1", "web.", String(repeating: "a", count: 64)])
    func badHost(_ host: String) {
        let error = invalid(settings(host: host))
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix("host name \"\(host)\" is not valid") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(ResourceName.rule) == true)
    }

    @Test("exactly one of state and repo", arguments: [
        (nil, nil) as (String?, String?),
        ("/srv/fleet", "https://git.example.com/fleet.git"),
    ])
    func stateOrRepo(_ state: String?, _ repo: String?) {
        let error = invalid(settings(state: state, repo: repo))
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("not both, not neither") == true)
    }

    @Test("reportGit needs a repository to push to")
    func reportGitNeedsRepo() throws {
        var withState = settings()
        withState.reportGit = true
        let error = invalid(withState)
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix("reportGit pushes to a repository") == true)

        withState.reportRepo = "https://git.example.com/reports.git"
        #expect(try withState.validated().reportRepositoryURL == "https://git.example.com/reports.git")

        var withRepo = settings(state: nil, repo: "https://git.example.com/fleet.git")
        withRepo.reportGit = true
        #expect(try withRepo.validated().reportRepositoryURL == "https://git.example.com/fleet.git")
    }

    @Test("valid settings come back unchanged", arguments: ["web-1", "a", "10.0.0.5", "db-01.prod"])
    func validHosts(_ host: String) throws {
        let s = settings(host: host)
        #expect(try s.validated() == s)
    }
}
