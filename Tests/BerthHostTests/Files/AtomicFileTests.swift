import BerthCore
import BerthHost
import Foundation
import Testing
import TestSupport

@Suite("atomic writes of managed files")
struct AtomicFileTests {
    let root: TemporaryDirectory

    init() throws {
        root = try TemporaryDirectory("berth-atomic")
    }

    func entries(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    func mode(_ path: String) -> UInt16 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        return UInt16(st.st_mode & 0o7777)
    }

    func inode(_ path: String) -> UInt64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        return UInt64(st.st_ino)
    }

    func berthError(_ body: () throws -> Void) -> BerthError? {
        do {
            try body()
            return nil
        } catch let error as BerthError {
            return error
        } catch {
            Issue.record("expected a BerthError, got \(error)")
            return nil
        }
    }

    @Test("a new file gets its contents and exactly the mode asked for, and missing directories are made")
    func writesNewFile() throws {
        let path = root.file("etc/docker/berth/server-key.pem")
        try AtomicFile.write("secret\n", to: path, mode: 0o600, directoryMode: 0o700)
        #expect(try root.read("etc/docker/berth/server-key.pem") == "secret\n")
        #expect(mode(path) == 0o600)
        #expect(mode(root.file("etc/docker/berth")) == 0o700)
        #expect(mode(root.file("etc/docker")) == 0o700)
    }

    @Test("the mode is set whatever the umask would give", arguments: [UInt16(0o644), 0o600, 0o640, 0o444, 0o755])
    func modeIsExact(_ wanted: UInt16) throws {
        let path = root.file("f")
        try AtomicFile.write([0x61], to: path, mode: wanted)
        #expect(mode(path) == wanted)
    }

    @Test("an existing file is replaced by a new one: a hard link to the old one still sees the old contents")
    func replacesAtomically() throws {
        let path = try root.write("dir/file.conf", "old contents\n", mode: 0o644)
        let old = inode(path)
        #expect(link(path, root.file("dir/old-link")) == 0)
        try AtomicFile.write("new contents\n", to: path, mode: 0o600)
        #expect(try root.read("dir/file.conf") == "new contents\n")
        #expect(mode(path) == 0o600)
        #expect(inode(path) != old, "the file was written in place, not replaced by rename")
        #expect(try root.read("dir/old-link") == "old contents\n")
    }

    @Test("no temporary file is left behind after writes, and the content is complete")
    func noTemporaryFiles() throws {
        let dir = root.file("etc/docker/berth")
        let big = [UInt8]((0..<300_000).map { UInt8($0 % 251) })
        for round in 0..<3 {
            try AtomicFile.write(big + [UInt8(round)], to: "\(dir)/clients-0123456789abcdef.pem", mode: 0o644)
            try AtomicFile.write("x\(round)", to: "\(dir)/ca.pem", mode: 0o644)
        }
        #expect(try entries(dir) == ["ca.pem", "clients-0123456789abcdef.pem"])
        #expect(FileState.observe("\(dir)/clients-0123456789abcdef.pem").contents == big + [2])
    }

    @Test("a write that fails at the rename removes its temporary file and says what failed")
    func failedRenameCleansUp() throws {
        let dir = root.file("d")
        try FileManager.default.createDirectory(atPath: "\(dir)/target/inner", withIntermediateDirectories: true)
        let error = berthError { try AtomicFile.write("x", to: "\(dir)/target", mode: 0o644) }
        #expect(error?.code == .io)
        #expect(error?.message.contains("rename") == true, "\(error?.message ?? "")")
        #expect(try entries(dir) == ["target"])
    }

    @Test("a symlink at the target is refused and the file it points to is untouched")
    func symlinkAtTargetRefused() throws {
        let victim = try root.write("victim/shadow", "root:x:0:0\n", mode: 0o644)
        let dir = root.file("etc/docker/berth")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/ca.pem", withDestinationPath: victim)

        let error = berthError { try AtomicFile.write("attacker\n", to: "\(dir)/ca.pem", mode: 0o644) }
        #expect(error?.code == .symlinkRefused)
        #expect(error?.message.contains("\(dir)/ca.pem is a symbolic link") == true, "\(error?.message ?? "")")
        #expect(try root.read("victim/shadow") == "root:x:0:0\n")
        #expect(mode(victim) == 0o644)
        #expect(FileState.observe("\(dir)/ca.pem").kind == .symlink(target: victim))
        #expect(try entries(dir) == ["ca.pem"], "a temporary file was left behind")
    }

    @Test("a symlink at the target is refused even outside the managed directories")
    func symlinkAtUnmanagedTargetRefused() throws {
        let victim = try root.write("victim", "keep\n")
        try FileManager.default.createSymbolicLink(atPath: root.file("link"), withDestinationPath: victim)
        #expect(berthError { try AtomicFile.write("x", to: root.file("link"), mode: 0o644) }?.code == .symlinkRefused)
        #expect(try root.read("victim") == "keep\n")
    }

    @Test("a managed directory that is a symlink is refused, whether the file exists behind it or not",
          arguments: ["etc/docker/berth", "etc/systemd/system/docker.service.d", "var/lib/berth"])
    func symlinkedManagedDirectoryRefused(_ managed: String) throws {
        let elsewhere = root.file("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try root.write("elsewhere/existing", "keep\n")
        let link = root.file(managed)
        try FileManager.default.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: elsewhere)

        for name in ["existing", "new-file", "keys/server-key.pem"] {
            let error = berthError { try AtomicFile.write("attacker\n", to: "\(link)/\(name)", mode: 0o600) }
            #expect(error?.code == .symlinkRefused, "\(name): \(String(describing: error))")
            #expect(error?.message.contains(link) == true, "\(error?.message ?? "")")
        }
        #expect(try entries(elsewhere) == ["existing"])
        #expect(try root.read("elsewhere/existing") == "keep\n")
        #expect(berthError { try AtomicFile.refuseSymlink("\(link)/existing") }?.code == .symlinkRefused)
        #expect(berthError { try AtomicFile.makeDirectories("\(link)/sub", mode: 0o755) }?.code == .symlinkRefused)
        #expect(!FileManager.default.fileExists(atPath: "\(elsewhere)/sub"))
    }

    @Test("a link above the managed tree (like a scratch root under a linked /tmp) is followed")
    func linkAboveManagedTreeAllowed() throws {
        try FileManager.default.createDirectory(atPath: root.file("real"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.file("rootlink"), withDestinationPath: root.file("real"))
        let path = root.file("rootlink/etc/docker/berth/ca.pem")
        try AtomicFile.write("ca\n", to: path, mode: 0o644)
        #expect(try root.read("real/etc/docker/berth/ca.pem") == "ca\n")
        try AtomicFile.refuseSymlink(path)
    }

    @Test("removing a missing file is fine; removing a symlink removes the link, not its target")
    func remove() throws {
        try AtomicFile.remove(root.file("never-was"))
        try AtomicFile.remove(root.file("no-such-dir/never-was"))

        let path = try root.write("etc/docker/berth/old.pem", "old\n")
        try AtomicFile.remove(path)
        #expect(!root.exists("etc/docker/berth/old.pem"))

        let victim = try root.write("victim", "keep\n")
        try FileManager.default.createSymbolicLink(atPath: root.file("etc/docker/berth/link.pem"), withDestinationPath: victim)
        try AtomicFile.remove(root.file("etc/docker/berth/link.pem"))
        #expect(FileState.observe(root.file("etc/docker/berth/link.pem")).kind == .missing)
        #expect(try root.read("victim") == "keep\n")
    }

    @Test("makeDirectories makes every missing level and accepts what exists")
    func makeDirectories() throws {
        let deep = root.file("a/b/c/d")
        try AtomicFile.makeDirectories(deep, mode: 0o750)
        #expect(mode(deep) == 0o750)
        #expect(mode(root.file("a")) == 0o750)
        try AtomicFile.makeDirectories(deep, mode: 0o700)
        #expect(mode(deep) == 0o750, "an existing directory is left as it is")
    }

    @Test("FileState sees a missing path, a link (without following it), a regular file with its mode and owner, and other kinds")
    func observe() throws {
        #expect(FileState.observe(root.file("missing")).kind == .missing)
        #expect(FileState.observe(root.file("missing")).contents == nil)

        let file = try root.write("file", "hello\n", mode: 0o640)
        let state = FileState.observe(file)
        #expect(state.kind == .regular(contents: Array("hello\n".utf8), mode: 0o640, uid: geteuid(), gid: getegid()))
        #expect(state.contents == Array("hello\n".utf8))
        #expect(state.path == file)

        let empty = try root.write("empty", "")
        #expect(FileState.observe(empty).contents == [])

        try FileManager.default.createSymbolicLink(atPath: root.file("link"), withDestinationPath: "/dev/zero")
        #expect(FileState.observe(root.file("link")).kind == .symlink(target: "/dev/zero"))
        #expect(FileState.observe(root.file("link")).contents == nil)

        let fifo = root.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(FileState.observe(fifo).kind == .other)
        #expect(clock.now - start < .seconds(1))

        try FileManager.default.createDirectory(atPath: root.file("dir"), withIntermediateDirectories: true)
        #expect(FileState.observe(root.file("dir")).kind == .other)
    }
}
