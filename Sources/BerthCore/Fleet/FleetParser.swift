import Yams

/// The result of parsing `fleet.yaml`: the spec if it could be built, where each field was
/// written (for later cross-checks to point at), and every finding so far.
public struct FleetDocument: Sendable {
    public var file: String
    public var spec: FleetSpec?
    /// Field path (`hosts.web-1.clients[0]`) → where its value was written.
    public var locations: [String: SourceLocation]
    /// Field path → where its key was written (for mapping entries).
    public var keyLocations: [String: SourceLocation] = [:]
    public var diagnostics: [Diagnostic]
    /// What could be built despite errors (nil only when the YAML itself did not parse): lets an
    /// agent go on when every error lies in another host's entry (``FleetRepository/loadValid(for:)``).
    public var partialSpec: FleetSpec?

    public func location(_ field: String) -> SourceLocation? {
        if let exact = locations[field] { return exact }
        // Fall back to the nearest enclosing field that was written.
        var path = field
        while let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) {
            path = String(path[..<cut])
            if let loc = locations[path] { return loc }
        }
        return SourceLocation(file: file, line: 1, column: 1)
    }
}

/// Turns `fleet.yaml` text into a ``FleetSpec``, strictly: unknown keys, wrong types and
/// malformed values are errors with `file:line:column`, the field path and what would be valid.
/// It keeps going after an error so an operator sees every problem in one run.
public enum FleetParser {
    public static func parse(_ text: String, file: String = "fleet.yaml") -> FleetDocument {
        let context = ParseContext(file: file)
        if let anchor = YAMLAnchorCheck.first(in: text) {
            let what = anchor.isAlias ? "an alias (*name)" : "an anchor (&name)"
            let diagnostic = Diagnostic(.error, at: SourceLocation(file: file, line: anchor.line, column: anchor.column), field: "",
                                        "\(what): YAML anchors and aliases are not accepted in \(file); write each value out")
            return FleetDocument(file: file, spec: nil, locations: [:], diagnostics: [diagnostic], partialSpec: nil)
        }
        let root: Node?
        do {
            // The basic resolver: every plain scalar stays a string, and Berth reads each field
            // itself. Yams' default resolver compiles its regular expressions (ICU) at first use:
            // a fifth of a no-op pass's instructions, for tags nothing here reads.
            root = try Yams.compose(yaml: text, .basic)
        } catch {
            context.yamlError(error)
            return context.document(spec: nil)
        }
        guard let root else {
            context.error(nil, field: "", "the file is empty; start from `berthctl init` or write apiVersion: \(FleetSpec.apiVersion), fleet: NAME, hosts: {}")
            return context.document(spec: nil)
        }
        let spec = context.parseFleet(root)
        var document = context.document(spec: context.hasErrors ? nil : spec)
        document.partialSpec = spec
        return document
    }
}

/// Mutable state of one parse: findings and locations. Lives only inside `FleetParser.parse`.
private final class ParseContext {
    let file: String
    var diagnostics: [Diagnostic] = []
    var locations: [String: SourceLocation] = [:]
    var keyLocations: [String: SourceLocation] = [:]

    init(file: String) { self.file = file }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    func document(spec: FleetSpec?) -> FleetDocument {
        FleetDocument(file: file, spec: spec, locations: locations, keyLocations: keyLocations, diagnostics: diagnostics)
    }

    func loc(_ node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    func error(_ node: Node?, field: String, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: loc(node), field: field, message))
    }

    func warning(_ node: Node?, field: String, _ message: String) {
        diagnostics.append(Diagnostic(.warning, at: loc(node), field: field, message))
    }

    func yamlError(_ error: any Error) {
        var location = SourceLocation(file: file, line: 1, column: 1)
        var problem = "\(error)"
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(_, let p, let mark, _), .parser(_, let p, let mark, _), .composer(_, let p, let mark, _):
                location = SourceLocation(file: file, line: mark.line, column: mark.column)
                problem = p
            case .duplicatedKeysInMapping(let duplicates, let context):
                location = SourceLocation(file: file, line: context.mark.line, column: context.mark.column)
                problem = "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")); each key may appear once"
            default:
                break
            }
        }
        diagnostics.append(Diagnostic(.error, at: location, field: "", "not valid YAML: \(problem)"))
    }

    // MARK: Shapes

    /// The mapping's entries with string keys, reporting unknown or duplicate keys.
    func mapping(_ node: Node, field: String, allowed: [String]) -> [(key: String, keyNode: Node, value: Node)]? {
        guard let mapping = node.mapping else {
            error(node, field: field, "expected a mapping of \(allowed.joined(separator: ", ")); got \(kind(node))")
            return nil
        }
        var seen = Set<String>()
        var out: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                error(keyNode, field: field, "keys must be plain strings")
                continue
            }
            let path = field.isEmpty ? key : "\(field).\(key)"
            guard allowed.contains(key) else {
                let close = allowed.min { editDistance($0.lowercased(), key.lowercased()) < editDistance($1.lowercased(), key.lowercased()) }
                    .flatMap { editDistance($0.lowercased(), key.lowercased()) <= 2 ? $0 : nil }
                let hint = close.map { "did you mean \"\($0)\"? " } ?? ""
                error(keyNode, field: path, "unknown key \"\(key)\"; \(hint)valid keys here are \(allowed.joined(separator: ", "))")
                continue
            }
            guard seen.insert(key).inserted else {
                error(keyNode, field: path, "duplicate key \"\(key)\"; each key may appear once")
                continue
            }
            locations[path] = loc(value)
            keyLocations[path] = loc(keyNode)
            out.append((key, keyNode, value))
        }
        return out
    }

    /// Levenshtein distance, for "did you mean" hints on misspelt keys.
    func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }

    func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return s.style == .plain && ["", "~", "null"].contains(s.string) ? "nothing" : "the scalar \"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func string(_ node: Node, field: String, example: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error(node, field: field, "expected a string such as \(example); got \(kind(node))")
            return nil
        }
        if scalar.style == .plain && (scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null") {
            error(node, field: field, "is empty; write a value such as \(example)")
            return nil
        }
        return scalar.string
    }

    func list(_ node: Node, field: String, example: String) -> [(index: Int, node: Node)]? {
        guard case .sequence(let seq) = node else {
            error(node, field: field, "expected a list such as \(example); got \(kind(node))")
            return nil
        }
        return seq.enumerated().map { index, item in
            locations["\(field)[\(index)]"] = loc(item)
            return (index, item)
        }
    }

    func stringList(_ node: Node, field: String, example: String) -> [(field: String, node: Node, value: String)]? {
        guard let items = list(node, field: field, example: example) else { return nil }
        var out: [(String, Node, String)] = []
        for (index, item) in items {
            let path = "\(field)[\(index)]"
            if let text = string(item, field: path, example: example) { out.append((path, item, text)) }
        }
        return out
    }

    // MARK: The document

    func parseFleet(_ root: Node) -> FleetSpec? {
        guard let entries = mapping(root, field: "", allowed: ["apiVersion", "fleet", "ca", "defaults", "hosts"]) else {
            return nil
        }
        var spec = FleetSpec(fleet: "")
        var sawAPIVersion = false, sawFleet = false
        for (key, _, value) in entries {
            switch key {
            case "apiVersion":
                sawAPIVersion = true
                if let v = string(value, field: key, example: FleetSpec.apiVersion), v != FleetSpec.apiVersion {
                    error(value, field: key, "\"\(v)\" is not supported; write apiVersion: \(FleetSpec.apiVersion)")
                }
            case "fleet":
                sawFleet = true
                if let name = string(value, field: key, example: "prod") {
                    if ResourceName.isValid(name) { spec.fleet = name }
                    else { error(value, field: key, "\"\(name)\" is not a valid fleet name; use \(ResourceName.rule), e.g. \(ResourceName.suggestion(for: name))") }
                }
            case "ca":
                if let path = string(value, field: key, example: "ca.pem") {
                    if RepositoryPath.isSafe(path) { spec.ca = path }
                    else { error(value, field: key, "\"\(path)\" must be a relative path inside the repository, without \"..\"; write ca: ca.pem") }
                }
            case "defaults":
                spec.defaults = parseSettings(value, field: "defaults", allowHostKeys: false).settings
            case "hosts":
                spec.hosts = parseHosts(value)
            default:
                break
            }
        }
        if !sawAPIVersion { error(root, field: "apiVersion", "is missing; write apiVersion: \(FleetSpec.apiVersion) at the top") }
        if !sawFleet { error(root, field: "fleet", "is missing; name the fleet, e.g. fleet: prod") }
        return spec
    }

    func parseHosts(_ node: Node) -> [HostEntry] {
        if case .scalar(let s) = node, s.style == .plain, s.string.isEmpty || s.string == "~" || s.string == "null" {
            return []
        }
        guard let mapping = node.mapping else {
            error(node, field: "hosts", "expected a mapping of host names to their settings, e.g. hosts: { web-1: { addresses: [10.0.0.5] } }; got \(kind(node))")
            return []
        }
        var hosts: [HostEntry] = []
        var seen = Set<String>()
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else {
                error(keyNode, field: "hosts", "host names must be plain strings")
                continue
            }
            let field = "hosts.\(name)"
            locations[field] = loc(keyNode)
            keyLocations[field] = loc(keyNode)
            guard ResourceName.isValid(name) else {
                error(keyNode, field: field, "\"\(name)\" is not a valid host name; use \(ResourceName.rule), e.g. \(ResourceName.suggestion(for: name))")
                continue
            }
            guard seen.insert(name).inserted else {
                error(keyNode, field: field, "host \"\(name)\" is declared twice; merge the two entries")
                continue
            }
            var entry = HostEntry(name: name)
            if case .scalar(let s) = value, s.style == .plain, s.string.isEmpty || s.string == "~" {
                hosts.append(entry)
                continue
            }
            let parsed = parseSettings(value, field: field, allowHostKeys: true)
            entry.settings = parsed.settings
            entry.addresses = parsed.addresses
            entry.insecure = parsed.insecure
            entry.retired = parsed.retired
            hosts.append(entry)
        }
        return hosts
    }

    static let settingKeys = ["listeners", "clients", "tls", "restart", "daemon"]

    func parseSettings(_ node: Node, field: String, allowHostKeys: Bool) -> (settings: HostSettings, addresses: HostAddresses?, insecure: Bool, retired: Bool) {
        var settings = HostSettings()
        var addresses: HostAddresses?
        var insecure = false
        var retired = false
        let allowed = allowHostKeys ? ["addresses", "insecure", "retired"] + Self.settingKeys : Self.settingKeys + ["insecure", "addresses", "retired"]
        guard let entries = mapping(node, field: field, allowed: allowed) else { return (settings, nil, false, false) }
        for (key, keyNode, value) in entries {
            let path = "\(field).\(key)"
            switch key {
            case "listeners": settings.listeners = parseListeners(value, field: path)
            case "clients": settings.clients = parseClientNames(value, field: path)
            case "tls": parseTLS(value, field: path, into: &settings)
            case "restart": parseRestart(value, field: path, into: &settings)
            case "daemon": parseDaemon(value, field: path, into: &settings)
            case "addresses":
                if allowHostKeys { addresses = parseAddresses(value, field: path) }
                else { error(keyNode, field: path, "addresses belong to a host, not to defaults; move them under hosts.NAME.addresses (or use addresses: auto there)") }
            case "insecure":
                if !allowHostKeys {
                    error(keyNode, field: path, "insecure is set per host, never fleet-wide; move it under the one host that needs plain TCP")
                } else if case .scalar(let s) = value, s.string == "true" || s.string == "false" {
                    insecure = s.string == "true"
                    if insecure {
                        warning(value, field: path, "this host's tcp:// listeners are served WITHOUT TLS: anyone who can reach them controls dockerd")
                    }
                } else {
                    error(value, field: path, "expected true or false; got \(kind(value))")
                }
            case "retired":
                if !allowHostKeys {
                    error(keyNode, field: path, "retired is set per host, never fleet-wide; retire one host with `berthctl host retire NAME`")
                } else if case .scalar(let s) = value, s.string == "true" || s.string == "false" {
                    retired = s.string == "true"
                } else {
                    error(value, field: path, "expected true or false; got \(kind(value))")
                }
            default: break
            }
        }
        return (settings, addresses, insecure, retired)
    }

    func parseListeners(_ node: Node, field: String) -> [Listener]? {
        guard let items = stringList(node, field: field, example: "[fd://, tcp://0.0.0.0:2376]") else { return nil }
        if items.isEmpty {
            error(node, field: field, "is empty, so dockerd would listen nowhere; write at least [fd://]")
            return nil
        }
        var out: [Listener] = []
        var seen: [Listener: String] = [:]
        for (path, item, text) in items {
            switch Listener.parse(text) {
            case .success(let listener):
                if let first = seen[listener] {
                    error(item, field: path, "\"\(text)\" is listed twice (also at \(first)); remove one")
                } else {
                    seen[listener] = path
                    out.append(listener)
                }
            case .failure(let problem):
                error(item, field: path, problem.message)
            }
        }
        let fdCount = out.filter { if case .fd = $0 { return true } else { return false } }.count
        if fdCount > 1 {
            error(node, field: field, "lists fd:// more than once; systemd hands dockerd one socket set, keep one fd:// entry")
        }
        return out
    }

    func parseClientNames(_ node: Node, field: String) -> [String]? {
        guard let items = stringList(node, field: field, example: "[alice, ci]") else { return nil }
        var out: [String] = []
        for (path, item, name) in items {
            if !ResourceName.isValid(name) {
                error(item, field: path, "\"\(name)\" is not a valid client name; use \(ResourceName.rule), e.g. \(ResourceName.suggestion(for: name))")
            } else if out.contains(name) {
                error(item, field: path, "client \"\(name)\" is listed twice; remove one")
            } else {
                out.append(name)
            }
        }
        return out
    }

    func parseAddresses(_ node: Node, field: String) -> HostAddresses? {
        if case .scalar(let s) = node {
            if s.string == "auto" { return .auto }
            error(node, field: field, "expected a list of IPs and DNS names, or auto; got \(kind(node)); write [\(s.string.isEmpty ? "10.0.0.5" : s.string)]")
            return nil
        }
        guard let items = stringList(node, field: field, example: "[10.0.0.5, web-1.example.com]") else { return nil }
        if items.isEmpty {
            error(node, field: field, "is empty; list the host's IPs and DNS names, or write addresses: auto")
            return nil
        }
        var out: [HostAddress] = []
        for (path, item, text) in items {
            guard let address = HostAddress(text) else {
                error(item, field: path, "\"\(text)\" is neither an IP address nor a DNS name; write e.g. 10.0.0.5 or web-1.example.com")
                continue
            }
            if out.contains(address) {
                error(item, field: path, "\"\(text)\" is listed twice; remove one")
            } else if case .ip(let ip) = address, ip.isLoopback {
                error(item, field: path, "\(text) is a loopback address; clients elsewhere cannot reach it, so it cannot be a certificate SAN")
            } else {
                out.append(address)
            }
        }
        return .explicit(out)
    }

    func parseTLS(_ node: Node, field: String, into settings: inout HostSettings) {
        guard let entries = mapping(node, field: field, allowed: ["serverCertDays", "renewBefore", "autoSign"]) else { return }
        for (key, _, value) in entries {
            let path = "\(field).\(key)"
            switch key {
            case "serverCertDays":
                if case .scalar(let s) = value, let days = Int(s.string), s.string.allSatisfy(\.isNumber), (1...3650).contains(days) {
                    settings.serverCertDays = days
                } else {
                    error(value, field: path, "expected a whole number of days from 1 to 3650, e.g. 90; got \(kind(value))")
                }
            case "renewBefore":
                if let text = string(value, field: path, example: "30d") {
                    if let span = TimeSpan.parse(text), span.seconds > 0 { settings.renewBefore = span }
                    else { error(value, field: path, "\"\(text)\" is not a duration; write a number and a unit s, m, h, d or w, e.g. 30d or 12h") }
                }
            case "autoSign":
                guard let items = stringList(value, field: path, example: "[10.0.0.0/8]") else { continue }
                var blocks: [CIDR] = []
                for (itemPath, item, text) in items {
                    if let cidr = CIDR(text) { blocks.append(cidr) }
                    else { error(item, field: itemPath, "\"\(text)\" is not an address block; write e.g. 10.0.0.0/8 or fd00::/8") }
                }
                settings.autoSign = blocks
            default: break
            }
        }
    }

    func parseRestart(_ node: Node, field: String, into settings: inout HostSettings) {
        guard let entries = mapping(node, field: field, allowed: ["policy", "window"]) else { return }
        for (key, _, value) in entries {
            let path = "\(field).\(key)"
            switch key {
            case "policy":
                if let text = string(value, field: path, example: "when-safe") {
                    if let policy = RestartPolicy(rawValue: text) { settings.restartPolicy = policy }
                    else { error(value, field: path, "\"\(text)\" is not a restart policy; write always, when-safe or manual") }
                }
            case "window":
                if let text = string(value, field: path, example: "\"\(RestartWindow.example)\"") {
                    switch RestartWindow.parse(text) {
                    case .success(let window): settings.restartWindow = window
                    case .failure(let problem): error(value, field: path, problem.message)
                    }
                }
            default: break
            }
        }
    }

    func parseDaemon(_ node: Node, field: String, into settings: inout HostSettings) {
        guard let entries = mapping(node, field: field, allowed: ["labels"]) else { return }
        for (_, _, value) in entries {
            let path = "\(field).labels"
            guard let items = stringList(value, field: path, example: "[env=prod]") else { continue }
            var labels: [String] = []
            for (itemPath, item, text) in items {
                let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let validKey = parts.count == 2 && !parts[0].isEmpty
                    && parts[0].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-/".contains($0)) }
                let validValue = parts.count == 2 && !parts[1].contains(where: { $0.isNewline || $0 == "\"" || $0 == "\\" || $0 == "$" || $0 == "%" })
                if !validKey || !validValue {
                    error(item, field: itemPath, "\"\(text)\" is not a label; write KEY=VALUE with a key of letters, digits, '.', '_', '-' or '/', e.g. env=prod")
                } else if labels.contains(text) {
                    error(item, field: itemPath, "\"\(text)\" is listed twice; remove one")
                } else {
                    labels.append(text)
                }
            }
            settings.labels = labels
        }
    }
}

/// Paths inside the fleet repository that commands may read or write.
public enum RepositoryPath {
    /// Relative, inside the repository, no `..` and nothing hidden tricks like `./` chains.
    public static func isSafe(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\\") else { return false }
        return !path.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == ".." || $0 == "." || $0.isEmpty }
    }
}
