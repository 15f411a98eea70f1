import BerthCore
import Foundation

/// The Docker Engine API as the agent uses it: health and facts over the unix socket, and the
/// mutual-TLS check of each TCP listener. A protocol so the planner's tests can fake the daemon.
public protocol EngineClient: Sendable {
    /// `GET /_ping` over the unix socket.
    func ping(socket: String) async throws
    /// `GET /info` over the unix socket.
    func info(socket: String) async throws -> EngineState
    /// `GET /_ping` over mTLS with the agent's probe identity, and a check that the server
    /// presents the certificate whose SHA-256 fingerprint is `expectedFingerprint`.
    func probeTLS(host: String, port: Int, identity: ProbeIdentity, caPEM: String, expectedFingerprint: String?) async -> ProbeOutcome
    func shutdown() async
}

/// The agent's own client certificate and key, pinned in `clients.pem` so it can test the listeners.
public struct ProbeIdentity: Sendable {
    public var certificatePEM: String
    public var privateKeyPEM: String
    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}

/// How the mTLS probe of one listener went.
public enum ProbeOutcome: Sendable, Equatable {
    case passed
    case failed(reason: String)

    public var passed: Bool { self == .passed }
    public var reason: String? {
        if case .failed(let reason) = self { return reason }
        return nil
    }
}
