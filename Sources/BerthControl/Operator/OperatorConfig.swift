import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// Where an operator keeps a fleet's secrets on their own machine: the CA key, join tokens not
/// yet used, client identities. `$BERTH_CONFIG_HOME/FLEET`, else `$XDG_CONFIG_HOME/berth/FLEET`,
/// else `$HOME/.config/berth/FLEET`: the environment is honoured, so `HOME=/elsewhere berthctl`
/// writes there and not under the home directory of the password database.
public enum OperatorConfig {
    public static func directory(fleet: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        func set(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let base = set("BERTH_CONFIG_HOME")
            ?? set("XDG_CONFIG_HOME").map { "\($0)/berth" }
            ?? "\(set("HOME") ?? NSHomeDirectory())/.config/berth"
        return "\(base)/\(fleet)"
    }

    /// The CA key: `--ca-key` when given, else `DIR/ca-key.pem`.
    public static func caKey(fleet: String, option: String?) -> String {
        option ?? "\(directory(fleet: fleet))/ca-key.pem"
    }

    /// A client's Docker certificate directory (`ca.pem`, `cert.pem`, `key.pem`).
    public static func clientDirectory(fleet: String, client: String) -> String {
        "\(directory(fleet: fleet))/clients/\(client)"
    }
}

/// The join tokens an operator has issued and not yet seen used: `DIR/tokens/HOST`, 0600 in a
/// 0700 directory, nowhere else on the operator's side. Deleted when the host's first
/// certificate is issued, so a token works once.
public struct JoinTokenStore: Sendable {
    public var directory: String

    public init(fleet: String) {
        directory = "\(OperatorConfig.directory(fleet: fleet))/tokens"
    }

    public func path(_ host: String) -> String { "\(directory)/\(host)" }

    /// A new token for `host`, replacing any earlier one.
    public func issue(_ host: String) throws -> String {
        let token = JoinToken.generate()
        try AtomicFile.write(token + "\n", to: path(host), mode: 0o600, directoryMode: 0o700)
        return token
    }

    public func token(_ host: String) -> String? {
        ((try? BoundedFile.readText(path(host), limit: 4096)) ?? nil).map { JoinToken.normalized($0) }
    }

    public func forget(_ host: String) throws {
        try AtomicFile.remove(path(host))
    }
}
