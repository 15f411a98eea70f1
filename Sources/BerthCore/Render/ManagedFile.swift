/// A file Berth owns on a host: its exact bytes, mode and what a change to it means.
public struct ManagedFile: Sendable, Equatable {
    public enum Role: String, Sendable, Codable, CaseIterable {
        case dropIn = "drop-in"
        case serverCertificate = "server-certificate"
        case clientBundle = "client-bundle"
        case fleetCA = "fleet-ca"
        /// dockerd's copy of the host's key, beside its certificate. Only the agent adds it;
        /// its contents never appear in a diff, a plan or a report.
        case serverKey = "server-key"
    }

    /// Absolute path on the host (join with a root to write it).
    public var path: String
    public var contents: [UInt8]
    public var mode: UInt16
    public var role: Role

    public init(path: String, contents: [UInt8], mode: UInt16, role: Role) {
        self.path = path
        self.contents = contents
        self.mode = mode
        self.role = role
    }

    public init(path: String, text: String, mode: UInt16, role: Role) {
        self.init(path: path, contents: Array(text.utf8), mode: mode, role: role)
    }

    public var text: String { String(decoding: contents, as: UTF8.self) }

    /// dockerd reads these when it starts: a change means a restart. `ca.pem` is only for the agent's own checks.
    public var restartsDocker: Bool { role != .fleetCA }

    /// systemd must `daemon-reload` after this file changes.
    public var isUnitFile: Bool { role == .dropIn }

    /// Whether the contents may never be shown (diffs, plans, reports).
    public var isSecret: Bool { role == .serverKey }

    /// The bytes that matter for comparison: a drop-in without its revision line, so a commit that
    /// changes nothing for this host changes nothing on it.
    public var comparableContents: [UInt8] {
        isUnitFile ? Array(DropIn.comparableContents(text).utf8) : contents
    }

    /// SHA-256 over a whole set (paths, modes, comparable contents): the identity of "this
    /// desired content", which quarantine and last-known-good are keyed by.
    public static func contentHash(of files: [ManagedFile]) -> String {
        var bytes: [UInt8] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            bytes += Array("\(file.path)\n\(String(file.mode, radix: 8))\n\(file.comparableContents.count)\n".utf8)
            bytes += file.comparableContents
        }
        return ContentID.sha256Hex(bytes)
    }
}
