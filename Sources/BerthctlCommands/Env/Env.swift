import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl env`: shell exports that point the docker client at a host, as `docker-machine env` did.
struct Env: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for a host.",
        discussion: """
            DOCKER_HOST is the host's first address with the port of its first tcp:// listener;
            DOCKER_CERT_PATH is the client directory `berthctl client new` made on this machine.
            Without --client, the first of the host's clients with a directory here is used.

            Example:
              eval $(berthctl env web-1)
              eval $(berthctl env web-1 --client ci)
              berthctl env web-1 --shell fish | source
              berthctl env web-1 --shell powershell | Invoke-Expression
              eval $(berthctl env --unset)
            """
    )

    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, fish, powershell

        func export(_ name: String, _ value: String) -> String {
            switch self {
            case .bash: return "export \(name)=\"\(value)\""
            case .fish: return "set -gx \(name) \"\(value)\";"
            case .powershell: return "$Env:\(name) = \"\(value)\""
            }
        }

        func unset(_ name: String) -> String {
            switch self {
            case .bash: return "unset \(name)"
            case .fish: return "set -e \(name);"
            case .powershell: return "Remove-Item Env:\\\(name)"
            }
        }
    }

    @Argument(help: "The host to point docker at (not needed with --unset).")
    var host: String?

    @Option(help: ArgumentHelp("The client identity to use.", valueName: "name"))
    var client: String?

    @Option(help: "Shell syntax: bash (also zsh, sh), fish or powershell.")
    var shell: Shell = .bash

    @Flag(help: "Print commands that unset the variables instead.")
    var unset = false

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    static let variables = ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"]

    func validate() throws {
        if !unset && host == nil { throw ValidationError("name the host: berthctl env HOST") }
    }

    func run() async throws {
        if unset {
            if output.json { try Output.json([String: String]()); return }
            var lines = Self.variables.map(shell.unset)
            lines.append(hint(host: nil))
            Output.print(lines.joined(separator: "\n"))
            return
        }
        let loaded = try repository.repository.loadValid()
        Output.warnings(loaded.diagnostics)
        let resolved = try loaded.resolve(host: host!)
        let endpoint = try DockerEndpoint.url(for: resolved)
        let certPath = try DockerEndpoint.clientDirectory(for: resolved, client: client)
        if let client, !resolved.clients.contains(client) {
            Output.error("warning: \(resolved.name) does not authorize client \(client) (hosts.\(resolved.name).clients in fleet.yaml); docker will be refused")
        }
        let values = [("DOCKER_HOST", endpoint), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", certPath)]
        if output.json {
            try Output.json(Dictionary(uniqueKeysWithValues: values))
            return
        }
        var lines = values.map { shell.export($0.0, $0.1) }
        lines.append(hint(host: host))
        Output.print(lines.joined(separator: "\n"))
    }

    private func hint(host: String?) -> String {
        var args = host.map { [$0] } ?? []
        if let client, !unset { args += ["--client", client] }
        if unset { args.append("--unset") }
        if shell != .bash { args += ["--shell", shell.rawValue] }
        let command = (["berthctl", "env"] + args).joined(separator: " ")
        let line: String
        switch shell {
        case .bash: line = "# eval $(\(command))"
        case .fish: line = "# eval (\(command))"
        case .powershell: line = "# & \(command) | Invoke-Expression"
        }
        return "# Run this command to configure your shell:\n" + line
    }
}

/// How a client reaches a host's daemon: `tcp://ADDRESS:PORT` and the client's certificate directory.
enum DockerEndpoint {
    static func url(for host: ResolvedHost) throws -> String {
        guard case .tcp(_, let port)? = host.tcpListeners.first else {
            throw BerthError(.invalidInput, "host \(host.name) has no tcp:// listener, so docker cannot reach it over the network; add one to hosts.\(host.name).listeners (e.g. tcp://0.0.0.0:2376) in fleet.yaml")
        }
        guard let address = host.advertisedAddress else {
            if case .auto = host.addresses {
                throw BerthError(.invalidInput, "host \(host.name) has addresses: auto, so there is no address to advertise; declare one with hosts.\(host.name).addresses in fleet.yaml")
            }
            throw BerthError(.invalidInput, "host \(host.name) declares no address; add hosts.\(host.name).addresses in fleet.yaml")
        }
        let text = address.description
        return text.contains(":") ? "tcp://[\(text)]:\(port)" : "tcp://\(text):\(port)"
    }

    /// The client's certificate directory: `client`, else the first of the host's clients that has one here.
    static func clientDirectory(for host: ResolvedHost, client: String?) throws -> String {
        if let client {
            return try ClientDirectory.existing(fleet: host.fleet, client: client)
        }
        for name in host.clients {
            if let dir = try? ClientDirectory.existing(fleet: host.fleet, client: name) { return dir }
        }
        let example = host.clients.first ?? "NAME"
        throw BerthError(.notFound, "no client directory for host \(host.name) under \((ClientDirectory.resolve(fleet: host.fleet, client: "x") as NSString).deletingLastPathComponent); pass --client NAME, or make one with `berthctl client new \(example)`")
    }
}
