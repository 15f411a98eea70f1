import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl client revoke`: remove a client's certificate and every mention of it.
struct ClientRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Remove clients/NAME.pem and NAME from every clients list in fleet.yaml.",
        discussion: """
            After commit and push, each host's agent rebuilds clients.pem without the client and
            restarts dockerd, and the client can no longer connect.

            Example:
              berthctl client revoke alice
              berthctl client revoke ci --repo ~/fleet
            """
    )

    @Argument(help: "Client name.")
    var name: String

    @OptionGroup var repository: RepositoryOptions

    func validate() throws { try ClientName.validate(name) }

    func run() async throws {
        let revocation = try ClientEdits(repository: repository.repository).revoke(name)
        Output.print("revoked client \(name)" + (revocation.removedFile.map { ": removed \($0)" } ?? "")
            + (revocation.lists.isEmpty ? "" : "; removed from \(revocation.lists.joined(separator: ", "))"))
        Output.print("next: commit and push; hosts drop \(name) from their client bundle on their next pass")
    }
}
