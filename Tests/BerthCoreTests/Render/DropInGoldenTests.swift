import BerthCore
import Foundation
import Testing
import TestSupport

/// Golden files: the rendered drop-in for each host shape on each flavour of packaged unit.
/// Regenerate with `BERTH_UPDATE_GOLDEN=1 swift test --filter DropInGoldenTests`, then read the diff.
@Suite("drop-in rendering against golden files")
struct DropInGoldenTests {
    static let goldenDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// The three ways docker.service reaches a host.
    enum Flavour: String, CaseIterable, Sendable {
        case debian, docker, overridden

        var unitPath: String {
            self == .overridden ? "/etc/systemd/system/docker.service" : "/lib/systemd/system/docker.service"
        }

        var unitText: String {
            switch self {
            case .debian: return """
                [Unit]
                Description=Docker Application Container Engine
                After=network-online.target docker.socket firewalld.service containerd.service time-set.target
                Requires=docker.socket containerd.service

                [Service]
                Type=notify
                EnvironmentFile=-/etc/default/docker
                ExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS
                ExecReload=/bin/kill -s HUP $MAINPID

                [Install]
                WantedBy=multi-user.target
                """
            case .docker: return """
                [Service]
                Type=notify
                # the default is not to use systemd for cgroups because the delegate issues still
                # exists and systemd currently does not support the cgroup feature set required
                # for containers run by docker
                ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
                ExecReload=/bin/kill -s HUP $MAINPID
                """
            case .overridden: return """
                [Service]
                ExecStart=
                ExecStart=/usr/bin/dockerd \\
                    -H fd:// -H tcp://127.0.0.1:2375 \\
                    --containerd=/run/containerd/containerd.sock \\
                    --log-level=warn --tlsverify --tlscacert=/old/ca.pem "--data-root=/srv/docker data"
                """
            }
        }
    }

    static let shapes: [(name: String, yaml: String)] = [
        ("fd-only", "listeners: [fd://]"),
        ("fd-unix", "listeners: [fd://, unix:///run/berth/docker-extra.sock]"),
        ("several-tcp", "listeners: [fd://, tcp://10.0.0.5:2376, \"tcp://[fd00::5]:2376\", tcp://web-1.example.com:12376]"),
        ("insecure-tcp", "listeners: [fd://, tcp://0.0.0.0:2375]\n    insecure: true"),
        ("labels", "listeners: [fd://, tcp://0.0.0.0:2376]\n    daemon: {labels: [env=prod, team=platform, \"note=two words\"]}"),
        ("awaiting-certificate", "listeners: [fd://, tcp://0.0.0.0:2376]"),
    ]

    static var cases: [(String, Flavour)] {
        shapes.flatMap { shape in Flavour.allCases.map { (shape.name, $0) } }
    }

    func render(shape: String, flavour: Flavour) throws -> String {
        let yaml = Self.shapes.first { $0.name == shape }!.yaml
        let text = "apiVersion: berth/v1\nfleet: prod\nhosts:\n  web-1:\n    addresses: [10.0.0.5, web-1.example.com]\n    \(yaml)\n"
        let document = FleetParser.parse(text)
        let spec = try #require(document.spec, "\(document.diagnostics)")
        let host = try #require(spec.resolve(host: "web-1"))
        let unit = try DockerUnit.parse(flavour.unitText, path: flavour.unitPath)
        let input = RenderInput(
            host: host, revision: "0123456789abcdef0123456789abcdef01234567", unit: unit, caPEM: "CA\n",
            clients: [], probeCertificatePEM: nil,
            serverCertificatePEM: shape == "awaiting-certificate" ? nil : "SERVER\n")
        return HostRenderer.render(input).dropIn.render()
    }

    @Test("the drop-in matches its golden file", arguments: cases)
    func golden(_ shape: String, _ flavour: Flavour) throws {
        let rendered = try render(shape: shape, flavour: flavour)
        let file = Self.goldenDir.appendingPathComponent("\(shape).\(flavour.rawValue).conf")
        if ProcessInfo.processInfo.environment["BERTH_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.goldenDir, withIntermediateDirectories: true)
            try Data(rendered.utf8).write(to: file)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(rendered == expected)
    }

    @Test("rendering is deterministic")
    func deterministic() throws {
        for (shape, flavour) in Self.cases {
            #expect(try render(shape: shape, flavour: flavour) == render(shape: shape, flavour: flavour))
        }
    }

    @Test("the packaged binary and its own arguments are kept; its -H and --tls flags are not")
    func keepsPackagedArguments() throws {
        let unit = try DockerUnit.parse(Flavour.overridden.unitText, path: Flavour.overridden.unitPath)
        #expect(unit.binary == "/usr/bin/dockerd")
        #expect(unit.keptArguments == ["--containerd=/run/containerd/containerd.sock", "--log-level=warn", "--data-root=/srv/docker data"])
        let debian = try DockerUnit.parse(Flavour.debian.unitText, path: Flavour.debian.unitPath)
        #expect(debian.keptArguments == ["--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"])
    }

    @Test("only the revision line differs between two revisions of the same state")
    func revisionOnlyDiff() throws {
        let a = try render(shape: "labels", flavour: .debian)
        let b = a.replacingOccurrences(of: "0123456789abcdef0123456789abcdef01234567", with: "fedcba")
        #expect(a != b)
        #expect(DropIn.comparableContents(a) == DropIn.comparableContents(b))
        #expect(DropIn.revision(in: b) == "fedcba")
    }

    @Test("a unit without ExecStart is refused with its path")
    func unitWithoutExecStart() {
        #expect(throws: BerthError.self) { try DockerUnit.parse("[Service]\nType=notify\n", path: "/lib/systemd/system/docker.service") }
    }
}
