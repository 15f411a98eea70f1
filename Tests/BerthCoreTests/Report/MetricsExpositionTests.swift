import BerthCore
import Foundation
import Testing
import TestSupport

@Suite("Prometheus text exposition")
struct MetricsExpositionTests {
    @Test("a family is HELP, TYPE, then its samples; an empty family is left out")
    func layout() {
        var m = MetricsExposition()
        m.add("berth_test_total", .counter, help: "Things counted.", value: 3)
        m.add("berth_test_nothing", .gauge, help: "Never written.", [])
        m.add("berth_test_by_kind", .gauge, help: "By kind.", [.init([("kind", "a")], 1), .init([("kind", "b")], 0.25)])
        #expect(m.text == """
            # HELP berth_test_total Things counted.
            # TYPE berth_test_total counter
            berth_test_total 3
            # HELP berth_test_by_kind By kind.
            # TYPE berth_test_by_kind gauge
            berth_test_by_kind{kind="a"} 1
            berth_test_by_kind{kind="b"} 0.25

            """)
    }

    @Test("label values are escaped: backslash, double quote and line feed; UTF-8 stays as it is",
          arguments: [
            ("plain", "plain"),
            ("a\"b", "a\\\"b"),
            ("back\\slash", "back\\\\slash"),
            ("two\nlines", "two\\nlines"),
            ("\\\"\n", "\\\\\\\"\\n"),
            ("héllo ✓ {x=\"y\"}", "héllo ✓ {x=\\\"y\\\"}"),
          ])
    func labelEscaping(_ raw: String, _ escaped: String) {
        #expect(MetricsExposition.escapeLabelValue(raw) == escaped)
    }

    @Test("what the escaping makes of hostile values is what Prometheus's own parser accepts")
    func hostileValuesPassPromtool() async throws {
        var m = MetricsExposition()
        let hostile = ["web-1\"} 1\nberth_fake 1", "\\", "\"", "a\\nb", "\u{1b}[2J", "} 0\n# TYPE x counter", "ünï © 😀"]
        m.add("berth_test_info", .gauge, help: "Hostile label values \\ \"quoted\"\nover two lines.",
              hostile.enumerated().map { .init([("value", $0.element), ("index", "\($0.offset)")], 1) })
        let lines = m.text.split(separator: "\n")
        #expect(lines.count == 2 + hostile.count, "a value broke out of its line:\n\(m.text)")
        #expect(!m.text.contains("\nberth_fake"))
        try await Promtool.check(m.text)
    }

    @Test("one-hot: every case has a sample, exactly the current one is 1")
    func oneHot() throws {
        var m = MetricsExposition()
        let states = HostState.allCases.map(\.rawValue)
        m.oneHot("berth_test_state", help: "State.", label: "state", cases: states, current: "rolled-back", labels: [("host", "web-1")])
        let samples = m.text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(samples.count == states.count)
        #expect(samples.filter { $0.hasSuffix(" 1") } == ["berth_test_state{host=\"web-1\",state=\"rolled-back\"} 1"])
        #expect(samples.filter { $0.hasSuffix(" 0") }.count == states.count - 1)

        var none = MetricsExposition()
        none.oneHot("berth_test_state", help: "State.", label: "state", cases: states, current: nil)
        #expect(!none.text.contains("} 1\n"), "no current case: every sample is 0")
    }

    @Test("values: whole numbers without a fraction, timestamps exact, the special values spelled as the format says",
          arguments: [
            (0.0, "0"), (3.0, "3"), (-2.0, "-2"), (0.25, "0.25"), (1767225600.0, "1767225600"), (1767225600.5, "1767225600.5"),
            (Double.nan, "NaN"), (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (1e20, "1e+20"),
          ])
    func values(_ value: Double, _ text: String) {
        #expect(MetricsExposition.format(value) == text)
    }

    @Test("metric and label names follow the format's rules", arguments: [
        ("berth_agent_state", true, true), ("a:b", true, false), ("_x", true, true), ("9x", false, false),
        ("x-y", false, false), ("", false, false), ("__name", true, false), ("état", false, false),
    ])
    func names(_ name: String, _ metric: Bool, _ label: Bool) {
        #expect(MetricsExposition.isValidName(name) == metric)
        #expect(MetricsExposition.isValidLabelName(name) == label)
    }

    @Test("HELP text keeps to one line")
    func help() {
        #expect(MetricsExposition.escapeHelp("a\\b\nc \"d\"") == "a\\\\b\\nc \"d\"")
    }
}
