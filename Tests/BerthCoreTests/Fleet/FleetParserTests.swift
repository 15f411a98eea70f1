import BerthCore
import Foundation
import Testing
import TestSupport

@Suite("fleet.yaml parsing and validation")
struct FleetParserTests {
    func check(_ yaml: String) -> (FleetDocument, [Diagnostic]) {
        let document = FleetParser.parse(yaml)
        return (document, FleetValidator.validate(document, repositoryFiles: FleetFixtures.repositoryFiles))
    }

    @Test("the spec's example parses with no findings")
    func validExample() throws {
        let (document, diagnostics) = check(FleetFixtures.validYAML)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let spec = try #require(document.spec)
        #expect(spec.fleet == "prod")
        #expect(spec.hosts.map(\.name) == ["web-1", "web-2"])
        #expect(spec.defaults.listeners == [.fd(name: nil), .tcp(host: "0.0.0.0", port: 2376)])
        #expect(spec.defaults.renewBefore == .days(30))
        #expect(spec.defaults.restartWindow?.text == "Sun 02:00-04:00 UTC")
    }

    @Test("a host resolves to defaults with its own keys overriding them")
    func resolution() throws {
        let spec = try #require(FleetParser.parse(FleetFixtures.validYAML).spec)
        let web1 = try #require(spec.resolve(host: "web-1"))
        #expect(web1.clients == ["alice", "ci"])
        #expect(web1.addresses == .explicit([.ip(IPAddress("10.0.0.5")!), .dns("web-1.example.com")]))
        #expect(web1.needsServerCertificate)
        #expect(web1.labels == ["env=prod"])
        let web2 = try #require(spec.resolve(host: "web-2"))
        #expect(web2.clients == ["alice"])
        #expect(web2.addresses == .auto)
        #expect(web2.restartPolicy == .whenSafe)
        #expect(spec.resolve(host: "web-9") == nil)
    }

    @Test("a bad fleet.yaml is refused with its line and field", arguments: FleetFixtures.badCases)
    func badInput(_ bad: FleetFixtures.BadCase) {
        let (document, diagnostics) = check(bad.yaml)
        let errors = diagnostics.filter { $0.severity == .error }
        #expect(!errors.isEmpty)
        let match = errors.first { $0.field == bad.field }
        #expect(match != nil, "no error for \(bad.field) in:\n\(errors.map(\.description).joined(separator: "\n"))")
        #expect(match?.location?.line == bad.line, "\(match?.description ?? "")")
        #expect(match?.description.hasPrefix("fleet.yaml:\(bad.line):") == true)
        #expect(match?.message.contains(bad.hint) == true, "\(match?.message ?? "") lacks \(bad.hint)")
        _ = document
    }

    @Test("there are at least 30 distinct bad inputs")
    func enoughBadCases() {
        #expect(Set(FleetFixtures.badCases.map(\.yaml)).count >= 30)
        #expect(Set(FleetFixtures.badCases.map(\.name)).count == FleetFixtures.badCases.count)
    }

    @Test("a YAML syntax error names its line")
    func syntaxError() {
        let document = FleetParser.parse(FleetFixtures.replacing(5, with: "  listeners: [fd://, tcp://0.0.0.0:2376"))
        #expect(document.spec == nil)
        let first = document.diagnostics.first
        #expect(first?.description.hasPrefix("fleet.yaml:") == true)
        #expect(first?.message.contains("not valid YAML") == true)
    }

    @Test("every error is reported in one run, not just the first")
    func allErrorsAtOnce() {
        var lines = FleetFixtures.validLines
        lines[1] = "fleet: Prod"
        lines[4] = "  listeners: [tcp://0.0.0.0]"
        lines[10] = "    policy: often"
        let (_, diagnostics) = check(lines.joined(separator: "\n"))
        let fields = Set(diagnostics.filter { $0.severity == .error }.map(\.field))
        #expect(fields.isSuperset(of: ["fleet", "defaults.listeners[0]", "defaults.restart.policy"]))
    }

    @Test("insecure: true on a host is accepted with a warning")
    func insecureWarns() {
        let yaml = FleetFixtures.replacing(17, with: "    addresses: [10.0.0.5]\n    insecure: true")
        let (document, diagnostics) = check(yaml)
        #expect(document.spec?.host(named: "web-1")?.insecure == true)
        #expect(diagnostics.filter { $0.severity == .error }.isEmpty)
        #expect(diagnostics.contains { $0.severity == .warning && $0.field == "hosts.web-1.insecure" })
    }

    @Test("a missing CA file is an error on the ca field")
    func missingCA() {
        let document = FleetParser.parse(FleetFixtures.validYAML)
        let diagnostics = FleetValidator.validate(document, repositoryFiles: ["clients/alice.pem", "clients/ci.pem"])
        #expect(diagnostics.contains { $0.field == "ca" && $0.location?.line == 3 })
    }

    @Test("an empty hosts mapping and an empty file")
    func emptyShapes() {
        let minimal = "apiVersion: berth/v1\nfleet: lab\nhosts: {}\n"
        let (doc, diagnostics) = check(minimal)
        #expect(doc.spec?.hosts.isEmpty == true)
        #expect(diagnostics.isEmpty)
        #expect(FleetParser.parse("").spec == nil)
    }
}

@Suite("the shipped example")
struct ExampleFleetTests {
    @Test("examples/fleet.yaml parses and validates with no finding")
    func exampleParses() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/fleet.yaml")
        let document = FleetParser.parse(try String(contentsOf: url, encoding: .utf8))
        let diagnostics = FleetValidator.validate(document, repositoryFiles: FleetFixtures.repositoryFiles)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(document.spec?.hosts.map(\.name) == ["web-1", "build-1"])
    }
}
