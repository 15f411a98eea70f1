import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost

/// `berthctl host add`: declare a host in fleet.yaml.
struct HostAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a host to fleet.yaml.",
        discussion: """
            The first address is the one clients are told to use (berthctl env). All addresses become
            the SANs of the host's server certificate. `--address auto` lets the agent use the host's
            own IPs and hostname (signing then needs --yes or tls.autoSign).

            It also prints a one-time join token (kept only under ~/.config/berth/FLEET/tokens, 0600):
            put it in /etc/berth/join-token on the host, and `berthctl sign` accepts the host's
            first CSR without anyone comparing fingerprints.

            Example:
              berthctl host add web-1 --address 10.0.0.5 --address web-1.example.com
              berthctl host add build-3 --address auto --listen fd:// --listen tcp://0.0.0.0:2376
            """
    )

    @Argument(help: "Host name: \(ResourceName.rule).")
    var name: String

    @Option(name: .customLong("address"), help: ArgumentHelp("An IP or DNS name the host is reached at (repeatable), or auto.", valueName: "address"))
    var addresses: [String] = []

    @Option(name: .customLong("listen"), help: ArgumentHelp("A listener for this host only, overriding defaults (repeatable).", valueName: "url"))
    var listeners: [String] = []

    @Option(name: .customLong("client"), help: ArgumentHelp("A client for this host only, overriding defaults (repeatable).", valueName: "name"))
    var clients: [String] = []

    @OptionGroup var repository: RepositoryOptions

    func validate() throws {
        guard ResourceName.isValid(name) else {
            throw ValidationError("host name \"\(name)\" is not valid; use \(ResourceName.rule), e.g. \(ResourceName.suggestion(for: name))")
        }
        if addresses.contains("auto") && addresses.count > 1 {
            throw ValidationError("--address auto cannot be combined with other addresses")
        }
        for address in addresses where address != "auto" && HostAddress(address) == nil {
            throw ValidationError("--address \"\(address)\" is neither an IP address nor a DNS name; write e.g. 10.0.0.5 or web-1.example.com")
        }
        for listener in listeners {
            if case .failure(let problem) = Listener.parse(listener) { throw ValidationError("--listen: \(problem.message)") }
        }
    }

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.update { text in
            var editor = FleetEditor(text)
            try editor.addHost(name, addresses: addresses.isEmpty ? nil : addresses,
                               listeners: listeners.isEmpty ? nil : listeners, clients: clients.isEmpty ? nil : clients)
            return editor.text
        }
        Output.warnings(loaded.diagnostics)
        let host = try loaded.resolve(host: name)
        Output.print("added host \(name) to \(repo.specPath)")
        let tokens = JoinTokenStore(fleet: loaded.spec.fleet)
        let token = try tokens.issue(name)
        Output.print(HostToken.instructions(host: name, token: token, kept: tokens.path(name)))
        Output.print("next: commit and push; the agent on \(name) makes its key and a CSR, then run `berthctl sign \(name)`" + (host.needsServerCertificate ? "" : " (its certificate signs its reports)"))
    }
}
