import BerthCore
import BerthPKI
import Foundation

/// Whether a report is believed to come from the host it names.
public enum ReportTrust: Sendable, Equatable, Codable {
    /// Signed by the key of the host's certificate (`certs/HOST.pem`).
    case verified
    /// The host has no certificate yet: the report is signed by the key of its own pending CSR,
    /// which proves nothing about who sent it (a join token or `--fingerprint` must vouch).
    case pending
    /// Not signed by the host's key: shown as `unverified`, never in sync, its CSR never signed.
    case unverified(String)

    public var word: String {
        switch self {
        case .verified: return "verified"
        case .pending: return "pending"
        case .unverified: return "unverified"
        }
    }

    public var reason: String? {
        if case .unverified(let reason) = self { return reason }
        return nil
    }

    enum CodingKeys: String, CodingKey { case trust, reason }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .trust) {
        case "verified": self = .verified
        case "pending": self = .pending
        default: self = .unverified(try container.decodeIfPresent(String.self, forKey: .reason) ?? "")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(word, forKey: .trust)
        try container.encodeIfPresent(reason, forKey: .reason)
    }
}

/// A report that has been read and judged.
public struct CheckedReport: Sendable {
    public var fetched: FetchedReport
    public var trust: ReportTrust
    /// The text of `certs/HOST.pem` the report was checked against, when the host has one.
    public var certificate: String?
    public var report: ReconcileReport? { fetched.report }

    public init(fetched: FetchedReport, trust: ReportTrust) {
        self.fetched = fetched
        self.trust = trust
    }
}

/// Checks each report's signature against the host's certificate in the repository.
public enum ReportVerifier {
    /// `certificate`: `certs/HOST.pem` at the repository's current commit, if the host has one.
    public static func check(_ fetched: FetchedReport, certificate: String?) -> ReportTrust {
        if let problem = fetched.problem { return .unverified(problem) }
        guard let json = fetched.json, let report = fetched.report else { return .unverified("no report") }
        guard let text = fetched.signature else {
            return .unverified("the report has no signature (\(fetched.host).json.sig)")
        }
        let signature: ReportSignature
        do {
            signature = try ReportSignature.parse(text)
        } catch {
            return .unverified("\(error)")
        }
        if let certificate {
            switch signature.verify(json, certificatePEM: certificate) {
            case .valid: return .verified
            case .digestMismatch: return .unverified("the signature is for other bytes than the report (it changed after it was signed)")
            case .invalid(let reason): return .unverified("\(reason) (\(FleetLayout.serverCertificate(fetched.host)))")
            }
        }
        guard let csr = report.pendingCSR?.pem else {
            return .unverified("\(FleetLayout.serverCertificate(fetched.host)) does not exist, so nothing can vouch for this report")
        }
        switch signature.verify(json, csrPEM: csr) {
        case .valid: return .pending
        case .digestMismatch: return .unverified("the signature is for other bytes than the report (it changed after it was signed)")
        case .invalid(let reason): return .unverified("\(reason) (the pending CSR's key)")
        }
    }
}
