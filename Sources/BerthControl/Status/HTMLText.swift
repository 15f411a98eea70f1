/// Text from a report, made safe to place in an HTML page.
///
/// Reports come from hosts, and a host may be hostile: `<script>` in a message, a quote that
/// would end an attribute, an ampersand that starts an entity. Every `&`, `<`, `>`, `"` and `'`
/// becomes an entity, so the result is safe both as element text and inside a quoted attribute.
/// Control characters (C0, DEL, C1) and bidirectional overrides are shown as `\xNN` and
/// `\u{NNNN}`, as ``TerminalText`` shows them on a terminal: a page must not hide or reorder
/// text either. Newlines and tabs are kept only where a multi-line field (a diff, a journal) is
/// shown in a `<pre>`.
public enum HTMLText {
    public static func escape(_ text: String, keepingNewlines: Bool = false) -> String {
        var out = ""
        escape(text, keepingNewlines: keepingNewlines, into: &out)
        return out
    }

    /// Appends the escaped text to `out`: the page is one growing string, so at 10,000 hosts no
    /// cell makes a string of its own.
    public static func escape(_ text: String, keepingNewlines: Bool = false, into out: inout String) {
        // Most fields (host names, revisions, states) need nothing: append them whole.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x26 && $0 != 0x3c && $0 != 0x3e && $0 != 0x22 && $0 != 0x27 }) {
            out += text
            return
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            switch value {
            case 0x26: out += "&amp;"
            case 0x3c: out += "&lt;"
            case 0x3e: out += "&gt;"
            case 0x22: out += "&quot;"
            case 0x27: out += "&#39;"
            case 0x0a where keepingNewlines, 0x09 where keepingNewlines: out.unicodeScalars.append(scalar)
            case 0..<0x20, 0x7f, 0x80...0x9f: out += "\\x" + hex(value, width: 2)
            case 0x202a...0x202e, 0x2066...0x2069: out += "\\u{" + hex(value, width: 4) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
