import ArgumentParser
import BerthCommandSupport
import BerthControl
import BerthCore
import BerthHost
import Foundation

/// `berthctl render`: the exact files the agent would write on a host.
struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the exact files berth-agent would write on a host.",
        discussion: """
            Uses the same function as the agent, so the bytes are the agent's. The drop-in is built
            on the docker.service found under --root (default /); on a machine without Docker pass
            --base debian (docker.io) or --base docker (docker-ce). clients.pem includes the agent's
            probe certificate only when --root holds it (a host's filesystem).

            Example:
              berthctl render web-1 --base debian
              berthctl render web-1 --root /mnt/web-1 --out /tmp/web-1-files
            """
    )

    @Argument(help: "The host to render.")
    var host: String

    @Option(help: ArgumentHelp("A host's root filesystem: its docker.service and probe certificate are used.", valueName: "dir"))
    var root: String = "/"

    @Option(help: "Use a built-in packaged unit instead of one under --root: debian or docker.")
    var base: PackagedUnit?

    @Option(help: ArgumentHelp("Write the files under this directory (as DIR/etc/...) instead of printing them.", valueName: "dir"))
    var out: String?

    @Option(help: "The revision to name in the drop-in header (default: the repository's HEAD).")
    var revision: String?

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let repo = repository.repository
        let loaded = try repo.loadValid()
        Output.warnings(loaded.diagnostics)
        let resolved = try loaded.resolve(host: host)
        if resolved.retired {
            throw BerthError(.invalidInput, "host \(host) is retired: its agent removes Berth's drop-in and TLS files, so there is nothing to render; delete retired: true from its entry in fleet.yaml to take it back into service")
        }
        let root = RepositoryOptions.absolute(self.root)
        let unit = try base?.unit ?? DesiredFiles.findUnit(root: root)
        let rev: String
        if let revision { rev = revision } else { rev = await Git().revision(of: repo.root) }
        let certificate = try repo.readIfPresent(FleetLayout.serverCertificate(host), limit: BoundedFile.pemLimit)
        let rendered = try DesiredFiles.render(fleet: loaded, host: resolved, revision: rev, root: root, unit: unit, serverCertificate: certificate)
        let files = rendered.files

        if let out {
            let dir = RepositoryOptions.absolute(out)
            for file in files {
                try AtomicFile.write(file.contents, to: HostLayout.path(file.path, under: dir), mode: file.mode)
            }
            Output.print(files.map { "wrote \(HostLayout.path($0.path, under: dir))" }.joined(separator: "\n"))
        } else if output.json {
            struct Rendered: Encodable { var path: String; var mode: String; var role: String; var contents: String }
            try Output.json(files.map { Rendered(path: $0.path, mode: String($0.mode, radix: 8), role: $0.role.rawValue, contents: $0.text) })
        } else {
            for (index, file) in files.enumerated() {
                if index > 0 { Output.print("") }
                Output.print("==> \(file.path) (mode 0\(String(file.mode, radix: 8))) <==")
                FileHandle.standardOutput.write(Data(file.contents))
            }
        }
        if let tls = rendered.dropIn.tls {
            Output.error("note: \(tls.key) is dockerd's copy of the host's own key; only the agent on \(host) has it")
        } else if resolved.needsServerCertificate {
            Output.error("note: \(FleetLayout.serverCertificate(host)) is not signed yet, so tcp:// listeners are left out (awaiting-certificate)")
        }
    }
}

extension PackagedUnit: ExpressibleByArgument {}
