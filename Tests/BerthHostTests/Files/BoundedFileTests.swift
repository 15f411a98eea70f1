import BerthCore
import BerthHost
import Foundation
import Testing
import TestSupport

@Suite("bounded reads of files someone else controls")
struct BoundedFileTests {
    let root: TemporaryDirectory

    init() throws {
        root = try TemporaryDirectory("berth-bounded")
    }

    /// Runs `body`, expecting a BerthError, and checks it came back within a second (nothing blocked).
    func refusal(_ body: () throws -> Void) -> BerthError? {
        let clock = ContinuousClock()
        let start = clock.now
        defer { #expect(clock.now - start < .seconds(1), "the read blocked") }
        do {
            try body()
            Issue.record("expected a refusal")
            return nil
        } catch let error as BerthError {
            return error
        } catch {
            Issue.record("expected a BerthError, got \(error)")
            return nil
        }
    }

    @Test("a regular file is read whole, up to and including the limit")
    func readsRegularFile() throws {
        let path = try root.write("fleet.yaml", "fleet: prod\n")
        #expect(try BoundedFile.read(path, limit: 1024) == Array("fleet: prod\n".utf8))
        #expect(try BoundedFile.readText(path, limit: 12) == "fleet: prod\n")
        let empty = try root.write("empty", "")
        #expect(try BoundedFile.read(empty, limit: 0) == [])

        let big = [UInt8](repeating: 0x61, count: 200_000)
        try Data(big).write(to: root.url("big"))
        #expect(try BoundedFile.read(root.file("big"), limit: 200_000) == big)
    }

    @Test("a missing file, or one under a missing directory or under a file, is nil")
    func missingIsNil() throws {
        #expect(try BoundedFile.read(root.file("nothing"), limit: 10) == nil)
        #expect(try BoundedFile.readText(root.file("no/such/dir"), limit: 10) == nil)
        let file = try root.write("plain", "x")
        #expect(try BoundedFile.read("\(file)/below", limit: 10) == nil)
    }

    @Test("a symlink is refused, even one to a regular file or to /dev/zero, and the refusal is immediate",
          arguments: ["/dev/zero", "/etc/hostname", "relative-target", "/nonexistent"])
    func symlinkRefused(_ target: String) throws {
        let link = root.file("certs/web-1.pem")
        try FileManager.default.createDirectory(atPath: root.file("certs"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let error = refusal { _ = try BoundedFile.read(link, limit: BoundedFile.pemLimit, display: "certs/web-1.pem") }
        #expect(error?.code == .symlinkRefused)
        #expect(error?.message.hasPrefix("certs/web-1.pem is a symbolic link") == true, "\(error?.message ?? "")")
    }

    @Test("a FIFO is refused without blocking on its open")
    func fifoRefused() throws {
        let fifo = root.file("fleet.yaml")
        #expect(mkfifo(fifo, 0o644) == 0)
        let error = refusal { _ = try BoundedFile.readText(fifo, limit: BoundedFile.documentLimit, display: "fleet.yaml") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "fleet.yaml is not a regular file; replace it with one")
    }

    @Test("a device and a directory are refused", arguments: ["/dev/zero", "/dev/null", "/tmp"])
    func notRegularRefused(_ path: String) throws {
        let error = refusal { _ = try BoundedFile.read(path, limit: 1 << 20) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("is not a regular file") == true)
    }

    @Test("a file over the limit is refused with a message naming its size and the limit")
    func overLimit() throws {
        try Data(repeating: 0x61, count: 5000).write(to: root.url("ca.pem"))
        let error = refusal { _ = try BoundedFile.read(root.file("ca.pem"), limit: 4096, display: "ca.pem") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "ca.pem is 4.9 KiB; it may be at most 4 KiB")

        try Data(repeating: 0x61, count: 3 << 20).write(to: root.url("fleet.yaml"))
        let big = refusal { _ = try BoundedFile.readText(root.file("fleet.yaml"), limit: BoundedFile.documentLimit, display: "fleet.yaml") }
        #expect(big?.message == "fleet.yaml is 3.0 MiB; it may be at most 1.0 MiB")

        try Data(repeating: 0x61, count: 4097).write(to: root.url("one-over"))
        #expect(refusal { _ = try BoundedFile.read(root.file("one-over"), limit: 4096) }?.code == .invalidInput)
    }

    @Test("without a display name the message names the path")
    func messageNamesPath() throws {
        try Data(repeating: 0x61, count: 100).write(to: root.url("x"))
        let error = refusal { _ = try BoundedFile.read(root.file("x"), limit: 10) }
        #expect(error?.message.hasPrefix(root.file("x") + " is 100 bytes") == true, "\(error?.message ?? "")")
    }

    struct BadText: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var location: String
        var byte: String
        var testDescription: String { name }
    }

    static let badTexts: [BadText] = [
        BadText(name: "a lone 0xff on line 2", bytes: Array("ok\nab".utf8) + [0xff] + Array("\n".utf8), location: "2:3", byte: "0xff"),
        BadText(name: "Latin-1 é on line 1", bytes: Array("caf".utf8) + [0xe9], location: "1:4", byte: "0xe9"),
        BadText(name: "a truncated sequence at the end", bytes: Array("a\nb\nxyz".utf8) + [0xe2, 0x82], location: "3:4", byte: "0xe2"),
        BadText(name: "an overlong encoding of /", bytes: Array("x: ".utf8) + [0xc0, 0xaf], location: "1:4", byte: "0xc0"),
        BadText(name: "a UTF-16 surrogate", bytes: Array("\n\n".utf8) + [0xed, 0xa0, 0x80], location: "3:1", byte: "0xed"),
        BadText(name: "a continuation byte alone after valid multibyte text", bytes: Array("€\n€".utf8) + [0x80], location: "2:4", byte: "0x80"),
    ]

    @Test("text that is not UTF-8 is refused with file:LINE:COL of the first bad byte", arguments: badTexts)
    func notUTF8(_ bad: BadText) throws {
        try Data(bad.bytes).write(to: root.url("fleet.yaml"))
        let error = refusal { _ = try BoundedFile.readText(root.file("fleet.yaml"), limit: 1024, display: "fleet.yaml") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "fleet.yaml:\(bad.location): byte \(bad.byte) is not UTF-8; save the file as UTF-8")
    }

    @Test("valid UTF-8, multibyte included, decodes unchanged")
    func validUTF8() throws {
        let text = "naïve: ✓ 𝄞\n"
        #expect(try UTF8Text.decode(Array(text.utf8), file: "f") == text)
    }

    @Test("sizes read as bytes, KiB or MiB", arguments: [
        (0, "0 bytes"), (512, "512 bytes"), (1023, "1023 bytes"), (1024, "1 KiB"), (1536, "1.5 KiB"),
        (65536, "64 KiB"), (1 << 20, "1.0 MiB"), (3 << 19, "1.5 MiB"), (2 << 20, "2.0 MiB"),
    ])
    func byteCount(_ bytes: Int, _ text: String) {
        #expect(ByteCount.format(bytes) == text)
    }
}
