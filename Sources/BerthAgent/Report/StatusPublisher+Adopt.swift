import BerthCore
import BerthHost
import BerthPKI
import Foundation
import Logging

extension StatusPublisher {
    /// The status ref holds `remote`, a commit this host's chain does not know: fetches it and
    /// merges the reports in it that this host's key signed into the chain, by time
    /// (``StatusChain/merged(_:adopted:limit:)``), so a host whose record of its chain was lost
    /// (`/var/lib/berth` restored or reinstalled with its key kept) loses none of the history it
    /// published. Entries its key did not sign are dropped, with a warning. Returns the new head,
    /// or nil when nothing could be fetched or adopted (the ref is then replaced by the chain as it is).
    func adopt(_ remote: String, ref: String, url: String, chain: inout StatusChain, git: Git, dir: String, logger: Logger?) async -> String? {
        let fetched = "refs/berth/fetched/\(settings.host)"
        let head = await adopt(remote, ref: ref, url: url, fetchingInto: fetched, chain: &chain, git: git, dir: dir, logger: logger)
        _ = try? await git.run(dir, arguments: ["update-ref", "-d", fetched])
        return head
    }

    private func adopt(_ remote: String, ref: String, url: String, fetchingInto fetched: String, chain: inout StatusChain, git: Git, dir: String,
                       logger: Logger?) async -> String? {
        let host = settings.host
        guard let key = try? BoundedFile.readText(settings.hostPath(HostLayout.hostKey), limit: BoundedFile.pemLimit),
              let fetch = try? await git.run(dir, arguments: ["fetch", "--quiet", "--no-tags", url, "+\(ref):\(fetched)"]), fetch.succeeded,
              let log = try? await git.run(dir, arguments: ["log", "--first-parent", "-n", "\(max(1, settings.reportHistory))", "--format=%H %T %ct %s", fetched]),
              log.succeeded
        else {
            logger?.warning("\(ref) at \(url) held \(remote.prefix(12)), which this host did not push, and it could not be read; replacing it with this host's reports")
            return nil
        }
        var adopted: [StatusChain.Entry] = []
        var foreign = 0
        for line in log.output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, let time = Int(parts[2]) else { continue }
            let commit = String(parts[0])
            guard let json = try? await git.run(dir, arguments: ["cat-file", "blob", "\(commit):\(host).json"], outputLimit: BoundedFile.documentLimit),
                  json.succeeded,
                  let sig = try? await git.run(dir, arguments: ["cat-file", "blob", "\(commit):\(host).json.sig"], outputLimit: 64 << 10),
                  sig.succeeded,
                  let signature = try? ReportSignature.parse(sig.output),
                  signature.verify(json.stdout, privateKeyPEM: key) == .valid,
                  let blob = try? await hashObject(json.stdout, git: git, dir: dir),
                  let report = try? ReconcileReport.decode(json.stdout)
            else {
                foreign += 1
                continue
            }
            adopted.append(StatusChain.Entry(commit: commit, tree: String(parts[1]), json: blob, time: time,
                                             subject: parts.count > 3 ? String(parts[3]) : "berth status \(host)", repeated: false,
                                             exactTime: report.time.timeIntervalSince1970))
        }
        if foreign > 0 {
            logger?.warning("\(ref) at \(url) held \(foreign) commit\(foreign == 1 ? "" : "s") this host did not sign (someone else wrote the ref); they are dropped from its chain")
        }
        let known = Set(chain.entries.map(\.json))
        guard adopted.contains(where: { !known.contains($0.json) }) else { return nil }
        let merged = StatusChain.merged(chain.entries, adopted: adopted, limit: settings.reportHistory)
        guard let rebuilt = try? await rebuild(merged, git: git, dir: dir), let head = rebuilt.last?.commit,
              (try? await git.run(dir, arguments: ["update-ref", StatusChain.localRef(host: host), head]))?.succeeded == true
        else { return nil }
        logger?.notice("\(ref) at \(url) held \(adopted.count) report\(adopted.count == 1 ? "" : "s") of this host its own record of the chain had lost; they are kept in it")
        chain.entries = rebuilt
        return head
    }
}
