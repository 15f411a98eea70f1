import BerthCore
import Foundation

/// Finds dockerd flags that reach the command line through the unit's environment.
///
/// Debian's docker.service runs `dockerd ... $DOCKER_OPTS` and reads `/etc/default/docker`;
/// the drop-in keeps that variable (it is the packager's), so `DOCKER_OPTS="-H tcp://0.0.0.0:2375"`
/// would open an unauthenticated socket while the host reports in-sync. Such `-H`/`--tls*`
/// flags are conflicts, refused like daemon.json's `hosts`, naming the file and the variable.
public enum EnvironmentFiles {
    /// Conflicts for the variables `arguments` (the packaged command line Berth keeps) expands.
    public static func conflicts(unit: UnitState, arguments: [String], root: String) -> [Conflict] {
        let used = Set(arguments.flatMap(referencedVariables))
        guard !used.isEmpty else { return [] }
        // Environment= first, then each EnvironmentFile= in order: later assignments win, as in systemd.
        var values: [String: (value: String, file: String)] = [:]
        for assignment in unit.environment {
            if let (key, value) = split(assignment) { values[key] = (value, "Environment= of docker.service") }
        }
        var out: [Conflict] = []
        for file in unit.environmentFiles {
            let path = file.hasPrefix("-") ? String(file.dropFirst()) : file
            do {
                guard let text = try BoundedFile.readText(HostLayout.path(path, under: root), limit: BoundedFile.documentLimit, display: path) else { continue }
                for (key, value) in parse(text) { values[key] = (value, path) }
            } catch {
                out.append(Conflict(.environmentFile, file: path, "\(error); systemd reads it when dockerd starts"))
            }
        }
        for name in used.sorted() {
            guard let (value, file) = values[name] else { continue }
            let flags = ownedFlags(in: words(value))
            if !flags.isEmpty {
                out.append(Conflict(.environmentFile, file: file,
                    "\(name) sets \(flags.joined(separator: " ")), which dockerd gets on top of Berth's drop-in: a listener or TLS setting Berth does not manage. Remove it from \(name) and let fleet.yaml's listeners say it"))
            }
        }
        return out
    }

    /// `$NAME` and `${NAME}` in a word of the command line.
    static func referencedVariables(_ word: String) -> [String] {
        var out: [String] = []
        var rest = Substring(word)
        while let dollar = rest.firstIndex(of: "$") {
            rest = rest[rest.index(after: dollar)...]
            if rest.first == "{" {
                guard let close = rest.firstIndex(of: "}") else { break }
                out.append(String(rest[rest.index(after: rest.startIndex)..<close]))
                rest = rest[rest.index(after: close)...]
            } else {
                let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                if !name.isEmpty { out.append(String(name)) }
                rest = rest.dropFirst(name.count)
            }
        }
        return out
    }

    /// The `-H`/`--host`/`--tls*` flags among dockerd arguments, with their values. dockerd's
    /// flag parser takes combined short flags (`-DH tcp://…` is `-D -H tcp://…`), so every
    /// letter of a single-dash word is looked at.
    static func ownedFlags(in words: [String]) -> [String] {
        var out: [String] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            let next = index + 1 < words.count ? words[index + 1] : nil
            if word.hasPrefix("--") {
                let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
                if DockerFlags.ownedTakingValue.contains(name) {
                    if word.contains("=") || next == nil { out.append(word) } else {
                        out.append("\(word) \(next!)")
                        index += 1
                    }
                } else if DockerFlags.ownedBoolean.contains(name) {
                    out.append(word)
                }
            } else if word.hasPrefix("-"), let h = word.dropFirst().firstIndex(of: "H") {
                let value = word[word.index(after: h)...].drop { $0 == "=" }
                if value.isEmpty, let next {
                    out.append("\(word) \(next)")
                    index += 1
                } else {
                    out.append(word)
                }
            }
            index += 1
        }
        return out
    }

    /// `KEY=VALUE` assignments of an environment file, as systemd reads them: comments, blank
    /// lines, an optional `export`, single or double quotes, backslash-continued lines.
    public static func parse(_ text: String) -> [(String, String)] {
        var out: [(String, String)] = []
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = pending + raw
            if line.hasSuffix("\\") { pending = String(line.dropLast()); continue }
            pending = ""
            line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            if let (key, value) = split(line) { out.append((key, unquote(value))) }
        }
        return out
    }

    static func split(_ assignment: String) -> (String, String)? {
        guard let eq = assignment.firstIndex(of: "=") else { return nil }
        let key = assignment[..<eq].trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        return (key, String(assignment[assignment.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
    }

    static func unquote(_ value: String) -> String {
        guard value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first else { return value }
        return String(value.dropFirst().dropLast())
    }

    /// Splits a value into words on whitespace, honouring quotes.
    public static func words(_ value: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in value {
            if let q = quote {
                if character == q { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
