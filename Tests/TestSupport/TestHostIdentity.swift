import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// A host as the controller sees it, for tests that need no real agent: its key (made at run
/// time, kept in memory), its CSR, and reports signed with that key as `berth-agent` writes them.
public struct TestHostIdentity: Sendable {
    public let name: String
    public let keyPEM: String

    public init(name: String) throws {
        self.name = name
        keyPEM = try HostIdentity.generateKey()
    }

    /// A CSR for this host's key; `joinToken` adds the MAC the agent sends with a join token.
    public func pendingCSR(sans: [SubjectAltName], joinToken: String? = nil) throws -> PendingCSR {
        let pem = try HostIdentity.makeCSR(hostName: name, subjectAltNames: sans, privateKeyPEM: keyPEM)
        return PendingCSR(pem: pem, sha256: try Fingerprint.sha256(ofCSRPEM: pem), sans: sans.map(\.description), reason: "new",
                          joinMAC: try joinToken.map { try JoinToken.mac(token: $0, csrPEM: pem) })
    }

    public func report(_ state: HostState, revision: String? = nil, age: TimeInterval = 0, csr: PendingCSR? = nil) -> ReconcileReport {
        var report = ReconcileReport(host: name, agentVersion: "test", time: Date().addingTimeInterval(-age), state: state, message: "m",
                                     source: SourceStatus(kind: .state, location: "/srv/fleet", trust: .verified), intervalSeconds: 300)
        report.desiredRevision = revision
        report.appliedRevision = revision
        report.pendingCSR = csr
        return report
    }

    /// Writes `DIR/HOST.json` and `DIR/HOST.json.sig`, signed with `signingKey` (default: this host's key).
    public func publish(_ report: ReconcileReport, to dir: String, signingKey: String? = nil) throws {
        let bytes = try report.encoded()
        try AtomicFile.write(try ReportSignature.sign(bytes, privateKeyPEM: signingKey ?? keyPEM).text, to: "\(dir)/\(name).json.sig", mode: 0o644)
        try AtomicFile.write(bytes, to: "\(dir)/\(name).json", mode: 0o644)
    }

    /// Issues this host's certificate with the test fleet's CA and writes it to `certs/HOST.pem`.
    public func certify(in fleet: TestFleet, sans: [SubjectAltName]) throws {
        let ca = try FleetCA(certificatePEM: try fleet.directory.read("ca.pem"), privateKeyPEM: fleet.caKeyPEM)
        let csr = try pendingCSR(sans: sans)
        try fleet.write("certs/\(name).pem", try ca.issueServerCertificate(csrPEM: csr.pem, days: 90, now: Date()))
    }
}
