import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// What dockerd should serve, to check it against: the listeners in force, the certificate the
/// TCP listeners must present, and the identity the agent probes them with.
struct HealthExpectation: Sendable {
    /// Every listener of the host, and those dockerd is given now (TCP waits for a certificate).
    var declared: [Listener]
    var effective: [Listener]
    var insecure: Bool
    var caPEM: String?
    var serverCertificatePEM: String?
    var probe: ProbeIdentity?
}

/// Probes each listener: fd:// and unix sockets with `/_ping`, TCP with mutual TLS using the
/// agent's probe identity, checking the server presents the expected certificate.
struct ListenerProber: Sendable {
    var settings: AgentSettings
    var environment: AgentEnvironment

    func probe(_ expectation: HealthExpectation, unitActive: Bool) async -> [ListenerStatus] {
        var out: [ListenerStatus] = []
        let expected = expectation.serverCertificatePEM.flatMap { try? Fingerprint.sha256(ofCertificatePEM: $0) }
        for listener in expectation.declared {
            let url = listener.description
            guard expectation.effective.contains(listener) else {
                out.append(ListenerStatus(url: url, .skipped("awaiting a server certificate")))
                continue
            }
            guard unitActive else {
                out.append(ListenerStatus(url: url, .failed("dockerd is not running")))
                continue
            }
            switch listener {
            case .fd:
                out.append(await unixProbe(url: url, socket: settings.dockerSocket))
            case .unix(let path):
                out.append(await unixProbe(url: url, socket: path))
            case .tcp(let address, let port):
                if expectation.insecure {
                    out.append(ListenerStatus(url: url, .skipped("insecure: plain TCP is not probed")))
                } else if let probe = expectation.probe, let ca = expectation.caPEM {
                    let outcome = await environment.engine.probeTLS(host: address, port: port, identity: probe, caPEM: ca, expectedFingerprint: expected)
                    out.append(ListenerStatus(url: url, outcome.passed ? .passed : .failed(outcome.reason ?? "failed")))
                } else {
                    out.append(ListenerStatus(url: url, .skipped("the probe identity is made on the first reconcile")))
                }
            }
        }
        return out
    }

    func unixProbe(url: String, socket: String) async -> ListenerStatus {
        do {
            try await environment.engine.ping(socket: socket)
            return ListenerStatus(url: url, .passed)
        } catch {
            return ListenerStatus(url: url, .failed("\(error)"))
        }
    }
}
