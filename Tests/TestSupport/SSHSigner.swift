import Foundation

/// An SSH signing key made at run time with the real `ssh-keygen`, and the git settings that
/// sign commits with it, as an operator of a signed fleet has them.
public struct SSHSigner: Sendable {
    public let principal: String
    public let privateKey: String
    public var publicKey: String { privateKey + ".pub" }

    public init(_ principal: String, in dir: TemporaryDirectory) async throws {
        self.principal = principal
        privateKey = dir.file("\(principal)-ssh")
        let made = try await CLI.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", privateKey])
        guard made.status == 0 else { throw CLI.Failure(description: "ssh-keygen: \(made)") }
    }

    /// `principal namespaces="git" ssh-ed25519 AAAA…`: one line of an allowed-signers file.
    public func allowedSignersLine() throws -> String {
        let key = try String(contentsOfFile: publicKey, encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        return "\(principal) namespaces=\"git\" \(key)"
    }

    /// `git -c …` options that make `git commit` sign with this key.
    public var gitOptions: [String] {
        ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(privateKey)", "-c", "commit.gpgsign=true"]
    }

    /// Commits everything in `dir`, signed; returns the commit.
    @discardableResult
    public func commitAll(_ dir: String, _ message: String) async throws -> String {
        try await CLI.git(dir, arguments: gitOptions + ["add", "-A"])
        try await CLI.git(dir, arguments: gitOptions + ["commit", "-q", "--allow-empty", "-m", message])
        return try await CLI.git(dir, "rev-parse", "HEAD")
    }

    /// Writes an allowed-signers file listing `signers`.
    public static func allowedSigners(_ signers: [SSHSigner], to path: String) throws {
        try (signers.map { try $0.allowedSignersLine() }.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
