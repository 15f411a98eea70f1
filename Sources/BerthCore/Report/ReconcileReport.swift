import Foundation

/// `HOST.json`: what one pass found, did and left behind. Field names are stable and documented
/// in `docs/report.md`. It never holds private-key material: the agent scans the encoded report
/// before writing or pushing it (see `ReportGuard` in BerthPKI).
public struct ReconcileReport: Sendable, Codable, Equatable {
    public static let schemaVersion = 2

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
    /// Desired content that failed verification and is held back until it changes or `--retry`.
    public var quarantine: QuarantineInfo?
    /// The revision of the managed set that last passed verification (what a rollback restores).
    public var lastKnownGoodRevision: String?
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

/// Where the desired state came from, whether it is current, and whether it was trusted.
public struct SourceStatus: Sendable, Codable, Equatable {
    public var kind: SourceKind
    public var location: String
    public var stale: Bool
    public var error: String?
    /// nil in reports of agents from before signing existed.
    public var trust: CommitTrust?
    /// Who signed the applied commit (the allowed-signers principal and key), when verified.
    public var signer: String?

    public init(kind: SourceKind, location: String, stale: Bool = false, error: String? = nil, trust: CommitTrust? = nil, signer: String? = nil) {
        self.kind = kind
        self.location = location
        self.stale = stale
        self.error = error
        self.trust = trust
        self.signer = signer
    }
}

/// A change the pass made (or tried to).
public struct ActionRecord: Sendable, Codable, Equatable {
    public var kind: ActionKind
    public var object: String
    public var reason: String
    public var ok: Bool

    public init(_ kind: ActionKind, _ object: String, reason: String, ok: Bool = true) {
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
    /// `HMAC-SHA256(join token, CSR DER)` in hex, when the host holds a join token: it vouches
    /// for a first certificate without trust on first use.
    public var joinMAC: String?

    public init(pem: String, sha256: String, sans: [String], reason: String, joinMAC: String? = nil) {
        self.pem = pem
        self.sha256 = sha256
        self.sans = sans
        self.reason = reason
        self.joinMAC = joinMAC
    }
}

/// Desired content held back after it failed verification.
public struct QuarantineInfo: Sendable, Codable, Equatable {
    /// The revision whose content failed.
    public var revision: String
    /// SHA-256 of the rendered managed set that failed.
    public var contentHash: String
    public var reason: String
    public var since: Date

    public init(revision: String, contentHash: String, reason: String, since: Date) {
        self.revision = revision
        self.contentHash = contentHash
        self.reason = reason
        self.since = since
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
public struct ListenerStatus: Sendable, Equatable, Codable {
    public var url: String
    public var result: ProbeResult

    public init(url: String, _ result: ProbeResult) {
        self.url = url
        self.result = result
    }

    enum CodingKeys: String, CodingKey { case url, probe, detail }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(String.self, forKey: .url)
        let detail = try container.decodeIfPresent(String.self, forKey: .detail) ?? ""
        switch try container.decode(String.self, forKey: .probe) {
        case "passed": result = .passed
        case "skipped": result = .skipped(detail)
        default: result = .failed(detail)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(url, forKey: .url)
        try container.encode(result.word, forKey: .probe)
        try container.encodeIfPresent(result.reason, forKey: .detail)
    }
}

extension ReconcileReport {
    /// Reports are JSON with sorted keys and Berth's UTC timestamps, so the same report always
    /// has the same bytes (its signature covers exactly these bytes).
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

    public static func decode(_ bytes: some Sequence<UInt8>) throws -> ReconcileReport {
        try decoder.decode(ReconcileReport.self, from: Data(bytes))
    }
}
