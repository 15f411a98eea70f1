import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore

/// `berthctl host`: the hosts of the fleet.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Add, retire, remove and list the fleet's hosts; issue join tokens.",
        subcommands: [HostAdd.self, HostToken.self, HostRetire.self, HostRemove.self, HostList.self]
    )
}
