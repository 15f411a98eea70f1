import BerthCore
import Foundation
import Testing
import TestSupport

@Suite("YAML anchors and aliases are refused before anything is built")
struct YAMLAnchorCheckTests {
    /// The "billion laughs": ten levels of ten aliases each, 10^10 leaves once expanded.
    static let aliasBomb: String = {
        var lines = ["apiVersion: berth/v1", "fleet: prod", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            lines.append("a\(level): &a\(level) [" + Array(repeating: previous, count: 10).joined(separator: ", ") + "]")
        }
        lines.append("hosts:")
        lines.append("  web-1: {addresses: *a9}")
        return lines.joined(separator: "\n") + "\n"
    }()

    /// Aliases used as mapping keys: composing hashes the same subtree again and again.
    static let keyBomb = """
        apiVersion: berth/v1
        fleet: prod
        defaults:
          labels: &k0 {x: [a, b, c, d, e, f, g, h]}
          daemon: &k1 {? *k0 : 1, ? [*k0, *k0] : 2, ? [*k0, *k0, *k0] : 3}
          tls: &k2 {? *k1 : 1, ? [*k1, *k1] : 2, ? [*k1, *k1, *k1] : 3}
          restart: {? *k2 : 1, ? [*k2, *k2] : 2, ? [*k2, *k2, *k2] : 3}
        hosts: {}

        """

    func refuse(_ yaml: String, line: Int, column: Int, what: String) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let document = FleetParser.parse(yaml, file: "fleet.yaml")
        #expect(clock.now - start < .seconds(1), "refusing took \(clock.now - start)")
        #expect(document.spec == nil)
        #expect(document.partialSpec == nil)
        #expect(document.diagnostics.count == 1)
        let diagnostic = try #require(document.diagnostics.first)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.location == SourceLocation(file: "fleet.yaml", line: line, column: column))
        #expect(diagnostic.description == "fleet.yaml:\(line):\(column): \(what): YAML anchors and aliases are not accepted in fleet.yaml; write each value out")
    }

    @Test("a billion-laughs alias bomb is refused quickly at its first anchor")
    func aliasBomb() throws {
        try refuse(Self.aliasBomb, line: 3, column: 5, what: "an anchor (&name)")
    }

    @Test("aliases used as mapping keys are refused quickly at the first anchor")
    func keyBomb() throws {
        try refuse(Self.keyBomb, line: 4, column: 11, what: "an anchor (&name)")
    }

    @Test("an alias with no anchor before it is refused at the alias")
    func aliasFirst() throws {
        try refuse(FleetFixtures.replacing(6, with: "  clients: *people"), line: 6, column: 12, what: "an alias (*name)")
        let found = try #require(YAMLAnchorCheck.first(in: "a: 1\nb: [x, *y]\n"))
        #expect(found.line == 2 && found.column == 8 && found.isAlias)
    }

    @Test("an anchor alone, even unused, is refused")
    func anchorAlone() throws {
        try refuse(FleetFixtures.replacing(17, with: "    addresses: &addr [10.0.0.5, web-1.example.com]"), line: 17, column: 16, what: "an anchor (&name)")
    }

    @Test("a normal fleet.yaml has none, nor do & and * inside values and comments", arguments: [
        FleetFixtures.validYAML,
        FleetFixtures.replacing(14, with: "    labels: [\"team=r&d\", 'star=*', a&b=1, c*d=2]  # &not *an alias"),
        "# &anchor in a comment\nfleet: prod\n",
        "",
    ])
    func noneInNormalFiles(_ yaml: String) {
        #expect(YAMLAnchorCheck.first(in: yaml) == nil)
    }

    @Test("the valid fixture still parses with no findings, so the check costs nothing in the normal case")
    func validFixture() {
        let document = FleetParser.parse(FleetFixtures.validYAML)
        #expect(document.spec != nil)
        #expect(document.diagnostics.isEmpty, "\(document.diagnostics)")
    }

    @Test("a YAML syntax error is left to the composer, which names its line")
    func syntaxError() {
        #expect(YAMLAnchorCheck.first(in: "fleet: [prod\n") == nil)
        let document = FleetParser.parse("apiVersion: berth/v1\nfleet: [prod\n")
        #expect(document.spec == nil)
        #expect(!document.diagnostics.isEmpty)
        #expect(!document.diagnostics.contains { $0.message.contains("anchors") })
    }
}
