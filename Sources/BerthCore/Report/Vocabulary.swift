/// How the agent's probe of one listener went. In JSON: `"probe": "passed" | "failed" | "skipped"`
/// with the reason in `"detail"`.
public enum ProbeResult: Sendable, Equatable {
    case passed
    case failed(String)
    /// Not probed: fd:// needs no probe of its own, TCP waits for a certificate, insecure TCP.
    case skipped(String)

    public var word: String {
        switch self {
        case .passed: return "passed"
        case .failed: return "failed"
        case .skipped: return "skipped"
        }
    }

    public var reason: String? {
        switch self {
        case .passed: return nil
        case .failed(let reason), .skipped(let reason): return reason
        }
    }

    public var isFailure: Bool {
        if case .failed = self { return true }
        return false
    }
}

/// What an action in a report did. The raw values are the report's `kind` strings.
public enum ActionKind: String, Sendable, Codable, CaseIterable {
    case write
    case chmod
    case chown
    case remove
    case daemonReload = "daemon-reload"
    case restart
    case rollback
    case quarantine
    case error
    case generateKey = "generate-key"
    case stageKey = "stage-key"
    case promoteKey = "promote-key"
    case saveLastKnownGood = "save-last-known-good"
    case recloneCheckout = "reclone-checkout"
}

/// Where a pass got its desired state from. The raw values are the report's `source.kind`.
public enum SourceKind: String, Sendable, Codable {
    /// `--state PATH`: a checkout kept current by something else.
    case state
    /// `--repo URL`: the agent's own checkout, fetched each pass.
    case git
    /// No source could be read (another pass held the lock).
    case none
}

/// Whether the commit a pass applies is vouched for by an allowed signer.
public enum CommitTrust: String, Sendable, Codable {
    /// Signed by a key in the host's allowed signers, verified by `git verify-commit`.
    case verified
    /// No allowed signers are configured (`allowUnsigned: true`, or `--state` without them).
    case unsigned
    /// Refused: unsigned, unknown signer, bad signature, history rewritten or local edits.
    case untrusted
}
