import BerthAgent
import Foundation
import Testing
import TestSupport

/// packaging/agent.yaml, the conffile the Debian package installs as /etc/berth/agent.yaml.
@Suite("the agent.yaml the package ships")
struct ShippedAgentYAMLTests {
    static let path = "\(CLI.packageRoot)/packaging/agent.yaml"

    @Test("as shipped it sets nothing, so flags alone drive a pass")
    func setsNothing() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        var settings = AgentSettings(host: "web-1")
        try settings.apply(configText: text, file: Self.path)
        #expect(settings == AgentSettings(host: "web-1"))
    }

    @Test("each commented-out example is a key agent.yaml accepts, with a value it accepts")
    func examplesAreValid() throws {
        let lines = try String(contentsOfFile: Self.path, encoding: .utf8).split(separator: "\n")
        // An example is `#key: value`, a comment right at the hash; prose has a space after it.
        let examples = lines.filter { $0.hasPrefix("#") && !$0.hasPrefix("# ") && $0.contains(":") && $0.count > 1 }
            .map { String($0.dropFirst()) }
        #expect(examples.count >= 10, "\(examples)")
        for example in examples {
            let key = String(example.prefix { $0 != ":" })
            #expect(AgentSettings.fileKeys.contains(key), "`\(example)`: \(key) is not a key of agent.yaml")
            var settings = AgentSettings(host: "web-1")
            #expect(throws: Never.self, "\(example)") { try settings.apply(configText: example, file: Self.path) }
        }
    }
}
