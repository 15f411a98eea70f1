import Foundation

/// Everything the retirement of a host is decided from; pure data, built by the agent.
public struct RetirementInput: Sendable {
    /// The host as fleet.yaml resolves it (`retired: true`): its restart policy and window apply.
    public var host: ResolvedHost
    /// Berth's TLS files found in `/etc/docker/berth` (host paths). The drop-in is always looked at.
    public var tlsFiles: [String]
    /// What the observer saw: the drop-in and `tlsFiles`, the unit, daemon.json, the Engine API.
    public var observation: Observation
    /// dockerd may still run a configuration Berth wrote: the restart ledger records a Berth set,
    /// or the retirement was recorded after dockerd started. False on a host where Berth never
    /// restarted dockerd, or whose dockerd was restarted (and verified) after Berth's files went.
    public var daemonMayRunBerthSet: Bool
    public var now: Date
    public var quarantine: QuarantineInfo?

    public init(host: ResolvedHost, tlsFiles: [String], observation: Observation, daemonMayRunBerthSet: Bool, now: Date,
                quarantine: QuarantineInfo? = nil) {
        self.host = host
        self.tlsFiles = tlsFiles
        self.observation = observation
        self.daemonMayRunBerthSet = daemonMayRunBerthSet
        self.now = now
        self.quarantine = quarantine
    }

    /// The content hash of what a retired host should have from Berth: nothing. A retirement that
    /// failed verification is quarantined under it, like any other desired content.
    public static let contentHash = ManagedFile.contentHash(of: [])
}

/// Plans taking Berth's configuration off a retired host, with the planner's vocabulary, so
/// `plan` shows it, the apply stage runs it and the restart policy, the quarantine and the
/// rollback apply as to any change:
///
/// - remove the drop-in first (its removal is the switch back to the packaged unit, so a crash
///   at any point leaves dockerd a complete configuration), then Berth's TLS files;
/// - `daemon-reload`, and restart dockerd when the policy allows: it must come back on its
///   packaged configuration, verified on the unix socket.
///
/// Only `daemon.json` conflicts block it (a `hosts` key makes the packaged `-H fd://` fail); what
/// the unit's environment files add to the packaged command line is the administrator's, not Berth's.
public enum RetirementPlanner {
    public static func plan(_ input: RetirementInput) -> HostPlan {
        var plan = HostPlan()
        let obs = input.observation
        for conflict in obs.conflicts where conflict.kind == .daemonJSON {
            plan.drift.append(DriftItem(.daemonJSONConflict, conflict.file, conflict.message))
            plan.blockers.append("\(conflict.file): \(conflict.message)")
        }
        if !obs.unit.loaded {
            plan.drift.append(DriftItem(.unitNotLoaded, "docker.service", "systemd has no docker.service loaded"))
            plan.blockers.append("docker.service is not installed or not loaded, so there is no packaged configuration to hand dockerd back to")
        }

        var removesDropIn = false
        for path in [HostLayout.dropIn] + input.tlsFiles {
            switch obs.files[path] ?? .missing {
            case .missing:
                continue
            case .symlink(let target):
                plan.drift.append(DriftItem(.symlink, path, "is a symbolic link to \(target)"))
                plan.blockers.append("\(path) is a symbolic link to \(target); Berth never removes through links. Remove it (rm \(path)) and run again")
            case .notRegular:
                plan.drift.append(DriftItem(.notRegularFile, path, "is not a regular file"))
                plan.blockers.append("\(path) is not a regular file; remove it and run again")
            case .regular:
                let what = path == HostLayout.dropIn ? "Berth's drop-in" : "a TLS file Berth wrote"
                plan.drift.append(DriftItem(.filePresent, path, "\(what), on a host that is retired"))
                plan.actions.append(.remove(path: path, reason: "the host is retired"))
                if path == HostLayout.dropIn { removesDropIn = true }
            }
        }

        plan.reloadSystemd(because: removesDropIn ? "\(HostLayout.dropInName) removed" : nil, unit: obs.unit)
        let restart = restartDecision(input, removesDropIn: removesDropIn, plan: &plan)
        plan.conclude(restart: restart, quarantine: input.quarantine, contentHash: RetirementInput.contentHash) { quarantine in
            "the retirement at \(quarantine.revision.prefix(12)) failed verification and was rolled back (\(quarantine.reason)); "
                + "it is not tried again until the desired state changes or `berth-agent reconcile --retry`"
        }
        return plan
    }

    static func restartDecision(_ input: RetirementInput, removesDropIn: Bool, plan: inout HostPlan) -> RestartDecision {
        let obs = input.observation
        var reasons: [String] = []
        if removesDropIn {
            reasons.append("\(HostLayout.dropInName) removed: dockerd still serves Berth's listeners and TLS")
        } else if input.daemonMayRunBerthSet && obs.unit.isActive {
            plan.drift.append(DriftItem(.staleDaemon, "dockerd", "dockerd started before Berth's files were removed; it still runs Berth's configuration"))
            reasons.append("dockerd has not restarted since Berth's configuration was removed")
        }
        let planInput = PlanInput(host: input.host, desired: [], desiredArguments: [], observation: obs, now: input.now)
        if obs.unit.loaded && !obs.unit.isActive {
            plan.drift.append(DriftItem(.daemonDown, "docker.service", "dockerd is \(obs.unit.activeState)"))
            // Starting a stopped daemon disrupts nothing, so no policy holds it back.
            return .restart(because: (["dockerd is \(obs.unit.activeState)"] + reasons).joined(separator: "; "))
        }
        guard !reasons.isEmpty else { return .notNeeded }
        return Planner.policyDecision(because: reasons.joined(separator: "; "), planInput)
    }
}
