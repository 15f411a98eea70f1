import BerthCore
import BerthHost
import Foundation

/// Decides whether a commit of the fleet repository may be applied on this host.
///
/// A commit is applied only when `git verify-commit` finds it signed by a key of the host's
/// allowed-signers file (agent.yaml `allowedSigners:`), and when it descends from the commit
/// applied before (a rewind is either a force push or the replay of an older signed commit,
/// and is refused unless `allowRewind`). Signer rotation: a verified commit may change the
/// repository's `signers` file; the host adopts that list, but only from a commit verified by
/// the list it already trusts, walking the commits that changed it in order.
///
/// A commit once verified is remembered (with the signers it was verified against), so a pass
/// that finds nothing new runs no extra process.
struct CommitTrustPolicy: Sendable {
    var settings: AgentSettings
    var signatures: CommitSignatures

    /// The verdict on one commit.
    struct Decision: Sendable, Equatable {
        var trust: CommitTrust
        var signer: String?
        /// Why an untrusted commit was refused, and what to do.
        var refusal: String?

        static let unsigned = Decision(trust: .unsigned)
        static func refused(_ reason: String) -> Decision { Decision(trust: .untrusted, refusal: reason) }
    }

    /// What the agent remembers between passes (`/var/lib/berth/trust.json`).
    struct State: Sendable, Codable, Equatable {
        struct Verified: Sendable, Codable, Equatable {
            var commit: String
            var signer: String
            var signersHash: String
        }

        /// An allowed-signers list adopted from the repository, and the installed file it
        /// rotated from (a newly installed file starts over from itself).
        struct Adopted: Sendable, Codable, Equatable {
            var commit: String
            var contents: String
            var installedHash: String
        }

        var verified: [Verified] = []
        var adopted: Adopted?
    }

    static let rememberedCommits = 32

    var store: StateFile<State> { StateFile(path: settings.hostPath(HostLayout.trustState)) }
    var adoptedPath: String { settings.hostPath("\(HostLayout.stateDir)/signers") }

    /// Checks `commit`, which would replace `previous` (the commit applied now, if any), in the
    /// repository at `dir`. `requireSigners`: refuse outright when no allowed signers are set.
    func check(_ commit: String, previous: String?, in dir: String, requireSigners: Bool) async -> Decision {
        if let previous, previous != commit, !settings.allowRewind {
            do {
                if try await !signatures.git.isAncestor(previous, of: commit, in: dir) {
                    return .refused("\(commit.prefix(12)) does not contain the applied \(previous.prefix(12)): history was rewritten (a force push, or an older signed commit replayed); refusing. If that was meant, set allowRewind: true (or --allow-rewind) for one pass")
                }
            } catch {
                return .refused("cannot tell whether \(commit.prefix(12)) descends from the applied \(previous.prefix(12)): \(error)")
            }
        }
        guard let installedPath = settings.allowedSignersPath else {
            if requireSigners {
                return .refused("repo: needs allowedSigners: (an OpenSSH allowed-signers file installed on this host) so that only signed commits are applied; set allowUnsigned: true to run without signature checks")
            }
            return .unsigned
        }
        let installed: String
        do {
            guard let text = try BoundedFile.readText(installedPath, limit: BoundedFile.pemLimit, display: installedPath) else {
                return .refused("the allowed-signers file \(installedPath) does not exist; install it (see `berthctl init --signing-key`)")
            }
            installed = text
        } catch {
            return .refused("the allowed-signers file cannot be read: \(error)")
        }
        var state = store.read() ?? State()
        let installedHash = ContentID.sha256Hex(installed.utf8)
        if let adopted = state.adopted, adopted.installedHash != installedHash { state.adopted = nil }
        var signers = state.adopted?.contents ?? installed
        let signersHash = ContentID.sha256Hex(signers.utf8)
        if let known = state.verified.first(where: { $0.commit == commit && $0.signersHash == signersHash }) {
            return Decision(trust: .verified, signer: known.signer)
        }

        do {
            var verdict = try await verify(commit, signers: signers, in: dir)
            if case .refused = verdict, let previous {
                // A rotation the host has not seen: adopt each `signers` change verified by the list before it.
                var rotated = signers
                for change in try await signatures.commits(changing: FleetLayout.signersFile, after: previous, upTo: commit, in: dir) {
                    guard case .verified = try await verify(change, signers: rotated, in: dir),
                          let next = try await signersFile(at: change, in: dir) else { break }
                    rotated = next
                }
                if rotated != signers {
                    let retried = try await verify(commit, signers: rotated, in: dir)
                    if case .verified = retried {
                        signers = rotated
                        verdict = retried
                    }
                }
            }
            guard case .verified(let signer) = verdict else {
                if case .refused(let reason) = verdict { return .refused(reason + "; nothing was applied, the host stays at the last applied revision") }
                return .refused("not verified")
            }
            // A verified commit may carry the next list of signers.
            if let next = try await signersFile(at: commit, in: dir), next != signers { signers = next }
            if signers != installed {
                state.adopted = State.Adopted(commit: commit, contents: signers, installedHash: installedHash)
            } else {
                state.adopted = nil
            }
            state.verified.insert(State.Verified(commit: commit, signer: signer, signersHash: ContentID.sha256Hex(signers.utf8)), at: 0)
            state.verified = Array(state.verified.prefix(Self.rememberedCommits))
            try store.write(state)
            return Decision(trust: .verified, signer: signer)
        } catch {
            return .refused("cannot check the signature of \(commit.prefix(12)): \(error)")
        }
    }

    /// Verifies against the list `signers` (written where git can read it).
    func verify(_ commit: String, signers: String, in dir: String) async throws -> CommitSignatures.Verdict {
        try AtomicFile.write(signers, to: adoptedPath, mode: 0o600, directoryMode: 0o700)
        return try await signatures.verify(commit, in: dir, allowedSigners: adoptedPath)
    }

    func signersFile(at commit: String, in dir: String) async throws -> String? {
        guard let bytes = try await signatures.file(FleetLayout.signersFile, at: commit, in: dir, limit: BoundedFile.pemLimit) else { return nil }
        return try UTF8Text.decode(bytes, file: "\(FleetLayout.signersFile) at \(commit.prefix(12))")
    }
}
