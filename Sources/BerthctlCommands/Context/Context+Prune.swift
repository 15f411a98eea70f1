import BerthCommandSupport
import BerthCore
import BerthHost
import Foundation

extension Context {
    /// One line of `docker context ls --format '{{json .}}'`.
    struct DockerContext: Decodable {
        var Name: String
        var Description: String
        var Current: Bool?
    }

    /// Removes the contexts this command made for hosts of `fleet` that are not in `keeping`.
    /// A context is recognized by its name and its description together, so a context someone
    /// made by hand under a FLEET-HOST name is never touched. Returns one failure per context
    /// that could not be removed.
    func prune(fleet: String, keeping: Set<String>, docker: String?, runner: some CommandRunner) async -> [any Error] {
        guard let docker else {
            return [BerthError(.notFound, "--prune needs the docker client to list contexts, and docker is not on PATH; run it where docker is")]
        }
        let contexts: [DockerContext]
        do {
            let listed = try await runner.check(Command(docker, ["context", "ls", "--format", "{{json .}}"], timeout: .seconds(60)))
            contexts = try listed.output.split(separator: "\n").map { try JSONDecoder().decode(DockerContext.self, from: Data($0.utf8)) }
        } catch {
            return [BerthError(.commandFailed, "--prune: cannot list docker contexts: \(error)")]
        }
        let stale = contexts.filter { context in
            guard let host = Self.host(ofContext: context, fleet: fleet) else { return false }
            return !keeping.contains(host)
        }
        if stale.isEmpty { Output.print("no docker context of fleet \(fleet) names a host that is gone") }
        var failures: [any Error] = []
        for context in stale {
            if context.Current == true {
                failures.append(BerthError(.commandFailed, "docker context \(context.Name) is the current one, so it was kept; run `docker context use default` and prune again"))
                continue
            }
            do {
                try await runner.check(Command(docker, ["context", "rm", context.Name], timeout: .seconds(60)))
                Output.print("removed docker context \(context.Name) (\(context.Description.dropFirst("Berth fleet \(fleet), ".count)) is no longer in fleet.yaml)")
            } catch {
                failures.append(BerthError(.commandFailed, "\(context.Name): \(error)"))
            }
        }
        return failures
    }

    /// The host a context was made for, when this command made it for `fleet`.
    static func host(ofContext context: DockerContext, fleet: String) -> String? {
        let prefix = description(fleet: fleet, host: "")
        guard context.Description.hasPrefix(prefix) else { return nil }
        let host = String(context.Description.dropFirst(prefix.count))
        guard ResourceName.isValid(host), context.Name == contextName(fleet: fleet, host: host) else { return nil }
        return host
    }
}
