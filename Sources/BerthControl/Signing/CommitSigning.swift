import BerthCore
import BerthHost
import Foundation

/// Sets up a fleet repository so that every commit is SSH-signed, and writes the list of keys
/// hosts may trust (`signers`, OpenSSH's allowed-signers format).
///
/// The list in the repository is how signers rotate: a signed commit may change it, and hosts
/// adopt the change only from a commit their current list verifies. Hosts start from a copy
/// installed out of band (`/etc/berth/allowed_signers`), never from the repository itself.
public struct CommitSigning: Sendable {
    public var repository: String
    public var git: Git

    public init(repository: String, git: Git = Git()) {
        self.repository = repository
        self.git = git
    }

    /// One line of an allowed-signers file: `PRINCIPAL namespaces="git" TYPE BASE64 [COMMENT]`.
    public static func allowedSignersLine(principal: String, publicKey: String) throws -> String {
        let words = publicKey.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let types = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
                     "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"]
        guard words.count >= 2, types.contains(words[0]), Data(base64Encoded: words[1]) != nil else {
            if publicKey.contains("PRIVATE KEY") {
                throw BerthError(.privateKeyFound, "--signing-key is a private key; pass the public key (KEY.pub), which is all Berth needs")
            }
            throw BerthError(.invalidInput, "--signing-key is not an OpenSSH public key (\"ssh-ed25519 AAAA... comment\"); pass the .pub file of the key you sign commits with")
        }
        return "\(principal) namespaces=\"git\" \(words[0]) \(words[1])"
    }

    /// Writes `signers` with the key and points git at it for signing. Returns the allowed-signers
    /// text to install on hosts.
    public func configure(publicKeyPath: String, principal: String) async throws -> String {
        guard let key = try BoundedFile.readText(publicKeyPath, limit: 16 << 10) else {
            throw BerthError(.notFound, "--signing-key \(publicKeyPath) does not exist; pass the public key (.pub) you sign commits with")
        }
        let line = try Self.allowedSignersLine(principal: principal, publicKey: key.trimmingCharacters(in: .whitespacesAndNewlines))
        let text = "# Keys that may sign commits of this fleet (OpenSSH allowed-signers format).\n"
            + "# Hosts adopt a change of this file only from a commit signed by a key already listed.\n" + line + "\n"
        try AtomicFile.write(text, to: "\(repository)/\(FleetLayout.signersFile)", mode: 0o644)
        try await git.run(repository, "config", "gpg.format", "ssh")
        try await git.run(repository, "config", "user.signingkey", publicKeyPath)
        try await git.run(repository, "config", "commit.gpgsign", "true")
        try await git.run(repository, "config", "gpg.ssh.allowedSignersFile", FleetLayout.signersFile)
        return text
    }
}
