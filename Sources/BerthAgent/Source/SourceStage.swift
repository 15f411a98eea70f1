import BerthCore
import BerthHost
import Foundation

/// The first stage of a pass: the desired state's tree, exactly at a commit the host trusts.
///
/// Two sources. `--state PATH` is a checkout kept current by something else: it is read where it
/// is. `--repo URL` is the agent's own checkout in `/var/lib/berth/fleet`: each pass fetches the
/// branch, checks the new commit's signature (``CommitTrustPolicy``) before checking it out, and
/// makes sure the tree on disk is exactly that commit. A checkout left broken (an interrupted
/// checkout, `index.lock`, local edits, corrupt objects) is cloned again aside and swapped in,
/// so the tree applied is always the commit reported.
struct SourceStage: Sendable {
    var settings: AgentSettings
    var environment: AgentEnvironment

    /// What the pass may apply.
    struct Snapshot: Sendable {
        /// The tree to read; nil when there is none yet.
        var root: String?
        /// The commit (with `+dirty` for an unsigned `--state` checkout with edits).
        var revision: String
        var status: SourceStatus
        /// Set when the commit is not trusted: why. Nothing may be applied.
        var refusal: String?
        var actions: [ActionRecord] = []
    }

    var git: Git { settings.git(runner: environment.runner) }
    var policy: CommitTrustPolicy { CommitTrustPolicy(settings: settings, signatures: CommitSignatures(git: git)) }

    /// `fetch` is false for `plan`, which changes nothing (not even the agent's checkout).
    /// `applied` is the revision the host runs now (from the last report).
    func sync(fetch: Bool, applied: String?) async -> Snapshot {
        if let state = settings.statePath { return await syncState(state, applied: applied) }
        return await syncRepository(fetch: fetch)
    }

    // MARK: --state

    func syncState(_ dir: String, applied: String?) async -> Snapshot {
        var status = SourceStatus(kind: .state, location: dir)
        guard let head = await git.head(dir) else {
            // Not a Git checkout: nothing could have signed it.
            if settings.allowedSigners != nil {
                status.trust = .untrusted
                return Snapshot(root: nil, revision: "unversioned", status: status,
                                refusal: "\(dir) is not a Git checkout, so no signature vouches for it; point --state at a checkout of the fleet repository")
            }
            status.trust = .unsigned
            return Snapshot(root: dir, revision: "unversioned", status: status)
        }
        let signed = settings.allowedSigners != nil
        let dirty: Bool
        do {
            dirty = try await git.hasLocalChanges(dir, untracked: signed)
        } catch {
            status.stale = true
            status.error = "\(error)"
            return Snapshot(root: nil, revision: head, status: status, refusal: signed ? "cannot read the checkout \(dir): \(error)" : nil)
        }
        if signed && dirty {
            status.trust = .untrusted
            return Snapshot(root: dir, revision: head + "+dirty", status: status,
                            refusal: "\(dir) has local edits or files that are not in commit \(head.prefix(12)); only signed commits are applied. Commit and sign them, or discard them")
        }
        let previous = applied.flatMap { $0.count == 40 && $0 != head ? $0 : nil }
        let decision = signed ? await policy.check(head, previous: previous, in: dir, requireSigners: false) : .unsigned
        status.trust = decision.trust
        status.signer = decision.signer
        return Snapshot(root: dir, revision: dirty ? "\(head)+dirty" : head, status: status, refusal: decision.refusal)
    }

    // MARK: --repo

    func syncRepository(fetch: Bool) async -> Snapshot {
        let url = settings.repoURL ?? ""
        let dir = settings.hostPath(HostLayout.checkout)
        var status = SourceStatus(kind: .git, location: "\(url)#\(settings.branch)")
        let current = await git.head(dir)
        guard fetch else {
            // plan: the checkout as it is, judged but not repaired.
            guard let current else {
                return Snapshot(root: nil, revision: "none", status: status, refusal: nil)
            }
            let decision = await policy.check(current, previous: nil, in: dir, requireSigners: !settings.allowUnsigned)
            status.trust = decision.trust
            status.signer = decision.signer
            return Snapshot(root: dir, revision: current, status: status, refusal: decision.refusal)
        }

        var actions: [ActionRecord] = []
        var checkout = dir
        var previous = current
        for attempt in 0..<2 {
            do {
                let exists = FileManager.default.fileExists(atPath: dir)
                let sound = await isSound(checkout)
                if attempt == 1 || !sound {
                    // Start over from a fresh clone, made aside and swapped in only when complete.
                    checkout = try await clone(url, replacing: dir)
                    if exists {
                        let reason = attempt == 1 ? "the checkout failed its integrity checks" : "the checkout was not sound (an interrupted checkout, index.lock, another origin)"
                        actions.append(ActionRecord(.recloneCheckout, HostLayout.checkout, reason: reason + "; cloned again aside and swapped in"))
                    }
                }
                let fetched = try await git.run(checkout, arguments: ["fetch", "--quiet", "--no-tags", "origin", "+refs/heads/\(settings.branch):refs/remotes/origin/\(settings.branch)"])
                guard fetched.succeeded else {
                    status.stale = true
                    status.error = "git fetch \(url) \(settings.branch) failed: \(fetched.errorSummary); keeping \(previous.map { String($0.prefix(12)) } ?? "no checkout")"
                    return Snapshot(root: previous == nil ? nil : checkout, revision: previous ?? "none", status: status, actions: actions)
                }
                let target = try await git.run(checkout, "rev-parse", "refs/remotes/origin/\(settings.branch)")
                let decision = await policy.check(target, previous: previous, in: checkout, requireSigners: !settings.allowUnsigned)
                status.trust = decision.trust
                status.signer = decision.signer
                if let refusal = decision.refusal {
                    // The checkout stays at the last trusted commit; nothing new is applied.
                    return Snapshot(root: previous == nil ? nil : checkout, revision: target, status: status, refusal: refusal, actions: actions)
                }
                try await materialize(target, in: checkout)
                return Snapshot(root: checkout, revision: target, status: status, actions: actions)
            } catch {
                if attempt == 1 {
                    status.stale = true
                    status.error = "\(error)"
                    return Snapshot(root: nil, revision: previous ?? "none", status: status, actions: actions)
                }
                environment.logger.warning("the fleet checkout failed a check (\(error)); cloning it again")
                previous = current
            }
        }
        return Snapshot(root: nil, revision: "none", status: status, actions: actions)
    }

    /// A checkout the agent may update in place: a repository, its origin the configured URL,
    /// no `index.lock` left by an interrupted git.
    func isSound(_ dir: String) async -> Bool {
        guard FileManager.default.fileExists(atPath: "\(dir)/.git/HEAD"),
              !FileManager.default.fileExists(atPath: "\(dir)/.git/index.lock"),
              let origin = try? await git.run(dir, arguments: ["remote", "get-url", "origin"]), origin.succeeded,
              origin.output.trimmingCharacters(in: .whitespacesAndNewlines) == settings.repoURL
        else { return false }
        return true
    }

    /// Checks out `commit` (never a merge) and proves the tree on disk is exactly it: HEAD is the
    /// commit and nothing differs from it, untracked and ignored files included.
    func materialize(_ commit: String, in dir: String) async throws {
        if await git.head(dir) != commit {
            try await git.run(dir, "checkout", "--quiet", "--force", "--detach", commit)
        }
        guard await git.head(dir) == commit else {
            throw BerthError(.io, "the checkout in \(dir) is not at \(commit.prefix(12)) after git checkout")
        }
        if try await git.hasLocalChanges(dir, untracked: true) {
            throw BerthError(.io, "the checkout in \(dir) differs from \(commit.prefix(12)) (local edits or stray files)")
        }
    }

    /// Clones `url` next to `dir`, then swaps it in (`rename`), so there is never a half-made
    /// checkout where the agent reads. Returns `dir`.
    func clone(_ url: String, replacing dir: String) async throws -> String {
        let parent = (dir as NSString).deletingLastPathComponent
        try AtomicFile.makeDirectories(parent, mode: 0o700)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let fresh = "\(dir).new-\(suffix)", old = "\(dir).old-\(suffix)"
        defer { try? FileManager.default.removeItem(atPath: fresh) }
        let cloned = try await git.run(parent, arguments: ["clone", "--quiet", "--no-tags", "--single-branch", "--branch", settings.branch, url, fresh])
        guard cloned.succeeded else {
            throw BerthError(.commandFailed, "git clone \(url) failed: \(cloned.errorSummary)")
        }
        if FileManager.default.fileExists(atPath: dir) {
            guard rename(dir, old) == 0 else { throw AtomicFile.posixError("move the broken checkout \(dir) aside") }
        }
        guard rename(fresh, dir) == 0 else { throw AtomicFile.posixError("move the new checkout into \(dir)") }
        try? FileManager.default.removeItem(atPath: old)
        return dir
    }
}
