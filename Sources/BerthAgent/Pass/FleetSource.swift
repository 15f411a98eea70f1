import BerthCore
import BerthHost
import Foundation

/// Where a pass gets desired state: a checkout kept current by something else (`--state`), or the
/// agent's own checkout of `--repo URL --branch B` in `/var/lib/berth/fleet`, fetched with the real git.
struct FleetSource {
    var settings: AgentSettings
    var git: Git

    struct Synced {
        var root: String?
        var revision: String
        var status: SourceStatus
    }

    func sync(fetch: Bool) async -> Synced {
        if let state = settings.statePath {
            let revision = await git.revision(of: state)
            return Synced(root: state, revision: revision, status: SourceStatus(kind: "state", location: state))
        }
        return await syncRepository(fetch: fetch)
    }

    /// Fetches the branch and checks out the fetched commit (never a merge). On failure the last
    /// good checkout stays in place and the source is reported stale; a rewind is refused unless allowed.
    func syncRepository(fetch: Bool) async -> Synced {
        let url = settings.repoURL ?? ""
        let dir = settings.checkoutPath
        var status = SourceStatus(kind: "git", location: "\(url)#\(settings.branch)")
        let current = await git.head(dir)
        func stale(_ error: String) -> Synced {
            status.stale = true
            status.error = error
            return Synced(root: current == nil ? nil : dir, revision: current ?? "none", status: status)
        }
        guard fetch else { return Synced(root: current == nil ? nil : dir, revision: current ?? "none", status: status) }
        do {
            if !FileManager.default.fileExists(atPath: "\(dir)/.git") {
                try AtomicFile.makeDirectories(dir, mode: 0o700)
                try await git.run(dir, "init", "-q")
            }
            let remote = try await git.run(dir, arguments: ["remote", "get-url", "origin"])
            if !remote.succeeded {
                try await git.run(dir, "remote", "add", "origin", url)
            } else if remote.output.trimmingCharacters(in: .whitespacesAndNewlines) != url {
                try await git.run(dir, "remote", "set-url", "origin", url)
            }
            let fetched = try await git.run(dir, arguments: ["fetch", "--quiet", "--no-tags", "origin", "+refs/heads/\(settings.branch):refs/remotes/origin/\(settings.branch)"])
            guard fetched.succeeded else {
                return stale("git fetch \(url) \(settings.branch) failed: \(fetched.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines)); keeping \(current.map { String($0.prefix(12)) } ?? "no checkout")")
            }
            let target = try await git.run(dir, "rev-parse", "refs/remotes/origin/\(settings.branch)")
            if let current, current != target, !settings.allowRewind {
                let ancestor = try await git.run(dir, arguments: ["merge-base", "--is-ancestor", current, target])
                if !ancestor.succeeded {
                    return stale("\(settings.branch) moved to \(target.prefix(12)), which does not contain the applied \(current.prefix(12)) (history was rewritten); refusing. Pass --allow-rewind to accept it")
                }
            }
            if current != target {
                try await git.run(dir, "checkout", "--quiet", "--force", "--detach", target)
            }
            return Synced(root: dir, revision: target, status: status)
        } catch {
            return stale("\(error)")
        }
    }
}
