import BerthCore
import Testing

@Suite("text from hosts made safe for a terminal")
struct TerminalTextTests {
    @Test("control characters are shown as \\xNN and bidirectional controls as \\u{NNNN}", arguments: [
        ("\u{1B}[2J", "\\x1b[2J"),
        ("bell\u{07}", "bell\\x07"),
        ("\u{0}", "\\x00"),
        ("\r", "\\x0d"),
        ("\u{7F}", "\\x7f"),
        ("\u{80}\u{85}\u{9B}\u{9F}", "\\x80\\x85\\x9b\\x9f"),
        ("a\u{202E}gnp.exe", "a\\u{202e}gnp.exe"),
        ("\u{202A}\u{202B}\u{202C}\u{202D}", "\\u{202a}\\u{202b}\\u{202c}\\u{202d}"),
        ("\u{2066}x\u{2067}y\u{2068}z\u{2069}", "\\u{2066}x\\u{2067}y\\u{2068}z\\u{2069}"),
    ])
    func escapes(_ text: String, _ shown: String) {
        #expect(TerminalText.escape(text) == shown)
        #expect(TerminalText.line(text) == shown)
    }

    @Test("newlines and tabs are kept in multi-line text and escaped in a line")
    func newlines() {
        #expect(TerminalText.escape("a\nb\tc") == "a\nb\tc")
        #expect(TerminalText.line("a\nb\tc") == "a\\x0ab\\x09c")
        #expect(TerminalText.escape("a\nb", keepingNewlines: false) == "a\\x0ab")
    }

    @Test("printable text, accents, symbols and other scripts pass unchanged", arguments: [
        "", "web-1: in-sync", "naïve café", "✓ ✗ →", "𝄞 🐳", "مرحبا", "日本語", "\u{00A0}non-breaking", "\u{A0}\u{FF}",
    ])
    func printable(_ text: String) {
        #expect(TerminalText.escape(text) == text)
        #expect(TerminalText.line(text) == text)
    }

    @Test("a string of every code point below 0x100 keeps only printable ones raw")
    func allLowCodePoints() {
        let all = String(String.UnicodeScalarView((0..<0x100).compactMap(Unicode.Scalar.init)))
        let line = TerminalText.line(all)
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) })
        #expect(line.contains(" !\"#$%&'()*+,-./0123456789"))
        #expect(line.contains("\\x1f !"))
        #expect(line.contains("~\\x7f\\x80"))
        #expect(line.contains("\\x9f\u{A0}¡¢£"), "from U+00A0 on, Latin-1 is printable")
    }
}
