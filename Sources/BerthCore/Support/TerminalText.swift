/// Text from a report, made safe to print on an operator's terminal.
///
/// Reports come from hosts, and a host may be hostile: an escape sequence in a message could
/// rewrite the screen, hide a line or set the terminal's title. Every control character (C0,
/// DEL, C1) is shown as `\xNN`, and bidirectional overrides as `\u{NNNN}`; newlines and tabs
/// are kept only where a multi-line field (a diff, a journal) is printed as lines.
public enum TerminalText {
    public static func escape(_ text: String, keepingNewlines: Bool = true) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if keepingNewlines && (value == 0x0a || value == 0x09) {
                out.unicodeScalars.append(scalar)
            } else if value < 0x20 || value == 0x7f || (0x80...0x9f).contains(value) {
                out += "\\x" + hex(value, width: 2)
            } else if (0x202a...0x202e).contains(value) || (0x2066...0x2069).contains(value) {
                out += "\\u{" + hex(value, width: 4) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One line for a table cell: newlines and tabs are escaped too.
    public static func line(_ text: String) -> String { escape(text, keepingNewlines: false) }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
