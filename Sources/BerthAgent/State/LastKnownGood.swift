import BerthCore
import BerthHost
import Foundation

/// The complete set of managed files that last passed verification, with its revision: what a
/// failed restart goes back to, in whichever pass it happens.
///
/// It is saved as one unit, a single file written aside and renamed into place, only after dockerd
/// was verified healthy on exactly this set, so a hand-broken file can never become "good".
/// With no saved set (a first install that fails), going back means removing Berth's drop-in:
/// dockerd then runs the configuration its package ships.
public struct LastKnownGood: Sendable, Codable, Equatable {
    public struct File: Sendable, Codable, Equatable {
        public var path: String
        public var mode: UInt16
        public var role: ManagedFile.Role
        /// Base64: the set includes dockerd's copy of the host key (this file is 0600 under a 0700 directory).
        public var contents: String
    }

    public var revision: String
    public var savedAt: Date
    /// ``ManagedFile/contentHash(of:)`` of the set.
    public var contentHash: String
    /// The listeners dockerd serves with this set, for verifying a rollback.
    public var listeners: [Listener]
    public var insecure: Bool
    public var files: [File]

    public init(revision: String, savedAt: Date, files: [ManagedFile], listeners: [Listener], insecure: Bool) {
        self.revision = revision
        self.savedAt = savedAt
        self.contentHash = ManagedFile.contentHash(of: files)
        self.listeners = listeners
        self.insecure = insecure
        self.files = files.map { File(path: $0.path, mode: $0.mode, role: $0.role, contents: Data($0.contents).base64EncodedString()) }
    }

    public var managedFiles: [ManagedFile] {
        files.map { ManagedFile(path: $0.path, contents: Array(Data(base64Encoded: $0.contents) ?? Data()), mode: $0.mode, role: $0.role) }
    }

    /// The server certificate the set serves, for checking what the listeners present.
    public var serverCertificatePEM: String? { managedFiles.first { $0.role == .serverCertificate }?.text }
    public var caPEM: String? { managedFiles.first { $0.role == .fleetCA }?.text }

    static func store(root: String) -> StateFile<LastKnownGood> {
        StateFile(path: HostLayout.path(HostLayout.lastKnownGood, under: root))
    }
}
