import BerthCore
import Foundation

/// `HOST.json`: what one pass found, did and left behind (SPEC §5). Field names are stable and
/// documented in the README. It never holds a private key: only certificates, CSRs and fingerprints.
public struct ReconcileReport: Sendable, Codable, Equatable {
    public static let schemaVersion = 1

    public var schema: Int = ReconcileReport.schemaVersion
    public var host: String
    public var agentVersion: String
    public var time: Date
    public var fleet: String?
    public var desiredRevision: String?
    public var appliedRevision: String?
    public var state: HostState
    /// One line for a person: why the host is in this state.
    public var message: String
    public var source: SourceStatus
    public var drift: [DriftItem]
    public var actions: [ActionRecord]
    public var serverCertificate: CertificateInfo?
    public var pendingCSR: PendingCSR?
    public var daemon: DaemonStatus?
    /// Last lines of `journalctl -u docker`, when a restart failed.
    public var journal: [String]?
    public var intervalSeconds: Int
    public var nextPassAt: Date?
    public var error: String?
    /// Problems in the desired state that did not stop this pass: another host's invalid entry,
    /// left out (`file:line:col: field: message`).
    public var warnings: [String]?

    public init(host: String, agentVersion: String, time: Date, state: HostState, message: String, source: SourceStatus, intervalSeconds: Int) {
        self.host = host
        self.agentVersion = agentVersion
        self.time = time
        self.state = state
        self.message = message
        self.source = source
        self.drift = []
        self.actions = []
        self.intervalSeconds = intervalSeconds
    }
}

/// Where the desired state came from and whether it is current.
public struct SourceStatus: Sendable, Codable, Equatable {
    public var kind: String
    public var location: String
    public var stale: Bool
    public var error: String?

    public init(kind: String, location: String, stale: Bool = false, error: String? = nil) {
        self.kind = kind
        self.location = location
        self.stale = stale
        self.error = error
    }
}

/// A change the pass made (or tried to).
public struct ActionRecord: Sendable, Codable, Equatable {
    public var kind: String
    public var object: String
    public var reason: String
    public var ok: Bool

    public init(kind: String, object: String, reason: String, ok: Bool = true) {
        self.kind = kind
        self.object = object
        self.reason = reason
        self.ok = ok
    }
}

/// The server certificate in service on the host.
public struct CertificateInfo: Sendable, Codable, Equatable {
    public var subject: String
    public var sans: [String]
    public var notAfter: Date
    public var sha256: String

    public init(subject: String, sans: [String], notAfter: Date, sha256: String) {
        self.subject = subject
        self.sans = sans
        self.notAfter = notAfter
        self.sha256 = sha256
    }
}

/// A certificate request waiting for `berthctl sign`.
public struct PendingCSR: Sendable, Codable, Equatable {
    public var pem: String
    public var sha256: String
    public var sans: [String]
    public var reason: String

    public init(pem: String, sha256: String, sans: [String], reason: String) {
        self.pem = pem
        self.sha256 = sha256
        self.sans = sans
        self.reason = reason
    }
}

/// dockerd as the pass last saw it.
public struct DaemonStatus: Sendable, Codable, Equatable {
    public var active: Bool
    public var pid: Int
    public var version: String?
    public var containersRunning: Int?
    public var liveRestore: Bool?
    public var listeners: [ListenerStatus]

    public init(active: Bool, pid: Int, version: String?, containersRunning: Int?, liveRestore: Bool?, listeners: [ListenerStatus]) {
        self.active = active
        self.pid = pid
        self.version = version
        self.containersRunning = containersRunning
        self.liveRestore = liveRestore
        self.listeners = listeners
    }
}

/// One listener and whether the agent's probe reached it.
public struct ListenerStatus: Sendable, Codable, Equatable {
    public var url: String
    /// `passed`, `failed`, or `skipped` (fd:// cannot be probed from outside; TCP while awaiting a certificate).
    public var probe: String
    public var detail: String?

    public init(url: String, probe: String, detail: String? = nil) {
        self.url = url
        self.probe = probe
        self.detail = detail
    }
}

extension ReconcileReport {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .berthUTC
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .berthUTC
        return decoder
    }()

    public func encoded() throws -> [UInt8] {
        Array(try Self.encoder.encode(self)) + [0x0a]
    }

    public static func decode(_ bytes: [UInt8]) throws -> ReconcileReport {
        try decoder.decode(ReconcileReport.self, from: Data(bytes))
    }
}
