import BerthCore
import BerthHost
import Foundation
import Testing
import TestSupport

/// How an agent loads the fleet for its own host: another host's bad entry is set aside,
/// anything that could concern this host stops the pass.
@Suite("loading fleet.yaml for one host")
struct FleetRepositoryTests {
    static let base = """
        apiVersion: berth/v1
        fleet: prod
        defaults:
          listeners: [fd://, tcp://0.0.0.0:2376]
          clients: [alice]
        hosts:
          web-a:
            addresses: [10.0.0.1]
          web-b:
            addresses: [10.0.0.2]
          web-c:
            addresses: [10.0.0.3]

        """

    func load(_ yaml: String, for host: String) throws -> LoadedFleet {
        let fleet = try TestFleet(yaml: yaml)
        return try FleetRepository(root: fleet.root).loadValid(for: host)
    }

    func errorText(_ body: () throws -> LoadedFleet) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
    }

    @Test("a valid file loads whole, with no warning")
    func valid() throws {
        let loaded = try load(Self.base, for: "web-a")
        #expect(loaded.spec.hosts.map(\.name) == ["web-a", "web-b", "web-c"])
        #expect(loaded.warnings.isEmpty)
    }

    @Test("another host's bad entry is left out with a warning at its line; this host loads")
    func otherHostSetAside() throws {
        let yaml = Self.base.replacingOccurrences(of: "addresses: [10.0.0.1]", with: "addresses: [10.0.0.1]\n    listeners: [fd://, tcp://0.0.0.0]")
        let loaded = try load(yaml, for: "web-b")
        #expect(loaded.spec.hosts.map(\.name) == ["web-b", "web-c"])
        #expect(try loaded.resolve(host: "web-b").tcpListeners.count == 1)
        let warning = try #require(loaded.warnings.first)
        #expect(warning.description.hasPrefix("fleet.yaml:9:"), "\(warning)")
        #expect(warning.field == "hosts.web-a.listeners[1]")
        #expect(warning.message.contains("other hosts are unaffected"))
    }

    @Test("an error in this host's own entry stops it")
    func ownEntry() {
        let yaml = Self.base.replacingOccurrences(of: "addresses: [10.0.0.1]", with: "addresses: [10.0.0.1]\n    listeners: [fd://, tcp://0.0.0.0]")
        #expect(errorText { try load(yaml, for: "web-a") }.contains("hosts.web-a.listeners[1]"))
    }

    @Test("an error outside any host entry stops every host", arguments: [
        ("  clients: [alice]", "  clients: [alice, nobody]"),   // defaults
        ("fleet: prod", "fleet: Prod"),                           // top level
        ("hosts:", "hosts:\n  Bad_Name:\n    addresses: [10.0.0.9]"), // a name that cannot be read
    ])
    func globalError(_ change: (String, String)) {
        let yaml = Self.base.replacingOccurrences(of: change.0, with: change.1)
        #expect(!errorText { try load(yaml, for: "web-c") }.isEmpty, "\(change.1)")
    }

    @Test("errors found only once other entries are left out are judged the same way")
    func secondRound() throws {
        // web-a's error is found while parsing; web-b's unknown client only by the cross-file
        // checks, which run once the parse is clean.
        let yaml = Self.base
            .replacingOccurrences(of: "addresses: [10.0.0.1]", with: "addresses: [10.0.0.1]\n    listeners: [tcp://0.0.0.0]")
            .replacingOccurrences(of: "addresses: [10.0.0.2]", with: "addresses: [10.0.0.2]\n    clients: [nobody]")
        let loaded = try load(yaml, for: "web-c")
        #expect(loaded.spec.hosts.map(\.name) == ["web-c"])
        #expect(Set(loaded.warnings.map(\.field)) == ["hosts.web-a.listeners[0]", "hosts.web-b.clients[0]"])
        #expect(errorText { try load(yaml, for: "web-b") }.contains("hosts.web-b.clients[0]"))
    }

    @Test("an error that could lie in either of two dotted names is nobody's, so it stops every host")
    func ambiguousNames() {
        let yaml = Self.base.replacingOccurrences(of: "  web-c:", with: "  web:\n    addresses: [10.0.0.4]\n  web.tls:\n    addresses: [10.0.0.5]\n    listeners: [tcp://0.0.0.0]\n  web-c:")
        #expect(!errorText { try load(yaml, for: "web-c") }.isEmpty)
    }
}
