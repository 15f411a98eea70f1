import BerthHost

extension Output {
    /// Under systemd, when standard error is the journal (``JournalStream``), each line of an
    /// error gets syslog's priority prefix as the log does (``JournalLogHandler``): `<4>` for a
    /// line that is a warning (`warning: …`, `FILE:LINE:COL: warning: …`), `<3>` for the others,
    /// so `journalctl -p err` shows a bad agent.yaml too. Elsewhere the text is unchanged.
    static func journalPrefixed(_ text: String, journal: Bool = JournalStream.standardErrorIsJournal) -> String {
        guard journal else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            (line.hasPrefix("warning: ") || line.contains(": warning: ") ? "<4>" : "<3>") + line
        }.joined(separator: "\n")
    }
}
