import BerthCore
import Foundation

/// Reads inputs that someone else controls (a fleet repository, a report directory) without
/// trusting them: a regular file only (a symlink, a FIFO or `/dev/zero` is refused, so a read
/// cannot follow a link or never end), at most `limit` bytes, opened with `O_NOFOLLOW` and
/// `O_NONBLOCK` so not even the open can hang.
public enum BoundedFile {
    /// fleet.yaml and reports.
    public static let documentLimit = 1 << 20
    /// Certificates and other PEM files of the repository.
    public static let pemLimit = 64 << 10

    /// The file's bytes; nil when nothing is there. Throws with a message naming `display` when
    /// it is a link, not a regular file, or larger than `limit`.
    public static func read(_ path: String, limit: Int, display: String? = nil) throws -> [UInt8]? {
        let name = display ?? path
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw BerthError(.io, "cannot read \(name): \(String(cString: strerror(errno)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK:
            throw BerthError(.symlinkRefused, "\(name) is a symbolic link; Berth reads only regular files here. Replace the link with the file itself")
        default:
            throw BerthError(.invalidInput, "\(name) is not a regular file; replace it with one")
        }
        guard Int(info.st_size) <= limit else {
            throw BerthError(.invalidInput, "\(name) is \(ByteCount.format(Int(info.st_size))); it may be at most \(ByteCount.format(limit))")
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw BerthError(.io, "cannot open \(name): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // Checked again on the open file: it may have been swapped since lstat.
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw BerthError(.invalidInput, "\(name) is not a regular file; replace it with one")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BerthError(.io, "cannot read \(name): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > limit {
                throw BerthError(.invalidInput, "\(name) grew past \(ByteCount.format(limit)) while it was read; it may be at most that")
            }
        }
        return bytes
    }

    /// The file as UTF-8 text. Throws naming the line of the first byte that is not UTF-8.
    public static func readText(_ path: String, limit: Int, display: String? = nil) throws -> String? {
        guard let bytes = try read(path, limit: limit, display: display) else { return nil }
        return try UTF8Text.decode(bytes, file: display ?? path)
    }
}

/// Strict UTF-8 decoding that says where the text went wrong.
public enum UTF8Text {
    public static func decode(_ bytes: [UInt8], file: String) throws -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Find the line of the first invalid sequence.
        var line = 1
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            let length = sequenceLength(bytes, at: index)
            if length == 0 {
                throw BerthError(.invalidInput, "\(file):\(line):\(index - lineStart + 1): byte 0x\(String(bytes[index], radix: 16)) is not UTF-8; save the file as UTF-8")
            }
            if bytes[index] == 0x0a { line += 1; lineStart = index + 1 }
            index += length
        }
        throw BerthError(.invalidInput, "\(file) is not UTF-8; save it as UTF-8")
    }

    /// The length of the valid UTF-8 sequence at `index`, or 0 when it is not valid.
    static func sequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let first = bytes[index]
        let length: Int
        switch first {
        case 0x00...0x7f: return 1
        case 0xc2...0xdf: length = 2
        case 0xe0...0xef: length = 3
        case 0xf0...0xf4: length = 4
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        return String(validating: bytes[index..<(index + length)], as: UTF8.self) == nil ? 0 : length
    }
}

/// Sizes for messages: `2.0 MiB`, `64 KiB`, `512 bytes`.
public enum ByteCount {
    public static func format(_ bytes: Int) -> String {
        if bytes >= 1 << 20 { return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
        if bytes >= 1 << 10 { return bytes % 1024 == 0 ? "\(bytes >> 10) KiB" : String(format: "%.1f KiB", Double(bytes) / 1024) }
        return "\(bytes) bytes"
    }
}
