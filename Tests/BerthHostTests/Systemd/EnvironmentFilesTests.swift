import BerthCore
import BerthHost
import Foundation
import Testing
import TestSupport

@Suite("dockerd flags smuggled in through the unit's environment")
struct EnvironmentFilesTests {
    let root: TemporaryDirectory
    /// Debian's packaged command line: it expands $DOCKER_OPTS.
    let debian = PackagedUnit.debian.unit.execStart

    init() throws {
        root = try TemporaryDirectory("berth-envfiles")
    }

    func assignments(_ text: String) -> [String] {
        EnvironmentFiles.parse(text).map { "\($0.0)=\($0.1)" }
    }

    func conflicts(_ files: [String: String], unitFiles: [String]? = nil, environment: [String] = [], arguments: [String]? = nil) throws -> [Conflict] {
        for (path, text) in files { try root.write(String(path.dropFirst()), text) }
        let unit = UnitState(loaded: true, environmentFiles: unitFiles ?? files.keys.sorted(), environment: environment)
        return EnvironmentFiles.conflicts(unit: unit, arguments: arguments ?? debian, root: root.path)
    }

    // MARK: parse

    @Test("comments, blank lines, export, quotes and continuation lines are read as systemd reads them")
    func parse() {
        let text = """
            # Docker Upstart and SysVinit configuration file
            ; also a comment

            export DOCKER_OPTS="--dns 8.8.8.8 --dns 8.8.4.4"
              HTTP_PROXY='http://proxy:3128'  
            TMPDIR=/mnt/bigdrive/docker-tmp
            LONG=-H \\
            tcp://0.0.0.0:2375 \\
            --tlsverify
            not an assignment
            bad-key=1
            =nokey
            EMPTY=
            HALF="unterminated
            """
        #expect(assignments(text) == [
            "DOCKER_OPTS=--dns 8.8.8.8 --dns 8.8.4.4",
            "HTTP_PROXY=http://proxy:3128",
            "TMPDIR=/mnt/bigdrive/docker-tmp",
            "LONG=-H tcp://0.0.0.0:2375 --tlsverify",
            "EMPTY=",
            "HALF=\"unterminated",
        ])
    }

    @Test("a later assignment of the same name comes later in the list")
    func repeated() {
        #expect(assignments("A=1\nA=2\n") == ["A=1", "A=2"])
    }

    // MARK: words

    @Test("words split on spaces and tabs and honour single and double quotes", arguments: [
        ("-H tcp://0.0.0.0:2375", ["-H", "tcp://0.0.0.0:2375"]),
        ("  --dns\t8.8.8.8   ", ["--dns", "8.8.8.8"]),
        ("--label \"a b\" --x='c d'", ["--label", "a b", "--x=c d"]),
        ("\"\" x", ["", "x"]),
        ("'it\"s'", ["it\"s"]),
        ("", []),
        ("   ", []),
    ])
    func words(_ value: String, _ expected: [String]) {
        #expect(EnvironmentFiles.words(value) == expected)
    }

    // MARK: conflicts

    @Test("DOCKER_OPTS with a listener or TLS flag is a conflict naming the file, the variable and the flag", arguments: [
        ("-H tcp://0.0.0.0:2375", "-H tcp://0.0.0.0:2375"),
        ("--host=tcp://0.0.0.0:2375", "--host=tcp://0.0.0.0:2375"),
        ("--host tcp://0.0.0.0:2375", "--host tcp://0.0.0.0:2375"),
        ("-Htcp://0.0.0.0:2375", "-Htcp://0.0.0.0:2375"),
        ("-H=tcp://0.0.0.0:2375", "-H=tcp://0.0.0.0:2375"),
        ("--tlsverify", "--tlsverify"),
        ("--tls=false", "--tls=false"),
        ("--tlscert /srv/cert.pem", "--tlscert /srv/cert.pem"),
        ("--tlskey=/srv/key.pem", "--tlskey=/srv/key.pem"),
        ("--tlscacert /srv/ca.pem", "--tlscacert /srv/ca.pem"),
        ("--dns 8.8.8.8 -H unix:///var/run/other.sock --log-level debug", "-H unix:///var/run/other.sock"),
    ])
    func ownedFlag(_ value: String, _ flags: String) throws {
        let found = try conflicts(["/etc/default/docker": "DOCKER_OPTS=\"\(value)\"\n"])
        #expect(found.count == 1)
        let conflict = try #require(found.first)
        #expect(conflict.kind == .environmentFile)
        #expect(conflict.file == "/etc/default/docker")
        #expect(conflict.message.hasPrefix("DOCKER_OPTS sets \(flags), which dockerd gets"), "\(conflict.message)")
        #expect(conflict.message.contains("Remove it from DOCKER_OPTS"))
    }

    @Test("several owned flags are all named")
    func severalFlags() throws {
        let found = try conflicts(["/etc/default/docker": "DOCKER_OPTS='-H tcp://0.0.0.0:2375 --tlsverify --tlscert /c.pem'\n"])
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("DOCKER_OPTS sets -H tcp://0.0.0.0:2375 --tlsverify --tlscert /c.pem,") == true)
    }

    @Test("combined short flags (-DH as -D -H, pflag style) still reach dockerd and are a conflict")
    func combinedShortFlags() throws {
        // dockerd parses its flags with spf13/pflag, which reads `-DH tcp://...` as `-D -H tcp://...`:
        // debug on and a plain-TCP listener Berth does not manage.
        let found = try conflicts(["/etc/default/docker": "DOCKER_OPTS=\"-DH tcp://0.0.0.0:2375\"\n"])
        #expect(found.count == 1)
        #expect(found.first?.message.contains("tcp://0.0.0.0:2375") == true)
    }

    @Test("flags Berth does not own are no conflict", arguments: [
        "--dns 8.8.8.8 --log-level=debug",
        "--hosts-file /x --tlsfoo",
        "--data-root /srv/docker -D",
        "",
    ])
    func harmless(_ value: String) throws {
        #expect(try conflicts(["/etc/default/docker": "DOCKER_OPTS=\"\(value)\"\n"]) == [])
    }

    @Test("a variable the command line does not expand is ignored, however bad")
    func unreferenced() throws {
        #expect(try conflicts(["/etc/default/docker": "OTHER_OPTS=\"-H tcp://0.0.0.0:2375\"\n"]) == [])
        // Docker's own unit expands nothing: the file is never even read.
        #expect(try conflicts(["/etc/default/docker": "DOCKER_OPTS=\"-H tcp://0.0.0.0:2375\"\n"], arguments: PackagedUnit.docker.unit.execStart) == [])
    }

    @Test("${VAR} and $VAR inside a longer word are expansions too", arguments: [
        ["/usr/bin/dockerd", "${DOCKER_OPTS}"],
        ["/usr/bin/dockerd", "--config-file=/etc/docker/daemon.json", "x$DOCKER_OPTS"],
        ["/usr/bin/dockerd", "$OTHER${DOCKER_OPTS}"],
    ])
    func braceForm(_ arguments: [String]) throws {
        let found = try conflicts(["/etc/default/docker": "DOCKER_OPTS=\"--tlsverify\"\n"], arguments: arguments)
        #expect(found.map(\.file) == ["/etc/default/docker"])
    }

    @Test("Environment= of the unit counts, and is named as such")
    func unitEnvironment() throws {
        let found = try conflicts([:], unitFiles: [], environment: ["DOCKER_OPTS=-H tcp://0.0.0.0:2375"])
        #expect(found.count == 1)
        #expect(found.first?.file == "Environment= of docker.service")
        #expect(found.first?.message.hasPrefix("DOCKER_OPTS sets -H tcp://0.0.0.0:2375") == true)
    }

    @Test("an environment file overrides Environment=, and a later file an earlier one")
    func laterWins() throws {
        // The file clears what Environment= set.
        #expect(try conflicts(["/etc/default/docker": "DOCKER_OPTS=\n"], environment: ["DOCKER_OPTS=--tlsverify"]) == [])
        // A later file clears an earlier one.
        #expect(try conflicts(["/etc/default/docker": "DOCKER_OPTS=--tlsverify\n", "/etc/sysconfig/docker": "DOCKER_OPTS=--dns 1.1.1.1\n"],
                              unitFiles: ["/etc/default/docker", "/etc/sysconfig/docker"]) == [])
        // A later file sets it, and is the one named.
        let found = try conflicts(["/etc/default/docker": "DOCKER_OPTS=--dns 1.1.1.1\n", "/etc/sysconfig/docker": "DOCKER_OPTS=--tlsverify\n"],
                                  unitFiles: ["/etc/default/docker", "/etc/sysconfig/docker"])
        #expect(found.map(\.file) == ["/etc/sysconfig/docker"])
        // Within one file, the last assignment wins.
        #expect(try conflicts(["/etc/default/docker": "DOCKER_OPTS=--tlsverify\nDOCKER_OPTS=\n"]) == [])
    }

    @Test("a missing environment file (systemd's `-` prefix or not) is no conflict")
    func missingFile() throws {
        #expect(try conflicts([:], unitFiles: ["-/etc/default/docker", "/etc/sysconfig/docker"]) == [])
    }

    @Test("the `-` prefix is dropped before the file is read and named")
    func dashPrefix() throws {
        try root.write("etc/default/docker", "DOCKER_OPTS=--tlsverify\n")
        let found = try conflicts([:], unitFiles: ["-/etc/default/docker"])
        #expect(found.map(\.file) == ["/etc/default/docker"])
    }

    @Test("an environment file Berth may not read (a symlink) is a conflict that says why")
    func unreadable() throws {
        try root.write("elsewhere", "DOCKER_OPTS=\n")
        try FileManager.default.createDirectory(atPath: root.file("etc/default"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.file("etc/default/docker"), withDestinationPath: root.file("elsewhere"))
        let found = try conflicts([:], unitFiles: ["/etc/default/docker"])
        #expect(found.count == 1)
        #expect(found.first?.file == "/etc/default/docker")
        #expect(found.first?.message.contains("symbolic link") == true, "\(found.first?.message ?? "")")
        #expect(found.first?.message.contains("systemd reads it when dockerd starts") == true)
    }

    @Test("each expanded variable is checked, in name order")
    func severalVariables() throws {
        let found = try conflicts(["/etc/default/docker": "B_OPTS=--tlsverify\nA_OPTS=-H tcp://0.0.0.0:1\n"],
                                  arguments: ["/usr/bin/dockerd", "$B_OPTS", "$A_OPTS"])
        #expect(found.map { $0.message.prefix(6) } == ["A_OPTS", "B_OPTS"])
    }
}
