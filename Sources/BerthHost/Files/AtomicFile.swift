import BerthCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes files so that no reader ever sees a partial one, whatever moment the writer dies:
/// a temporary file in the same directory, `fsync`, `rename` over the target, `fsync` of the
/// directory. The target and its directory are checked first, and a symlink is refused, never
/// followed: a managed path that became a link is an attack or a mistake, not something to write through.
public enum AtomicFile {
    /// Writes `contents` to `path` with `mode` (and owner root when running as root).
    /// Missing parent directories are created with `directoryMode`.
    public static func write(_ contents: [UInt8], to path: String, mode: UInt16, directoryMode: UInt16 = 0o755) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try makeDirectories(directory, mode: directoryMode)
        try refuseSymlink(path)
        let name = (path as NSString).lastPathComponent
        var template = Array("\(directory)/.\(name).berth-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw posixError("create a temporary file next to \(path)") }
        let tempPath = String(cString: template)
        var renamed = false
        defer {
            if !renamed { unlink(tempPath) }
        }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode_t(mode)) == 0 else { throw posixError("chmod \(tempPath)") }
            if geteuid() == 0 { _ = fchown(fd, 0, 0) }
            var offset = 0
            while offset < contents.count {
                let written = contents.withUnsafeBytes { raw in
                    Glibc.write(fd, raw.baseAddress! + offset, contents.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw posixError("write \(tempPath)")
                }
                offset += written
            }
            guard fsync(fd) == 0 else { throw posixError("fsync \(tempPath)") }
        }
        guard rename(tempPath, path) == 0 else { throw posixError("rename \(tempPath) to \(path)") }
        renamed = true
        try syncDirectory(directory)
    }

    public static func write(_ text: String, to path: String, mode: UInt16, directoryMode: UInt16 = 0o755) throws {
        try write(Array(text.utf8), to: path, mode: mode, directoryMode: directoryMode)
    }

    /// Removes a file if it exists (refusing to act on a symlink's target) and syncs the directory.
    public static func remove(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard unlink(path) == 0 else { throw posixError("remove \(path)") }
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Throws if `path` or any of its parent directories is a symbolic link.
    public static func refuseSymlink(_ path: String) throws {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            var st = stat()
            if lstat(current, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
                // The root tree of a test or chroot may itself sit under a link (e.g. /tmp); only
                // links at or below a managed directory matter, which callers pass as `path`.
                if current == path || isManaged(current) {
                    throw BerthError(.symlinkRefused, "\(current) is a symbolic link; Berth never writes through links. Remove it (rm \(current)) and run again")
                }
            }
        }
    }

    /// Paths below the directories Berth manages, where a symlink is never legitimate.
    static func isManaged(_ path: String) -> Bool {
        [HostLayout.dropInDir, HostLayout.tlsDir, HostLayout.stateDir].contains { path.hasSuffix($0) || path.contains($0 + "/") }
    }

    public static func makeDirectories(_ path: String, mode: UInt16) throws {
        var st = stat()
        if lstat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFLNK && isManaged(path) {
                throw BerthError(.symlinkRefused, "\(path) is a symbolic link; Berth never writes through links. Remove it and run again")
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if parent != path && !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode_t(mode)) != 0 && errno != EEXIST { throw posixError("create directory \(path)") }
    }

    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw posixError("open directory \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw posixError("fsync directory \(path)") }
    }

    public static func posixError(_ action: String) -> BerthError {
        BerthError(.io, "cannot \(action): \(String(cString: strerror(errno)))")
    }
}

/// What is on disk at a managed path, observed without following links.
public struct FileState: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case missing
        case regular(contents: [UInt8], mode: UInt16, uid: UInt32, gid: UInt32)
        case symlink(target: String)
        case other
    }

    public var path: String
    public var kind: Kind

    public static func observe(_ path: String) -> FileState {
        var st = stat()
        guard lstat(path, &st) == 0 else { return FileState(path: path, kind: .missing) }
        switch st.st_mode & S_IFMT {
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: 4097)
            let n = readlink(path, &buffer, 4096)
            return FileState(path: path, kind: .symlink(target: n > 0 ? String(cString: Array(buffer[0..<n]) + [0]) : "?"))
        case S_IFREG:
            let fd = open(path, O_RDONLY | O_NOFOLLOW)
            guard fd >= 0 else { return FileState(path: path, kind: .other) }
            defer { close(fd) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            return FileState(path: path, kind: .regular(contents: bytes, mode: UInt16(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid))
        default:
            return FileState(path: path, kind: .other)
        }
    }

    public var contents: [UInt8]? {
        if case .regular(let contents, _, _, _) = kind { return contents }
        return nil
    }
}
