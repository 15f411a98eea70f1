import BerthCore
import Testing
import TestSupport

@Suite("editing fleet.yaml without losing comments")
struct FleetEditorTests {
    static let commented = """
        # our fleet
        apiVersion: berth/v1
        fleet: prod   # production
        defaults:
          listeners: [fd://, tcp://0.0.0.0:2376]
          clients:
            - alice   # laptop
            - ci
        hosts:
          web-1:
            addresses: [10.0.0.5]
            # web-1 keeps its own clients
            clients: [alice]
        # trailing comment

        """

    @Test("host add appends an entry and keeps every comment")
    func addHost() throws {
        var editor = FleetEditor(Self.commented)
        try editor.addHost("web-2", addresses: ["10.0.0.6", "web-2.example.com"], listeners: ["fd://", "tcp://[::]:2376"])
        let spec = try #require(FleetParser.parse(editor.text).spec)
        #expect(spec.hosts.map(\.name) == ["web-1", "web-2"])
        #expect(spec.host(named: "web-2")?.settings.listeners == [.fd(name: nil), .tcp(host: "::", port: 2376)])
        #expect(editor.text.contains("# web-1 keeps its own clients"))
        #expect(editor.text.contains("# trailing comment"))
        #expect(editor.text.contains("fleet: prod   # production"))
    }

    @Test("host add into an empty `hosts: {}`")
    func addToEmpty() throws {
        var editor = FleetEditor("apiVersion: berth/v1\nfleet: lab\nhosts: {}   # none yet\n")
        try editor.addHost("a1", addresses: ["auto"], listeners: nil)
        #expect(FleetParser.parse(editor.text).spec?.host(named: "a1")?.addresses == .auto)
    }

    @Test("host add of an existing host fails")
    func addDuplicate() {
        var editor = FleetEditor(Self.commented)
        #expect(throws: BerthError.self) { try editor.addHost("web-1", addresses: ["10.0.0.9"], listeners: nil) }
    }

    @Test("host rm removes exactly that entry")
    func removeHost() throws {
        var editor = FleetEditor(Self.commented)
        try editor.addHost("web-2", addresses: ["10.0.0.6"], listeners: nil)
        try editor.removeHost("web-1")
        let spec = try #require(FleetParser.parse(editor.text).spec)
        #expect(spec.hosts.map(\.name) == ["web-2"])
        #expect(editor.text.contains("# trailing comment"))
        try editor.removeHost("web-2")
        #expect(FleetParser.parse(editor.text).spec?.hosts.isEmpty == true)
    }

    @Test("host rm of an unknown host fails with the known hosts")
    func removeUnknown() {
        var editor = FleetEditor(Self.commented)
        #expect {
            try editor.removeHost("nope")
        } throws: { error in
            (error as? BerthError)?.code == .notFound && "\(error)".contains("web-1")
        }
    }

    @Test("lists are rewritten in place, block or flow, and created when missing")
    func setLists() throws {
        var editor = FleetEditor(Self.commented)
        try editor.setList("defaults.clients", to: ["alice", "ci", "bob"])
        try editor.setList("hosts.web-1.clients", to: ["bob"])
        var spec = try #require(FleetParser.parse(editor.text).spec)
        #expect(spec.defaults.clients == ["alice", "ci", "bob"])
        #expect(spec.host(named: "web-1")?.settings.clients == ["bob"])

        var bare = FleetEditor("apiVersion: berth/v1\nfleet: lab\nhosts:\n  h1:\n    addresses: [10.0.0.1]\n")
        try bare.setList("defaults.clients", to: ["ci"])
        try bare.setList("hosts.h1.clients", to: ["ci"])
        spec = try #require(FleetParser.parse(bare.text).spec)
        #expect(spec.defaults.clients == ["ci"])
        #expect(spec.host(named: "h1")?.settings.clients == ["ci"])
    }
}
