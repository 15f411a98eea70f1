import ArgumentParser

/// `berthctl host`: the hosts of the fleet.
struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Add, remove and list the fleet's hosts.",
        subcommands: [HostAdd.self, HostRemove.self, HostList.self]
    )
}
