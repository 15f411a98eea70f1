import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl client`: the client certificates hosts pin, and who may connect where.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Create, add, revoke and list the client certificates hosts accept.",
        discussion: """
            A client may connect to a host exactly when the host's resolved clients list in
            fleet.yaml names it; its public certificate lives in clients/NAME.pem.

            Example:
              berthctl client new alice
              berthctl client add ci --cert ci-cert.pem --host build-1
              berthctl client revoke alice
              berthctl client ls --json
            """,
        subcommands: [ClientNew.self, ClientAdd.self, ClientRevoke.self, ClientList.self]
    )
}

/// The check `client new`, `add` and `revoke` share on the command line.
enum ClientName {
    static func validate(_ name: String) throws {
        guard ResourceName.isValid(name) else {
            throw ValidationError("client name \"\(name)\" is not valid; use \(ResourceName.rule), e.g. \(ResourceName.suggestion(for: name))")
        }
    }
}
