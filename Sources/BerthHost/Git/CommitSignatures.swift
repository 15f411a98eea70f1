import BerthCore
import Foundation

/// Commit signatures checked by git itself: SSH signatures (`gpg.format=ssh`) against an
/// OpenSSH allowed-signers file (`gpg.ssh.allowedSignersFile`), with `git verify-commit`,
/// which runs `ssh-keygen -Y verify`. Berth does no signature crypto of its own here.
public struct CommitSignatures: Sendable {
    public var git: Git

    public init(git: Git) { self.git = git }

    /// How one commit's signature checked out.
    public enum Verdict: Sendable, Equatable {
        /// Signed by an allowed signer: its principal and key, as `ssh-keygen` names them.
        case verified(signer: String)
        case refused(String)
    }

    /// Verifies `commit` in the repository at `dir` against the allowed signers in `allowedSigners`.
    public func verify(_ commit: String, in dir: String, allowedSigners: String) async throws -> Verdict {
        let result = try await git.run(dir, arguments: [
            "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=\(allowedSigners)", "verify-commit", "--raw", commit,
        ])
        let said = result.errorOutput + result.output
        let short = commit.prefix(12)
        if result.succeeded, let signer = Self.signer(in: said) { return .verified(signer: signer) }
        if said.contains("No principal matched") {
            let key = Self.key(in: said).map { " (\($0))" } ?? ""
            return .refused("commit \(short) is signed by a key that is not in the allowed signers\(key)")
        }
        if said.contains("incorrect signature") || said.contains("Could not verify signature") {
            return .refused("commit \(short) has a signature that does not verify: the commit was changed after it was signed")
        }
        if said.contains("Unable to open allowed keys file") {
            return .refused("the allowed-signers file \(allowedSigners) cannot be read")
        }
        if said.contains("ssh-keygen") && (said.contains("No such file") || said.contains("not found")) {
            return .refused("git cannot run ssh-keygen to check signatures; install openssh-client")
        }
        if said.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && !result.succeeded {
            return .refused("commit \(short) is not signed")
        }
        return .refused("git verify-commit \(short) failed: \(result.errorSummary)")
    }

    /// `Good "git" signature for PRINCIPAL with TYPE key FINGERPRINT` → `PRINCIPAL (TYPE FINGERPRINT)`.
    static func signer(in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("Good \"git\" signature for ") {
            let words = line.split(separator: " ")
            guard let forIndex = words.firstIndex(of: "for"), forIndex + 1 < words.count else { continue }
            let principal = words[forIndex + 1]
            return Self.key(in: String(line)).map { "\(principal) (\($0))" } ?? String(principal)
        }
        return nil
    }

    /// `... with ED25519 key SHA256:...` → `ED25519 SHA256:...`.
    static func key(in text: String) -> String? {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if let keyIndex = words.firstIndex(of: "key"), keyIndex >= 1, keyIndex + 1 < words.count, words[keyIndex - 1] != "allowed" {
                return "\(words[keyIndex - 1]) \(words[keyIndex + 1])"
            }
        }
        return nil
    }

    /// The blob at `path` in `commit`, or nil when the commit has no such file.
    public func file(_ path: String, at commit: String, in dir: String, limit: Int) async throws -> [UInt8]? {
        let result = try await git.run(dir, arguments: ["cat-file", "blob", "\(commit):\(path)"])
        guard result.succeeded else { return nil }
        guard result.stdout.count <= limit else {
            throw BerthError(.invalidInput, "\(path) at \(commit.prefix(12)) is \(ByteCount.format(result.stdout.count)); it may be at most \(ByteCount.format(limit))")
        }
        return result.stdout
    }

    /// The first-parent commits after `from` up to `to` that change `path`, oldest first.
    public func commits(changing path: String, after from: String, upTo to: String, in dir: String) async throws -> [String] {
        let out = try await git.run(dir, "log", "--format=%H", "--reverse", "--first-parent", "\(from)..\(to)", "--", path)
        return out.split(separator: "\n").map(String.init)
    }
}
