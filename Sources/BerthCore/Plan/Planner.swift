import Foundation

/// Everything the planner decides from. Built by the agent from its observation; pure data.
public struct PlanInput: Sendable {
    public var host: ResolvedHost
    /// The files the host should have (``HostRenderer/render(_:)``), drop-in last.
    public var desired: [ManagedFile]
    /// dockerd's argv as the desired drop-in sets it.
    public var desiredArguments: [String]
    public var observation: Observation
    public var now: Date
    /// The owner managed files must have (root when the agent runs as root).
    public var expectedOwner: (uid: UInt32, gid: UInt32)?
    /// Desired content that failed verification before; held back while it is the same content.
    public var quarantine: QuarantineInfo?

    public init(host: ResolvedHost, desired: [ManagedFile], desiredArguments: [String], observation: Observation, now: Date,
                expectedOwner: (uid: UInt32, gid: UInt32)? = (0, 0), quarantine: QuarantineInfo? = nil) {
        self.host = host
        self.desired = desired
        self.desiredArguments = desiredArguments
        self.observation = observation
        self.now = now
        self.expectedOwner = expectedOwner
        self.quarantine = quarantine
    }
}

/// Decides what a pass must do: pure, so `berth-agent plan` and `reconcile` share it and tests
/// can drive it with made-up observations.
public enum Planner {
    public static func plan(_ input: PlanInput) -> HostPlan {
        var plan = HostPlan()
        let obs = input.observation

        for conflict in obs.conflicts {
            let kind: DriftItem.Kind = conflict.kind == .daemonJSON ? .daemonJSONConflict : .environmentConflict
            plan.drift.append(DriftItem(kind, conflict.file, conflict.message))
            plan.blockers.append("\(conflict.file): \(conflict.message)")
        }
        for path in obs.overridingDropIns {
            let reason = "\(path) sets ExecStart= after \(HostLayout.dropInName), so dockerd ignores Berth's listeners and TLS; remove it or rename it to sort before \(HostLayout.dropInName)"
            plan.drift.append(DriftItem(.overridingDropIn, path, reason))
            plan.blockers.append(reason)
        }
        if !obs.unit.loaded {
            plan.drift.append(DriftItem(.unitNotLoaded, "docker.service", "systemd has no docker.service loaded"))
            plan.blockers.append("docker.service is not installed or not loaded; install Docker first")
        }

        var changedRestartFiles: [String] = []
        var unitFileChanged = false
        for file in input.desired {
            switch obs.files[file.path] ?? .missing {
            case .missing:
                let diff = file.isSecret ? nil : UnifiedDiff.make(old: "", new: file.text, oldName: "/dev/null", newName: file.path)
                plan.drift.append(DriftItem(.fileMissing, file.path, "missing", diff: diff))
                plan.actions.append(.write(file, reason: "missing"))
                if file.restartsDocker { changedRestartFiles.append(file.path) }
                if file.isUnitFile { unitFileChanged = true }
            case .symlink(let target):
                plan.drift.append(DriftItem(.symlink, file.path, "is a symbolic link to \(target)"))
                plan.blockers.append("\(file.path) is a symbolic link to \(target); Berth never writes through links. Remove it (rm \(file.path)) and run again")
            case .notRegular:
                plan.drift.append(DriftItem(.notRegularFile, file.path, "is not a regular file"))
                plan.blockers.append("\(file.path) is not a regular file; remove it and run again")
            case .regular(let contents, let mode, let uid, let gid):
                let current = String(decoding: contents, as: UTF8.self)
                let same = file.isUnitFile
                    ? DropIn.comparableContents(current) == DropIn.comparableContents(file.text)
                    : contents == file.contents
                if !same {
                    // Key material never reaches a diff, on either side (a key pasted into clients.pem).
                    let secret = file.isSecret || KeyMaterialSniffer.containsKeyMaterial(contents)
                    let diff = secret ? nil : UnifiedDiff.make(old: current, new: file.text, oldName: "\(file.path) (on host)", newName: "\(file.path) (desired)")
                    let reason = secret ? "content differs (not shown: one side holds private-key material)" : "content differs from the desired state"
                    plan.drift.append(DriftItem(.fileContent, file.path, reason, diff: diff))
                    plan.actions.append(.write(file, reason: "content differs"))
                    if file.restartsDocker { changedRestartFiles.append(file.path) }
                    if file.isUnitFile { unitFileChanged = true }
                    continue
                }
                if mode != file.mode {
                    let reason = "mode 0\(String(mode, radix: 8)) → 0\(String(file.mode, radix: 8))"
                    plan.drift.append(DriftItem(.fileMode, file.path, reason))
                    plan.actions.append(.setMode(path: file.path, mode: file.mode, reason: reason))
                }
                if let owner = input.expectedOwner, uid != owner.uid || gid != owner.gid {
                    let reason = "owner \(uid):\(gid) → \(owner.uid):\(owner.gid)"
                    plan.drift.append(DriftItem(.fileOwner, file.path, reason))
                    plan.actions.append(.setOwner(path: file.path, reason: reason))
                }
            }
        }

        plan.reloadSystemd(because: unitFileChanged ? "\(HostLayout.dropInName) changed" : nil, unit: obs.unit)
        let restart = restartDecision(input, changedRestartFiles: changedRestartFiles, plan: &plan)
        plan.conclude(restart: restart, quarantine: input.quarantine, contentHash: ManagedFile.contentHash(of: input.desired)) { quarantine in
            "the desired content of \(quarantine.revision.prefix(12)) failed verification and was rolled back (\(quarantine.reason)); "
                + "it is not applied again until the desired state changes or `berth-agent reconcile --retry`"
        }
        return plan
    }

    static func restartDecision(_ input: PlanInput, changedRestartFiles: [String], plan: inout HostPlan) -> RestartDecision {
        let obs = input.observation
        var reasons: [String] = []
        if !changedRestartFiles.isEmpty {
            reasons.append("\(changedRestartFiles.joined(separator: ", ")) changed")
        }
        // systemctl shows argv joined by spaces, so compare the joined forms.
        let loadedCommand = obs.unit.execStart.joined(separator: " ")
        if obs.unit.loaded && obs.unit.isActive && !loadedCommand.isEmpty && loadedCommand != input.desiredArguments.joined(separator: " ")
            && changedRestartFiles.isEmpty && !obs.unit.needDaemonReload {
            plan.drift.append(DriftItem(.daemonArguments, "docker.service", "systemd's ExecStart is not the drop-in's: \(loadedCommand)"))
            reasons.append("dockerd runs with other flags than the drop-in sets")
        }
        if changedRestartFiles.isEmpty && obs.unit.isActive && obs.daemonPredatesFiles {
            plan.drift.append(DriftItem(.staleDaemon, "dockerd", "the managed files changed after dockerd started; it still runs the old configuration"))
            reasons.append("the managed files changed since dockerd started")
        }
        if obs.unit.loaded && !obs.unit.isActive {
            plan.drift.append(DriftItem(.daemonDown, "docker.service", "dockerd is \(obs.unit.activeState)"))
            // Starting a stopped daemon disrupts nothing, so no policy holds it back.
            return .restart(because: (["dockerd is \(obs.unit.activeState)"] + reasons).joined(separator: "; "))
        }
        guard !reasons.isEmpty else { return .notNeeded }
        return policyDecision(because: reasons.joined(separator: "; "), input)
    }

    /// Whether the host's restart policy lets dockerd restart now for `because`: `always`;
    /// `when-safe` with live-restore on, no container running, or inside the window; `manual` never.
    static func policyDecision(because: String, _ input: PlanInput) -> RestartDecision {
        let obs = input.observation
        let host = input.host
        switch host.restartPolicy {
        case .always:
            return .restart(because: because)
        case .manual:
            return .deferred(because: because, policy: "restart.policy is manual: restart docker by hand (systemctl restart docker)")
        case .whenSafe:
            if let engine = obs.engine {
                if engine.liveRestore { return .restart(because: because + " (live-restore is on: containers keep running)") }
                if engine.containersRunning == 0 { return .restart(because: because + " (no container is running)") }
            }
            if let window = host.restartWindow, window.contains(input.now) {
                return .restart(because: because + " (inside the window \(window))")
            }
            let running = obs.engine.map { "\($0.containersRunning) container(s) running" } ?? "the Engine API did not answer"
            let window = host.restartWindow.map { "; next chance: the window \($0)" } ?? ""
            return .deferred(because: because, policy: "restart.policy when-safe: \(running) and live-restore is off\(window)")
        }
    }
}
