import ArgumentParser
import BerthCore

extension Env {
    /// The shells `berthctl env` writes for, as `docker-machine env` did, and how each one quotes a
    /// value so that it arrives unchanged whatever it holds: a client directory under a home with
    /// spaces, quotes or `$` in its path must not be split, expanded or cut short.
    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, fish, powershell, cmd

        /// The line that sets `name` to `value` in this shell.
        func export(_ name: String, _ value: String) throws -> String {
            switch self {
            case .bash: return "export \(name)=\(Self.posixQuoted(value))"
            case .fish: return "set -gx \(name) \(Self.fishQuoted(value));"
            case .powershell: return "$Env:\(name) = \(Self.powershellQuoted(value))"
            case .cmd:
                // Run through the FOR /f line of the hint, SET takes the rest of the line as it is
                // (cmd parses `&`, `|`, `%` and quotes of the loop's text once, before the loop
                // runs), so the value is written bare. Only a line break cannot be carried.
                if value.contains(where: \.isNewline) {
                    throw BerthError(.invalidInput, "\(name) \"\(value)\" holds a line break, which cmd's SET cannot carry; use --shell powershell, or a path without one")
                }
                return "SET \(name)=\(value)"
            }
        }

        /// The line that removes `name` (cmd cannot remove a variable; an empty one is the same to docker).
        func unset(_ name: String) -> String {
            switch self {
            case .bash: return "unset \(name)"
            case .fish: return "set -e \(name);"
            case .powershell: return "Remove-Item Env:\\\(name)"
            case .cmd: return "SET \(name)="
            }
        }

        /// The comment lines that say how to load the output into this shell.
        func hint(_ command: String) -> String {
            switch self {
            case .bash: return "# Run this command to configure your shell:\n# eval \"$(\(command))\""
            case .fish: return "# Run this command to configure your shell:\n# eval (\(command))"
            case .powershell: return "# Run this command to configure your shell:\n# & \(command) | Invoke-Expression"
            case .cmd: return "REM Run this command to configure your shell:\nREM     @FOR /f \"tokens=*\" %i IN ('\(command)') DO @%i"
            }
        }

        /// POSIX shells (sh, bash, zsh): single quotes keep everything literal, line breaks too;
        /// a single quote itself is closed, escaped and reopened: `'\''`.
        static func posixQuoted(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }

        /// fish: inside single quotes only `\\` and `\'` are escapes.
        static func fishQuoted(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }

        /// PowerShell: single-quoted strings expand nothing (no `$`, no backtick); a quote is
        /// doubled, and PowerShell counts the typographic single quotes as quotes too.
        static func powershellQuoted(_ value: String) -> String {
            var quoted = "'"
            for character in value {
                if ["'", "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}"].contains(character) { quoted.append(character) }
                quoted.append(character)
            }
            return quoted + "'"
        }
    }
}
