import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl context`: docker contexts for the fleet's hosts.
struct Context: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update docker contexts FLEET-HOST pointing at hosts over mutual TLS.",
        discussion: """
            Runs `docker context create FLEET-HOST --docker host=tcp://ADDRESS:PORT,ca=…,cert=…,key=…`
            (or `docker context update` when it exists) with the client directory from
            `berthctl client new`. Without a docker binary on PATH it prints the commands instead.

            --prune removes the contexts this command made (named FLEET-HOST, described as
            "Berth fleet FLEET, host HOST") for hosts fleet.yaml no longer has. Contexts of other
            fleets, and any other context, are left alone.

            Example:
              berthctl context web-1
              berthctl context --all --client ci --prune
              docker --context prod-web-1 ps
            """
    )

    @Argument(help: "Hosts to make contexts for.")
    var hosts: [String] = []

    @Flag(help: "Every host with a tcp:// listener and an explicit address.")
    var all = false

    @Option(help: ArgumentHelp("The client identity to use.", valueName: "name"))
    var client: String?

    @Flag(help: "Remove this fleet's contexts for hosts that are no longer in fleet.yaml.")
    var prune = false

    @OptionGroup var repository: RepositoryOptions

    func validate() throws {
        if all && !hosts.isEmpty { throw ValidationError("give host names or --all, not both") }
        if !all && hosts.isEmpty && !prune { throw ValidationError("name at least one host, or pass --all or --prune") }
    }

    func run() async throws {
        let loaded = try repository.repository.loadValid()
        Output.warnings(loaded.diagnostics)
        let fleet = loaded.spec.fleet
        var targets = hosts
        if all {
            targets = loaded.spec.hosts.compactMap { loaded.spec.resolve(host: $0.name) }
                .filter { (try? DockerEndpoint.url(for: $0)) != nil }.map(\.name)
            if targets.isEmpty { Output.print("no host has a tcp:// listener and an explicit address") }
        }
        let docker = Self.dockerOnPath()
        let runner = SubprocessRunner()
        var failures: [any Error] = []
        if prune {
            failures += await prune(fleet: fleet, keeping: Set(loaded.spec.hosts.map(\.name)), docker: docker, runner: runner)
        }
        for name in targets {
            do {
                let host = try loaded.resolve(host: name)
                let endpoint = try DockerEndpoint.url(for: host)
                let dir = try DockerEndpoint.clientDirectory(for: host, client: client)
                let contextName = Self.contextName(fleet: fleet, host: name)
                let spec = ["host=\(endpoint)", "ca=\(dir)/ca.pem", "cert=\(dir)/cert.pem", "key=\(dir)/key.pem"].map(Self.csvField).joined(separator: ",")
                let description = Self.description(fleet: fleet, host: name)
                guard let docker else {
                    Output.print("docker context create \(contextName) --description \(Self.quote(description)) --docker \(Self.quote(spec))")
                    continue
                }
                let exists = try await runner.run(Command(docker, ["context", "inspect", contextName])).succeeded
                let verb = exists ? "update" : "create"
                try await runner.check(Command(docker, ["context", verb, contextName, "--description", description, "--docker", spec]))
                Output.print("\(exists ? "updated" : "created") docker context \(contextName) (\(endpoint)); use: docker --context \(contextName) ps")
            } catch {
                failures.append(BerthError(.commandFailed, "\(name): \(error)"))
            }
        }
        if docker == nil && !targets.isEmpty { Output.error("docker is not on PATH; run the commands above where it is") }
        if !failures.isEmpty { throw AggregateError(failures) }
    }

    static func contextName(fleet: String, host: String) -> String { "\(fleet)-\(host)" }

    /// What marks a context as made by this command (and for which host), for --prune.
    static func description(fleet: String, host: String) -> String { "Berth fleet \(fleet), host \(host)" }

    static func dockerOnPath() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/docker"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// docker reads `--docker` as one CSV record: a field with a comma or a quote (a client
    /// directory under such a path) is quoted, its quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
