import Foundation

/// Edits `fleet.yaml` as text, so the operator's comments and layout survive `berthctl host add`,
/// `client add` and `client revoke`. Each edit re-parses to find its place; callers re-validate the
/// result before writing it (``FleetRepository/update(_:)`` in BerthHost does).
public struct FleetEditor {
    public private(set) var text: String

    public init(_ text: String) { self.text = text }

    private var lines: [String] {
        get { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        set { text = newValue.joined(separator: "\n") }
    }

    private func document() throws -> FleetDocument {
        let document = FleetParser.parse(text)
        guard document.spec != nil else { throw FleetValidationError(document.diagnostics) }
        return document
    }

    // MARK: Hosts

    /// Appends a host entry at the end of `hosts:`.
    public mutating func addHost(_ name: String, addresses: [String]?, listeners: [String]?, clients: [String]? = nil) throws {
        let doc = try document()
        if doc.spec!.host(named: name) != nil {
            throw BerthError(.conflict, "host \"\(name)\" is already in fleet.yaml (line \(doc.keyLocations["hosts.\(name)"]?.line ?? 0)); edit it there or remove it first with `berthctl host rm \(name)`")
        }
        var all = lines
        let step = indentStep(all)
        var block = ["\(pad(step))\(name):"]
        if let addresses { block.append("\(pad(2 * step))addresses: \(addresses == ["auto"] ? "auto" : flowList(addresses))") }
        if let listeners { block.append("\(pad(2 * step))listeners: \(flowList(listeners))") }
        if let clients { block.append("\(pad(2 * step))clients: \(flowList(clients))") }
        if block.count == 1 { block[0] += " {}" }

        if let hostsKey = doc.keyLocations["hosts"] {
            let k = hostsKey.line - 1
            // `hosts: {}` or `hosts:` with nothing under it: open a block.
            let afterColon = all[k].drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces)
            if afterColon.hasPrefix("{}") || afterColon.isEmpty || afterColon.hasPrefix("#") || afterColon == "~" || afterColon == "null" {
                if !afterColon.isEmpty && !afterColon.hasPrefix("#") { all[k] = "hosts:" }
                let end = blockEnd(all, keyLine: k)
                all.insert(contentsOf: block, at: end + 1)
            } else if afterColon.hasPrefix("{") {
                throw BerthError(.unitUnparsable, "fleet.yaml:\(k + 1): hosts is written in flow style ({...}); rewrite it as a block mapping to let berthctl edit it")
            } else {
                throw BerthError(.unitUnparsable, "fleet.yaml:\(k + 1): hosts must be a mapping")
            }
        } else {
            if all.last == "" { all.removeLast() }
            all.append("hosts:")
            all += block
            all.append("")
        }
        lines = all
    }

    /// The parsed document and where a host's entry starts, or an error naming the known hosts.
    private func hostKey(_ name: String) throws -> (FleetDocument, SourceLocation) {
        let doc = try document()
        guard let key = doc.keyLocations["hosts.\(name)"] else {
            let known = doc.spec!.hosts.map(\.name)
            throw BerthError(.notFound, "host \"\(name)\" is not in fleet.yaml" + (known.isEmpty ? " (it has no hosts)" : "; known hosts: \(known.joined(separator: ", "))"))
        }
        return (doc, key)
    }

    /// Removes a host's entry and everything under it.
    public mutating func removeHost(_ name: String) throws {
        let (_, key) = try hostKey(name)
        var all = lines
        let k = key.line - 1
        let end = blockEnd(all, keyLine: k)
        all.removeSubrange(k...end)
        lines = all
        if try document().spec!.hosts.isEmpty, let hostsKey = try document().keyLocations["hosts"] {
            var all = lines
            let h = hostsKey.line - 1
            if blockEnd(all, keyLine: h) == h { all[h] = "hosts: {}" }
            lines = all
        }
    }

    /// Marks a host `retired: true`: a new key at the end of its entry, or an existing
    /// `retired:` set to true. The entry keeps every other setting, so un-retiring is deleting the line.
    public mutating func retireHost(_ name: String) throws {
        let (doc, key) = try hostKey(name)
        var all = lines
        let k = key.line - 1
        let hostIndent = all[k].prefix { $0 == " " }.count
        let afterColon = all[k].drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces)
        if afterColon.hasPrefix("{") && !afterColon.hasPrefix("{}") {
            throw BerthError(.unitUnparsable, "fleet.yaml:\(k + 1): hosts.\(name) is written in flow style ({...}); rewrite it as a block mapping to let berthctl edit it, or add retired: true yourself")
        }
        if let existing = doc.keyLocations["hosts.\(name).retired"] {
            let r = existing.line - 1
            let prefix = String(all[r].prefix { $0 == " " })
            all[r] = "\(prefix)retired: true\(trailingComment(all[r]))"
            lines = all
            return
        }
        if afterColon.hasPrefix("{}") || afterColon == "~" || afterColon == "null" {
            all[k] = String(all[k].prefix(hostIndent)) + name + ":"
        }
        let end = blockEnd(all, keyLine: k)
        var childIndent = hostIndent + indentStep(all)
        if end > k, let child = all[(k + 1)...end].first(where: Self.isContent) {
            childIndent = child.prefix { $0 == " " }.count
        }
        all.insert("\(pad(childIndent))retired: true", at: end + 1)
        lines = all
    }

    // MARK: Lists

    /// Sets the list at `field` (`defaults.clients`, `hosts.web-1.clients`, …), creating the key
    /// (and `defaults:` itself) when missing. Only `defaults.*` and `hosts.NAME.*` fields are supported.
    public mutating func setList(_ field: String, to values: [String]) throws {
        let doc = try document()
        var all = lines
        let step = indentStep(all)
        if let key = doc.keyLocations[field] {
            let k = key.line - 1
            let end = blockEnd(all, keyLine: k)
            let prefix = String(all[k].prefix { $0 == " " })
            let keyName = field.split(separator: ".").last!
            let comment = trailingComment(all[k])
            all.replaceSubrange(k...end, with: ["\(prefix)\(keyName): \(flowList(values))\(comment)"])
            lines = all
            return
        }
        let parts = field.split(separator: ".").map(String.init)
        let parentField = parts.dropLast().joined(separator: ".")
        let keyName = parts.last!
        if let parent = doc.keyLocations[parentField] {
            let p = parent.line - 1
            let parentIndent = all[p].prefix { $0 == " " }.count
            let afterColon = all[p].drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces)
            if afterColon.hasPrefix("{}") { all[p] = String(all[p].prefix(parentIndent)) + parts[parts.count - 2] + ":" }
            else if afterColon.hasPrefix("{") {
                throw BerthError(.unitUnparsable, "fleet.yaml:\(p + 1): \(parentField) is written in flow style ({...}); rewrite it as a block mapping to let berthctl edit it")
            }
            let end = blockEnd(all, keyLine: p)
            all.insert("\(pad(parentIndent + step))\(keyName): \(flowList(values))", at: end + 1)
        } else if parentField == "defaults" {
            let insertAt = doc.keyLocations["hosts"].map { $0.line - 1 } ?? all.count
            all.insert(contentsOf: ["defaults:", "\(pad(step))\(keyName): \(flowList(values))"], at: insertAt)
        } else {
            throw BerthError(.notFound, "\(parentField) is not in fleet.yaml")
        }
        lines = all
    }

    // MARK: Text helpers

    private func pad(_ n: Int) -> String { String(repeating: " ", count: n) }

    private static func isContent(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return !trimmed.isEmpty && !trimmed.hasPrefix("#")
    }

    /// The indentation unit the file uses (that of its first indented content line), 2 if none.
    private func indentStep(_ all: [String]) -> Int {
        for line in all where Self.isContent(line) {
            let n = line.prefix { $0 == " " }.count
            if n > 0 { return n }
        }
        return 2
    }

    /// The last line that belongs to the value of the key on line `keyLine`.
    private func blockEnd(_ all: [String], keyLine: Int) -> Int {
        let indent = all[keyLine].prefix { $0 == " " }.count
        var end = keyLine
        var j = keyLine + 1
        while j < all.count {
            let line = all[j]
            if Self.isContent(line) {
                let n = line.prefix { $0 == " " }.count
                let trimmed = line.dropFirst(n)
                if n > indent || (n == indent && trimmed.hasPrefix("- ")) { end = j } else { break }
            }
            j += 1
        }
        return end
    }

    private func trailingComment(_ line: String) -> String {
        guard let hash = line.range(of: " #") else { return "" }
        return "  " + line[hash.lowerBound...].trimmingCharacters(in: .whitespaces)
    }

    private func flowList(_ values: [String]) -> String {
        "[" + values.map(Self.yamlScalar).joined(separator: ", ") + "]"
    }

    /// A value as a flow-context YAML scalar, quoted when plain style would misread it.
    static func yamlScalar(_ value: String) -> String {
        let special = Set("[]{},#&*!|>'\"%@`")
        let needsQuotes = value.isEmpty || value.contains(where: { special.contains($0) }) || value.hasPrefix("-")
            || value.contains(": ") || value.hasSuffix(":") || ["true", "false", "null", "~", "yes", "no"].contains(value.lowercased())
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
