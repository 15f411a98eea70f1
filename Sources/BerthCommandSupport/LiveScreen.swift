import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A screen redrawn in place, as `watch(1)` does, for `berthctl status --watch`.
///
/// Each frame starts at the top left (`ESC[H`), ends every line with erase-to-end-of-line
/// (`ESC[K`) and the frame with erase-below (`ESC[J`): what was there is overwritten, never
/// cleared first, so the screen does not flash, and a line or frame shorter than the last one
/// leaves nothing of it behind. Lines are cut to the terminal's width and the frame to its
/// height, so nothing wraps or scrolls and the next frame lands on the same rows. The cursor is
/// hidden while drawing and shown again when the process ends on SIGINT, SIGTERM or SIGHUP
/// (exit 128 + the signal, as a shell reports it).
///
/// When standard output is not a terminal, frames are printed one after another instead,
/// each followed by a blank line: a log of a watch, with no control sequences in it.
public final class LiveScreen: @unchecked Sendable {
    public let isTerminal: Bool
    private let fd: Int32
    private var started = false
    private var signalSources: [any DispatchSourceSignal] = []

    public init(fd: Int32 = STDOUT_FILENO) {
        self.fd = fd
        isTerminal = isatty(fd) == 1
    }

    /// The terminal's rows and columns (24 × 80 when it does not say).
    public var size: (rows: Int, columns: Int) {
        var ws = winsize()
        guard isTerminal, ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0, ws.ws_col > 0 else { return (24, 80) }
        return (Int(ws.ws_row), Int(ws.ws_col))
    }

    /// Draws one frame (lines separated by `\n`).
    public func draw(_ frame: String) {
        var lines = frame.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard isTerminal else {
            write(lines.joined(separator: "\n") + "\n\n")
            return
        }
        if !started { start() }
        let (rows, columns) = size
        if lines.count > rows {
            let hidden = lines.count - (rows - 1)
            lines = Array(lines.prefix(rows - 1)) + ["… \(hidden) more line\(hidden == 1 ? "" : "s"): enlarge the terminal, or see them all with --html"]
        }
        var out = "\u{1B}[H"
        for (number, line) in lines.enumerated() {
            if number > 0 { out += "\r\n" }
            out += line.count > columns ? String(line.prefix(columns)) : line
            out += "\u{1B}[K"
        }
        out += "\u{1B}[J"
        write(out)
    }

    /// Clears the screen once, hides the cursor and restores it when a signal ends the process.
    private func start() {
        started = true
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [fd] in
                let restore = Array("\u{1B}[?25h\r\n".utf8)
                _ = restore.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                // _exit, not exit: this runs on a dispatch thread while the watch's task may be
                // drawing or running git; exit's atexit handlers and destructors would race it.
                _exit(128 + number)
            }
            source.resume()
            signalSources.append(source)
        }
        write("\u{1B}[?25l\u{1B}[2J")
    }

    /// Shows the cursor again (when the watch ends other than by a signal).
    public func finish() {
        if started { write("\u{1B}[?25h\r\n") }
    }

    private func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
