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
            Values are quoted for the shell, so paths with spaces or quotes arrive unchanged.

            --no-proxy adds the host's address to no_proxy when that is set, else to NO_PROXY,
            keeping what they hold: a proxy for the rest of the network cannot intercept docker.

            Example:
              eval "$(berthctl env web-1)"
              eval "$(berthctl env web-1 --client ci --no-proxy)"
              berthctl env web-1 --shell fish | source
              berthctl env web-1 --shell powershell | Invoke-Expression
              @FOR /f "tokens=*" %i IN ('berthctl env web-1 --shell cmd') DO @%i
              eval "$(berthctl env --unset)"
            """
    )

    @Argument(help: "The host to point docker at (not needed with --unset).")
    var host: String?

    @Option(help: ArgumentHelp("The client identity to use.", valueName: "name"))
    var client: String?

    @Option(help: "Shell syntax: bash (also zsh, sh), fish, powershell or cmd.")
    var shell: Shell = .bash

    @Flag(help: "Print commands that unset the variables instead.")
    var unset = false

    @Flag(help: "Add the host's address to NO_PROXY (or no_proxy); with --unset, take it out again.")
    var noProxy = false

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    static let variables = ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"]

    func validate() throws {
        if !unset && host == nil { throw ValidationError("name the host: berthctl env HOST") }
        if unset && noProxy && host == nil {
            throw ValidationError("--unset --no-proxy takes the host whose address to take out of NO_PROXY: berthctl env HOST --unset --no-proxy")
        }
    }

    func run() async throws {
        // The fleet is read only when something needs the host: not for a plain --unset.
        let resolved = !unset || noProxy ? try resolvedHost() : nil
        let proxy = try resolved.flatMap { noProxy ? NoProxy(environment: ProcessInfo.processInfo.environment, address: try DockerEndpoint.address(for: $0)) : nil }
        if unset {
            if output.json { try Output.json([String: String]()); return }
            var lines = Self.variables.map(shell.unset)
            if let proxy {
                let remaining = proxy.removing()
                lines.append(remaining.isEmpty ? shell.unset(proxy.variable) : try shell.export(proxy.variable, remaining))
            }
            lines.append(shell.hint(command))
            Output.print(lines.joined(separator: "\n"))
            return
        }
        guard let resolved else { return }
        let endpoint = try DockerEndpoint.url(for: resolved)
        let certPath = try DockerEndpoint.clientDirectory(for: resolved, client: client)
        if let client, !resolved.clients.contains(client) {
            Output.error("warning: \(resolved.name) does not authorize client \(client) (hosts.\(resolved.name).clients in fleet.yaml); docker will be refused")
        }
        var values = [("DOCKER_HOST", endpoint), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", certPath)]
        if let proxy { values.append((proxy.variable, proxy.adding())) }
        if output.json {
            try Output.json(Dictionary(uniqueKeysWithValues: values))
            return
        }
        var lines = try values.map { try shell.export($0.0, $0.1) }
        lines.append(shell.hint(command))
        Output.print(lines.joined(separator: "\n"))
    }

    private func resolvedHost() throws -> ResolvedHost {
        let loaded = try repository.repository.loadValid()
        Output.warnings(loaded.diagnostics)
        return try loaded.resolve(host: host!)
    }

    /// This command again, as the hint shows it (the options that change the output).
    private var command: String {
        var args = ["berthctl", "env"] + (host.map { [$0] } ?? [])
        if let client, !unset { args += ["--client", client] }
        if unset { args.append("--unset") }
        if noProxy { args.append("--no-proxy") }
        if shell != .bash { args += ["--shell", shell.rawValue] }
        return args.joined(separator: " ")
    }
}

/// How a client reaches a host's daemon: `tcp://ADDRESS:PORT` and the client's certificate directory.
enum DockerEndpoint {
    static func url(for host: ResolvedHost) throws -> String {
        if host.retired {
            throw BerthError(.invalidInput, "host \(host.name) is retired: its dockerd no longer listens on TCP; delete retired: true from its entry in fleet.yaml to take it back into service")
        }
        guard case .tcp(_, let port)? = host.tcpListeners.first else {
            throw BerthError(.invalidInput, "host \(host.name) has no tcp:// listener, so docker cannot reach it over the network; add one to hosts.\(host.name).listeners (e.g. tcp://0.0.0.0:2376) in fleet.yaml")
        }
        let text = try address(for: host)
        return text.contains(":") ? "tcp://[\(text)]:\(port)" : "tcp://\(text):\(port)"
    }

    /// The address clients use: the host's first declared one (an IPv6 address without brackets).
    static func address(for host: ResolvedHost) throws -> String {
        guard let address = host.advertisedAddress else {
            if case .auto = host.addresses {
                throw BerthError(.invalidInput, "host \(host.name) has addresses: auto, so there is no address to advertise; declare one with hosts.\(host.name).addresses in fleet.yaml")
            }
            throw BerthError(.invalidInput, "host \(host.name) declares no address; add hosts.\(host.name).addresses in fleet.yaml")
        }
        return address.description
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
