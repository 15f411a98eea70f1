import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl host token`: a new one-time join token for a host's first certificate.
struct HostToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue a new one-time join token for a host (replacing any earlier one).",
        discussion: """
            The token vouches for the host's first CSR: the agent sends HMAC-SHA256(token, CSR)
            with it and `berthctl sign` checks it. It is kept only under
            ~/.config/berth/FLEET/tokens/HOST (0600) and works once: both sides forget it when the
            certificate is issued.

            Example:
              berthctl host token web-3
            """
    )

    @Argument(help: "The host.")
    var name: String

    @OptionGroup var repository: RepositoryOptions

    func run() async throws {
        let loaded = try repository.repository.loadValid()
        _ = try loaded.resolve(host: name)
        let store = JoinTokenStore(fleet: loaded.spec.fleet)
        let token = try store.issue(name)
        Output.print(Self.instructions(host: name, token: token, kept: store.path(name)))
    }

    static func instructions(host: String, token: String, kept: String) -> String {
        """
        join token for \(host) (one use; kept in \(kept), 0600):
          \(token)
        put it on \(host) as root, before its agent's first pass:
          install -m 0600 /dev/stdin \(HostLayout.joinToken) <<< '\(token)'
        """
    }
}
