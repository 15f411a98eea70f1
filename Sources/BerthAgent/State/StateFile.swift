import BerthCore
import BerthHost
import Foundation

/// One of the agent's JSON state files in `/var/lib/berth` (0700): read defensively, written
/// atomically (temporary file, fsync, rename, fsync of the directory), 0600.
struct StateFile<Value: Codable>: Sendable {
    var path: String

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .berthUTC
        return encoder
    }

    /// The stored value; nil when there is none or it cannot be read (a damaged state file is
    /// treated as absent, never as a reason to stop the agent).
    func read() -> Value? {
        guard let bytes = try? BoundedFile.read(path, limit: 4 << 20) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .berthUTC
        return try? decoder.decode(Value.self, from: Data(bytes))
    }

    func write(_ value: Value) throws {
        try AtomicFile.write(Array(try Self.encoder.encode(value)) + [0x0a], to: path, mode: 0o600, directoryMode: 0o700)
    }

    func remove() throws {
        try AtomicFile.remove(path)
    }
}
