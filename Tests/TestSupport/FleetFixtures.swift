import Foundation

/// Known-good desired state and the table of bad variants every layer is tested against.
public enum FleetFixtures {
    /// The example of docs/fleet-yaml.md, one key per line so bad variants can replace a line and know where the error is.
    public static let validLines = [
        "apiVersion: berth/v1",                              // 1
        "fleet: prod",                                       // 2
        "ca: ca.pem",                                        // 3
        "defaults:",                                         // 4
        "  listeners: [fd://, tcp://0.0.0.0:2376]",          // 5
        "  clients: [alice, ci]",                            // 6
        "  tls:",                                            // 7
        "    serverCertDays: 90",                            // 8
        "    renewBefore: 30d",                              // 9
        "  restart:",                                        // 10
        "    policy: when-safe",                             // 11
        "    window: \"Sun 02:00-04:00 UTC\"",               // 12
        "  daemon:",                                         // 13
        "    labels: [env=prod]",                            // 14
        "hosts:",                                            // 15
        "  web-1:",                                          // 16
        "    addresses: [10.0.0.5, web-1.example.com]",      // 17
        "  web-2:",                                          // 18
        "    addresses: auto",                               // 19
        "    clients: [alice]",                              // 20
    ]

    public static var validYAML: String { validLines.joined(separator: "\n") + "\n" }

    /// A small fleet for the agent's pass on a scratch root: restarts `always`, client alice,
    /// `hosts` as name and flow-style addresses (`[10.0.0.5]`, `auto`). Tests edit it by
    /// replacing `restart: {policy: always}`.
    public static func scratchFleet(listeners: String = "[fd://, tcp://0.0.0.0:2376]", hosts: KeyValuePairs<String, String> = ["web-1": "[10.0.0.5]"]) -> String {
        var lines = ["apiVersion: berth/v1", "fleet: prod", "defaults:", "  listeners: \(listeners)", "  clients: [alice]",
                     "  restart: {policy: always}", "hosts:"]
        for (name, addresses) in hosts { lines += ["  \(name):", "    addresses: \(addresses)"] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The valid file with line `line` (1-based) replaced; the replacement may span several lines.
    public static func replacing(_ line: Int, with text: String) -> String {
        var lines = validLines
        lines[line - 1] = text
        return lines.joined(separator: "\n") + "\n"
    }

    /// Files the valid fixture refers to, relative to the repository root.
    public static let repositoryFiles: Set<String> = ["fleet.yaml", "ca.pem", "clients/alice.pem", "clients/ci.pem"]

    public struct BadCase: Sendable, CustomStringConvertible {
        public var name: String
        public var yaml: String
        public var line: Int
        public var field: String
        /// A fragment of the message that says what would be valid.
        public var hint: String

        public var description: String { name }
    }

    static func bad(_ name: String, line: Int, _ replacement: String, field: String, hint: String, at errorLine: Int? = nil) -> BadCase {
        BadCase(name: name, yaml: replacing(line, with: replacement), line: errorLine ?? line, field: field, hint: hint)
    }

    /// Bad `fleet.yaml` inputs: each must be refused with `fleet.yaml:LINE:` and its field path.
    public static let badCases: [BadCase] = [
        bad("unsupported apiVersion", line: 1, "apiVersion: berth/v2", field: "apiVersion", hint: "write apiVersion: berth/v1"),
        bad("unknown top-level key", line: 3, "cert: ca.pem", field: "cert", hint: "valid keys here are"),
        bad("fleet name with capitals and underscore", line: 2, "fleet: Prod_1", field: "fleet", hint: "e.g. prod-1"),
        bad("ca path escaping the repository", line: 3, "ca: ../ca.pem", field: "ca", hint: "relative path inside the repository"),
        bad("misspelt defaults key", line: 5, "  listener: [fd://]", field: "defaults.listener", hint: "did you mean \"listeners\""),
        bad("tcp listener without port", line: 5, "  listeners: [fd://, tcp://0.0.0.0]", field: "defaults.listeners[1]", hint: "write tcp://0.0.0.0:2376"),
        bad("unsupported listener scheme", line: 5, "  listeners: [http://0.0.0.0:2375]", field: "defaults.listeners[0]", hint: "fd://[NAME], unix:///abs/path or tcp://ADDR:PORT"),
        bad("relative unix socket path", line: 5, "  listeners: [unix://docker.sock]", field: "defaults.listeners[0]", hint: "write unix:///var/run/NAME.sock"),
        bad("duplicate listener", line: 5, "  listeners: [fd://, tcp://0.0.0.0:2376, tcp://0.0.0.0:2376]", field: "defaults.listeners[2]", hint: "remove one"),
        bad("port out of range", line: 5, "  listeners: [tcp://0.0.0.0:70000]", field: "defaults.listeners[0]", hint: "1 to 65535"),
        bad("empty listener list", line: 5, "  listeners: []", field: "defaults.listeners", hint: "at least [fd://]"),
        bad("listeners given as a string", line: 5, "  listeners: fd://", field: "defaults.listeners", hint: "expected a list"),
        bad("IPv6 listener without brackets", line: 5, "  listeners: [\"tcp://fd00::1:2376\"]", field: "defaults.listeners[0]", hint: "in brackets"),
        bad("tcp listener without address", line: 5, "  listeners: [\"tcp://:2376\"]", field: "defaults.listeners[0]", hint: "write tcp://0.0.0.0:2376"),
        bad("client without a certificate", line: 6, "  clients: [alice, bob]", field: "defaults.clients[1]", hint: "berthctl client new bob"),
        bad("path-like client name", line: 6, "  clients: [alice, ../../etc/passwd]", field: "defaults.clients[1]", hint: "[a-z0-9][a-z0-9.-]*"),
        bad("client listed twice", line: 6, "  clients: [alice, alice]", field: "defaults.clients[1]", hint: "remove one"),
        bad("serverCertDays not a number", line: 8, "    serverCertDays: ninety", field: "defaults.tls.serverCertDays", hint: "whole number of days"),
        bad("serverCertDays zero", line: 8, "    serverCertDays: 0", field: "defaults.tls.serverCertDays", hint: "from 1 to 3650"),
        bad("renewBefore with a spelled-out unit", line: 9, "    renewBefore: 30 days", field: "defaults.tls.renewBefore", hint: "e.g. 30d or 12h"),
        bad("renewBefore longer than the certificate", line: 9, "    renewBefore: 100d", field: "defaults.tls.renewBefore", hint: "smaller than serverCertDays"),
        bad("autoSign with a bad block", line: 9, "    renewBefore: 30d\n    autoSign: [10.0.0.0/33]", field: "defaults.tls.autoSign[0]", hint: "e.g. 10.0.0.0/8", at: 10),
        bad("unknown restart policy", line: 11, "    policy: sometimes", field: "defaults.restart.policy", hint: "always, when-safe or manual"),
        bad("window in a local time zone", line: 12, "    window: \"Sun 02:00-04:00 CET\"", field: "defaults.restart.window", hint: "only UTC"),
        bad("window with a long day name", line: 12, "    window: \"Sunday 02:00-04:00 UTC\"", field: "defaults.restart.window", hint: "Mon-Fri"),
        bad("window with an impossible hour", line: 12, "    window: \"Sun 02:00-25:00 UTC\"", field: "defaults.restart.window", hint: "HH:MM-HH:MM"),
        bad("label without a value", line: 14, "    labels: [env]", field: "defaults.daemon.labels[0]", hint: "KEY=VALUE"),
        bad("insecure set fleet-wide", line: 14, "    labels: [env=prod]\n  insecure: true", field: "defaults.insecure", hint: "per host", at: 15),
        bad("addresses in defaults", line: 14, "    labels: [env=prod]\n  addresses: [10.0.0.1]", field: "defaults.addresses", hint: "belong to a host", at: 15),
        bad("host name with capitals", line: 16, "  Web_1:", field: "hosts.Web_1", hint: "e.g. web-1"),
        bad("path traversal in a host name", line: 16, "  ../web-1:", field: "hosts.../web-1", hint: "[a-z0-9][a-z0-9.-]*"),
        bad("address that is not an IP or name", line: 17, "    addresses: [10.0.0.500]", field: "hosts.web-1.addresses[0]", hint: "neither an IP address nor a DNS name"),
        bad("loopback address", line: 17, "    addresses: [127.0.0.1]", field: "hosts.web-1.addresses[0]", hint: "loopback"),
        bad("address listed twice", line: 17, "    addresses: [10.0.0.5, 10.0.0.5]", field: "hosts.web-1.addresses[1]", hint: "remove one"),
        bad("misspelt host key", line: 17, "    adresses: [10.0.0.5]", field: "hosts.web-1.adresses", hint: "did you mean \"addresses\""),
        bad("addresses neither list nor auto", line: 19, "    addresses: automatic", field: "hosts.web-2.addresses", hint: "or auto"),
        bad("host client without a certificate", line: 20, "    clients: [mallory]", field: "hosts.web-2.clients[0]", hint: "clients/mallory.pem"),
        bad("insecure that is not a boolean", line: 19, "    addresses: auto\n    insecure: yes", field: "hosts.web-2.insecure", hint: "true or false", at: 20),
        bad("tcp listener on a host with no addresses", line: 20, "    clients: [alice]\n  web-3: {}", field: "hosts.web-3", hint: "mutual TLS", at: 21),
        BadCase(name: "hosts given as a list", yaml: (validLines[0..<14] + ["hosts: [web-1]"]).joined(separator: "\n") + "\n",
                line: 15, field: "hosts", hint: "expected a mapping of host names"),
        bad("per-host restart policy misspelt", line: 20, "    clients: [alice]\n    restart: {policy: When-Safe}", field: "hosts.web-2.restart.policy", hint: "always, when-safe or manual", at: 21),
        bad("unknown daemon key", line: 14, "    label: [env=prod]", field: "defaults.daemon.label", hint: "valid keys here are labels"),
    ]
}
