import BerthCore
import Foundation
import Testing
import TestSupport

@Suite("the planner: drift, actions, restart decisions, refusals")
struct PlannerTests {
    static let started = Date(timeIntervalSince1970: 1_795_000_000)

    func host(policy: RestartPolicy = .always, window: String? = nil) -> ResolvedHost {
        var h = FleetParser.parse(FleetFixtures.validYAML).spec!.resolve(host: "web-1")!
        h.restartPolicy = policy
        h.restartWindow = window.flatMap { try? RestartWindow.parse($0).get() }
        return h
    }

    let dropIn = ManagedFile(path: HostLayout.dropIn, text: "# revision: r2\n[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd://\n", mode: 0o644, role: .dropIn)
    let cert = ManagedFile(path: HostLayout.serverCertificate(id: "00112233aabbccdd"), text: "CERT\n", mode: 0o644, role: .serverCertificate)
    let key = ManagedFile(path: HostLayout.serverKey(id: "00112233aabbccdd"), text: "KEY-MATERIAL\n", mode: 0o600, role: .serverKey)
    let args = ["/usr/sbin/dockerd", "-H", "fd://"]

    func onDisk(_ file: ManagedFile, mode: UInt16? = nil, text: String? = nil) -> ObservedFile {
        .regular(contents: Array((text ?? file.text).utf8), mode: mode ?? file.mode, uid: 0, gid: 0)
    }

    func converged(engine: EngineState? = EngineState(version: "20.10", containersRunning: 0, liveRestore: false)) -> Observation {
        Observation(files: [dropIn.path: onDisk(dropIn), cert.path: onDisk(cert), key.path: onDisk(key)],
                    unit: UnitState(loaded: true, activeState: "active", mainPID: 42, execStart: args),
                    engine: engine)
    }

    func plan(_ observation: Observation, host: ResolvedHost? = nil, now: Date = started, quarantine: QuarantineInfo? = nil) -> HostPlan {
        Planner.plan(PlanInput(host: host ?? self.host(), desired: [cert, key, dropIn], desiredArguments: args,
                               observation: observation, now: now, quarantine: quarantine))
    }

    @Test("a converged host plans nothing")
    func noOp() {
        #expect(plan(converged()).isNoOp)
    }

    @Test("a drop-in differing only in its revision line is in sync")
    func revisionOnly() {
        var obs = converged()
        obs.files[dropIn.path] = onDisk(dropIn, text: dropIn.text.replacingOccurrences(of: "r2", with: "r1"))
        #expect(plan(obs).isNoOp)
    }

    @Test("edited content is rewritten with a diff, reloaded and restarted")
    func contentDrift() throws {
        var obs = converged()
        obs.files[dropIn.path] = onDisk(dropIn, text: dropIn.text.replacingOccurrences(of: "fd://", with: "fd:// -H tcp://0.0.0.0:2375"))
        let p = plan(obs)
        let item = try #require(p.drift.first { $0.kind == .fileContent })
        #expect(item.diff?.contains("-ExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2375") == true)
        #expect(item.diff?.contains("+ExecStart=/usr/sbin/dockerd -H fd://") == true)
        #expect(p.actions.count == 3)
        #expect(p.actions.last == .restartDocker(reason: "\(HostLayout.dropIn) changed"))
        #expect(p.actions.contains(.daemonReload(reason: "50-berth.conf changed")))
    }

    @Test("a wrong mode is fixed with chmod and no restart")
    func modeDrift() {
        var obs = converged()
        obs.files[key.path] = onDisk(key, mode: 0o644)
        let p = plan(obs)
        #expect(p.actions == [.setMode(path: key.path, mode: 0o600, reason: "mode 0644 → 0600")])
        #expect(p.restart == .notNeeded)
    }

    @Test("the key's contents never appear in a diff")
    func keyNeverShown() {
        var obs = converged()
        obs.files[key.path] = onDisk(key, text: "OTHER-KEY\n")
        let p = plan(obs)
        let item = p.drift.first { $0.object == key.path }
        #expect(item?.diff == nil)
        #expect(!"\(p.drift)".contains("KEY-MATERIAL"))
    }

    @Test("a missing file is written and restarts dockerd")
    func missing() {
        var obs = converged()
        obs.files[cert.path] = .missing
        let p = plan(obs)
        #expect(p.drift.first?.kind == .fileMissing)
        if case .restart = p.restart {} else { Issue.record("expected a restart, got \(p.restart)") }
    }

    @Test("refusals block the whole plan", arguments: ["daemon.json", "environment file", "override", "symlink", "no unit"])
    func refusals(_ kind: String) {
        var obs = converged()
        obs.files[cert.path] = .missing
        switch kind {
        case "daemon.json": obs.conflicts = [Conflict(.daemonJSON, file: HostLayout.daemonJSON, "sets \"hosts\"")]
        case "environment file": obs.conflicts = [Conflict(.environmentFile, file: "/etc/default/docker", "DOCKER_OPTS sets -H tcp://0.0.0.0:2375")]
        case "override": obs.overridingDropIns = ["/etc/systemd/system/docker.service.d/99-override.conf"]
        case "symlink": obs.files[dropIn.path] = .symlink(target: "/tmp/evil")
        default: obs.unit.loaded = false
        }
        let p = plan(obs)
        #expect(!p.blockers.isEmpty)
        #expect(p.actions.isEmpty)
        #expect(p.restart == .notNeeded)
    }

    @Test("when-safe restarts with live-restore on or no container running, defers otherwise")
    func whenSafe() {
        var obs = converged(engine: EngineState(version: "20.10", containersRunning: 2, liveRestore: false))
        obs.files[cert.path] = .missing
        if case .deferred = plan(obs, host: host(policy: .whenSafe)).restart {} else { Issue.record("busy host must defer") }
        obs.engine = EngineState(version: "20.10", containersRunning: 2, liveRestore: true)
        if case .restart = plan(obs, host: host(policy: .whenSafe)).restart {} else { Issue.record("live-restore allows it") }
        obs.engine = EngineState(version: "20.10", containersRunning: 0, liveRestore: false)
        if case .restart = plan(obs, host: host(policy: .whenSafe)).restart {} else { Issue.record("idle host allows it") }
    }

    @Test("when-safe restarts a busy host inside its window only")
    func window() {
        var obs = converged(engine: EngineState(version: "20.10", containersRunning: 2, liveRestore: false))
        obs.files[cert.path] = .missing
        let sunday0300 = Date(timeIntervalSince1970: 1_795_316_400)
        let h = host(policy: .whenSafe, window: "Sun 02:00-04:00 UTC")
        if case .restart = plan(obs, host: h, now: sunday0300).restart {} else { Issue.record("inside the window") }
        if case .deferred = plan(obs, host: h, now: sunday0300.addingTimeInterval(7200)).restart {} else { Issue.record("outside the window") }
    }

    @Test("manual never restarts a running dockerd, but starts a stopped one")
    func manual() {
        var obs = converged()
        obs.files[cert.path] = .missing
        if case .deferred = plan(obs, host: host(policy: .manual)).restart {} else { Issue.record("manual must defer") }
        obs.unit.activeState = "failed"
        if case .restart = plan(obs, host: host(policy: .manual)).restart {} else { Issue.record("a stopped dockerd is started") }
    }

    @Test("files written after the running dockerd started keep a restart pending across passes")
    func staleDaemon() {
        var obs = converged()
        obs.daemonPredatesFiles = true
        let p = plan(obs, host: host(policy: .manual))
        #expect(p.drift.contains { $0.kind == .staleDaemon })
        if case .deferred = p.restart {} else { Issue.record("expected pending restart") }
    }

    @Test("quarantined content is held: drift shown, nothing written or restarted; other content is applied")
    func quarantine() {
        var obs = converged()
        obs.files[dropIn.path] = onDisk(dropIn, text: dropIn.text.replacingOccurrences(of: "fd://", with: "fd:// -H tcp://10.255.255.1:2376"))
        let held = QuarantineInfo(revision: "r2", contentHash: ManagedFile.contentHash(of: [cert, key, dropIn]), reason: "bind failed", since: Self.started)
        let p = plan(obs, quarantine: held)
        #expect(p.held?.contains("failed verification and was rolled back (bind failed)") == true)
        #expect(p.actions.isEmpty && p.restart == .notNeeded)
        #expect(p.drift.contains { $0.kind == .fileContent })
        #expect(!p.isNoOp)
        // The revision line alone does not change the content: still held.
        let renamed = QuarantineInfo(revision: "r1", contentHash: ManagedFile.contentHash(of: [cert, key, ManagedFile(path: dropIn.path, text: dropIn.text.replacingOccurrences(of: "r2", with: "r1"), mode: 0o644, role: .dropIn)]), reason: "x", since: Self.started)
        #expect(plan(obs, quarantine: renamed).held != nil)
        let other = QuarantineInfo(revision: "r1", contentHash: "something else", reason: "x", since: Self.started)
        #expect(plan(obs, quarantine: other).held == nil)
        #expect(!plan(obs, quarantine: other).actions.isEmpty)
    }

    @Test("a file holding private-key material is never diffed, on either side")
    func keyMaterialNotDiffed() throws {
        var obs = converged()
        let pem = "-----BEGIN PRIVATE KEY-----\n" + String(repeating: "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg", count: 3) + "\n-----END PRIVATE KEY-----\n"
        obs.files[cert.path] = onDisk(cert, text: pem)
        let p = plan(obs)
        let item = try #require(p.drift.first { $0.object == cert.path })
        #expect(item.diff == nil)
        #expect(item.reason.contains("private-key material"))
    }

    @Test("systemd running other flags than the drop-in is a restart")
    func otherFlags() {
        var obs = converged()
        obs.unit.execStart = ["/usr/sbin/dockerd", "-H", "fd://", "-H", "tcp://0.0.0.0:2375"]
        let p = plan(obs)
        #expect(p.drift.contains { $0.kind == .daemonArguments })
        if case .restart = p.restart {} else { Issue.record("expected restart") }
    }

    @Test("the unified diff has hunks with context")
    func diffFormat() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: "line 5\n", with: "line five\n")
        let diff = UnifiedDiff.make(old: old, new: new, oldName: "a", newName: "b")
        #expect(diff == "--- a\n+++ b\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n")
        #expect(UnifiedDiff.make(old: old, new: old, oldName: "a", newName: "b").isEmpty)
    }
}
