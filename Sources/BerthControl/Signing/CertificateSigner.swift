import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// The signing workflow of `berthctl sign`: a host's CSR becomes `certs/HOST.pem` only when
/// something vouches for it, and only for the names fleet.yaml declares.
///
/// What vouches (``Voucher``), strongest first:
/// - the host's report is signed by the key of its current certificate: a renewal or an address
///   change, asked for by the host that holds the certified key;
/// - the CSR carries `HMAC-SHA256(join token, CSR DER)` made with the one-time token issued for
///   the host (`berthctl host add` / `host token`): a first certificate without trust on first use;
/// - the operator passed `--fingerprint` equal to the CSR's SHA-256, read on the host's console.
///
/// A report that does not verify is never signed for, whatever else it carries; `--all` and
/// `tls.autoSign` never bypass any of this.
public struct CertificateSigner: Sendable {
    public enum Voucher: String, Sendable {
        case currentCertificate = "signed by the host's current certificate"
        case joinToken = "a join token"
        case fingerprint = "--fingerprint"
    }

    /// One CSR to sign and where it came from.
    public struct Request: Sendable {
        public var host: String
        public var csrPEM: String
        /// The host's report, when the CSR came from one.
        public var report: CheckedReport?
        /// `--fingerprint`: the CSR fingerprint the operator read on the host.
        public var fingerprint: String?

        public init(host: String, csrPEM: String, report: CheckedReport?, fingerprint: String?) {
            self.host = host
            self.csrPEM = csrPEM
            self.report = report
            self.fingerprint = fingerprint
        }
    }

    public struct Issued: Sendable {
        public var host: String
        public var path: String
        public var csrFingerprint: String
        public var voucher: Voucher
        public var days: Int
    }

    public var loaded: LoadedFleet
    public var ca: FleetCA
    public var tokens: JoinTokenStore
    /// `--yes`: the operator confirms the names of an `addresses: auto` host.
    public var confirmed: Bool
    public var now: Date

    public init(loaded: LoadedFleet, ca: FleetCA, tokens: JoinTokenStore, confirmed: Bool, now: Date) {
        self.loaded = loaded
        self.ca = ca
        self.tokens = tokens
        self.confirmed = confirmed
        self.now = now
    }

    /// Checks the CSR's fingerprint and what vouches for it, then its names; writes the certificate.
    public func sign(_ request: Request) throws -> Issued {
        let name = request.host
        let host = try loaded.resolve(host: name)
        let fingerprint: String
        do {
            fingerprint = try Fingerprint.sha256(ofCSRPEM: request.csrPEM)
        } catch {
            throw BerthError(.invalidCSR, "\(name): the CSR is not a valid certificate request; have the agent on \(name) make a new one", underlying: error)
        }
        let voucher = try vouch(request, fingerprint: fingerprint)
        let coverage: SANCoverage
        do {
            coverage = try SANPolicy.evaluate(csrPEM: request.csrPEM, host: host, confirmed: confirmed)
        } catch {
            throw BerthError(.invalidCSR, "\(name): the CSR does not verify; have the agent on \(name) make a new one", underlying: error)
        }
        if case .notCovered(let reasons) = coverage {
            throw BerthError(.policy, "\(name): CSR refused, \(reasons.count) name\(reasons.count == 1 ? "" : "s") not covered by hosts.\(name).addresses; nothing was written:\n  " + reasons.joined(separator: "\n  "))
        }
        let certificate = try ca.issueServerCertificate(csrPEM: request.csrPEM, days: host.serverCertDays, now: now)
        let path = loaded.repository.path(FleetLayout.serverCertificate(name))
        try AtomicFile.write(certificate, to: path, mode: 0o644)
        // The token has done its work: it never vouches again.
        if voucher == .joinToken || tokens.token(name) != nil { try? tokens.forget(name) }
        return Issued(host: name, path: path, csrFingerprint: fingerprint, voucher: voucher, days: host.serverCertDays)
    }

    func vouch(_ request: Request, fingerprint: String) throws -> Voucher {
        let name = request.host
        let onConsole = "compare the fingerprint `berth-agent status` prints on \(name) and pass --fingerprint SHA256 if it matches"
        if let given = request.fingerprint {
            guard Self.normalized(given) == Self.normalized(fingerprint) else {
                throw BerthError(.policy, "\(name): --fingerprint \(given) is not the CSR's (\(fingerprint)); the CSR may not be the one on \(name)'s console. Nothing was written")
            }
            return .fingerprint
        }
        guard let checked = request.report else {
            throw BerthError(.policy, "\(name): nothing vouches for a CSR from a file; \(onConsole)")
        }
        switch checked.trust {
        case .unverified(let reason):
            throw BerthError(.untrusted, "\(name): its report does not verify (\(reason)), so its CSR is never signed. If \(name) lost its key, \(onConsole)")
        case .verified:
            return .currentCertificate
        case .pending:
            guard let token = tokens.token(name) else {
                throw BerthError(.policy, "\(name): no join token is outstanding for it (never issued, or already used for its first certificate); issue one with `berthctl host token \(name)` and place it in \(HostLayout.joinToken) on the host, or \(onConsole)")
            }
            guard let mac = checked.report?.pendingCSR?.joinMAC else {
                throw BerthError(.policy, "\(name): its CSR carries no join-token MAC; place the token from `berthctl host token \(name)` in \(HostLayout.joinToken) on the host and wait for its next pass, or \(onConsole)")
            }
            guard JoinToken.verify(mac: mac, token: token, csrPEM: request.csrPEM) else {
                throw BerthError(.policy, "\(name): its CSR's join-token MAC was not made with the token issued for \(name) (a wrong or forged token); nothing was written. \(onConsole.prefix(1).uppercased() + onConsole.dropFirst())")
            }
            return .joinToken
        }
    }

    static func normalized(_ fingerprint: String) -> String {
        var text = fingerprint.uppercased()
        if text.hasPrefix("SHA256:") { text.removeFirst(7) }
        return text.filter(\.isHexDigit)
    }
}
