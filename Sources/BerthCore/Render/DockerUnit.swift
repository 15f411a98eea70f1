import Foundation

/// The `docker.service` unit Berth builds its drop-in on: where it was found and its `ExecStart`.
///
/// The drop-in must keep what the packager put on the command line (Debian's `/usr/sbin/dockerd`
/// and `$DOCKER_OPTS`, Docker's `/usr/bin/dockerd`, `--containerd=...`) and replace only the
/// listeners and TLS flags, so the unit is read rather than assumed.
public struct DockerUnit: Sendable, Equatable {
    /// Host path the unit was read from, e.g. `/lib/systemd/system/docker.service`.
    public var path: String
    /// The effective `ExecStart=` command line, split into words the way systemd splits them.
    public var execStart: [String]

    public init(path: String, execStart: [String]) {
        self.path = path
        self.execStart = execStart
    }

    /// Reads the last non-empty `ExecStart=` of the `[Service]` section (an empty one resets the list).
    public static func parse(_ text: String, path: String) throws -> DockerUnit {
        var section = ""
        var execStart: [String]?
        for line in logicalLines(text) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
                section = String(trimmed.dropFirst().dropLast())
                continue
            }
            guard section == "Service", let eq = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            guard key == "ExecStart" else { continue }
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.isEmpty { execStart = nil; continue }
            execStart = try splitWords(value, path: path)
        }
        guard let execStart, !execStart.isEmpty else {
            throw BerthError(.unitUnparsable, "\(path): no ExecStart= in [Service]; Berth needs the packaged dockerd command line to build its drop-in")
        }
        return DockerUnit(path: path, execStart: execStart)
    }

    /// Joins backslash-continued lines, as systemd does.
    static func logicalLines(_ text: String) -> [String] {
        var out: [String] = []
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
            } else {
                out.append(pending + line)
                pending = ""
            }
        }
        if !pending.isEmpty { out.append(pending) }
        return out
    }

    /// Splits a command line into words, honouring single and double quotes.
    static func splitWords(_ line: String, path: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var iterator = line.makeIterator()
        while let ch = iterator.next() {
            if let q = quote {
                if ch == q { quote = nil }
                else if ch == "\\" && q == "\"", let next = iterator.next() { current.append(next) }
                else { current.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch
                inWord = true
            } else if ch == " " || ch == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(ch)
                inWord = true
            }
        }
        if quote != nil {
            throw BerthError(.unitUnparsable, "\(path): ExecStart= has an unclosed quote")
        }
        if inWord { words.append(current) }
        return words
    }

    /// The packaged command line without what Berth owns: every `-H`/`--host` and every `--tls*` flag.
    public var keptArguments: [String] {
        var out: [String] = []
        var skipNext = false
        for word in execStart.dropFirst() {
            if skipNext { skipNext = false; continue }
            if DockerFlags.ownedTakingValue.contains(word) { skipNext = true; continue }
            if DockerFlags.ownedBoolean.contains(word) { continue }
            if DockerFlags.ownedTakingValue.contains(where: { word.hasPrefix($0 + "=") }) { continue }
            if DockerFlags.ownedBoolean.contains(where: { word.hasPrefix($0 + "=") }) { continue }
            if word.hasPrefix("-H") && word.count > 2 && !word.hasPrefix("--") { continue }
            out.append(word)
        }
        return out
    }

    /// The daemon binary with any systemd prefix (`-`, `@`, `+`, `!`, `:`) kept.
    public var binary: String { execStart[0] }
}

/// The `dockerd` flags Berth sets and therefore removes from the packaged command line.
public enum DockerFlags {
    public static let ownedTakingValue: Set<String> = ["-H", "--host", "--tlscacert", "--tlscert", "--tlskey"]
    public static let ownedBoolean: Set<String> = ["--tls", "--tlsverify"]
    /// `daemon.json` keys that clash with these flags: dockerd refuses to start when both say it.
    public static let conflictingDaemonJSONKeys = ["hosts", "tls", "tlsverify", "tlscacert", "tlscert", "tlskey"]
}

/// Built-in copies of the packaged units, for `berthctl render --base` on a machine with no Docker.
public enum PackagedUnit: String, Sendable, CaseIterable {
    /// Debian's docker.io package.
    case debian
    /// Docker's own docker-ce package.
    case docker

    public var unit: DockerUnit {
        switch self {
        case .debian:
            return DockerUnit(path: "/lib/systemd/system/docker.service",
                              execStart: ["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock", "$DOCKER_OPTS"])
        case .docker:
            return DockerUnit(path: "/lib/systemd/system/docker.service",
                              execStart: ["/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"])
        }
    }
}
