import BerthCore
import BerthHost
import Foundation

/// Restarts dockerd and waits for it to serve what it should, within one budget
/// (`verifyTimeout`): the unit active, `/_ping` on every unix socket, and every TCP listener
/// answering mutual TLS with the expected certificate.
///
/// The restart itself counts against the budget: docker.service has `TimeoutStartSec=0`, so a
/// start that hangs (a stuck `ExecStartPre=`, a dead mount) would hold `systemctl restart` and
/// the pass forever; here it fails the verification and leads to a rollback.
struct Verifier: Sendable {
    var settings: AgentSettings
    var environment: AgentEnvironment

    enum Verdict: Sendable {
        case healthy(DaemonStatus)
        case unhealthy(String)
    }

    var systemctl: Systemctl { Systemctl(runner: environment.runner) }

    /// `systemctl restart docker`, then ``verify(_:timeout:)`` with what is left of the budget.
    func restartAndVerify(_ expectation: HealthExpectation) async -> Verdict {
        await systemctl.resetFailed()
        let budget = settings.verifyTimeout
        var restartError: (any Error)?
        let took = await environment.clock.measure {
            do { try await systemctl.restart(timeout: budget) } catch { restartError = error }
        }
        if let error = restartError as? BerthError, error.code == .commandTimedOut {
            return .unhealthy("docker.service did not finish starting within \(Int(budget.seconds)) s (verifyTimeout): \(error.message)")
        }
        if let restartError { environment.logger.warning("systemctl restart docker failed: \(restartError)") }
        return await verify(expectation, timeout: max(.zero, budget - took), restartFailed: restartError != nil)
    }

    /// Waits until dockerd serves `expectation`, or `timeout` passes on the environment's clock.
    func verify(_ expectation: HealthExpectation, timeout: Duration, restartFailed: Bool = false) async -> Verdict {
        let prober = ListenerProber(settings: settings, environment: environment)
        var failedLooks = 0
        let outcome: PollOutcome<DaemonStatus> = await environment.wait(timeout: timeout) {
            guard let unit = try? await systemctl.show() else { return .retry("systemctl show docker failed") }
            guard unit.isActive else {
                // systemd gave up on the unit after a failed start: no point waiting the whole budget.
                failedLooks = unit.activeState == "failed" ? failedLooks + 1 : 0
                if restartFailed && failedLooks >= 4 { return .stop("docker.service failed to start") }
                return .retry("docker.service is \(unit.activeState)")
            }
            let listeners = await prober.probe(expectation, unitActive: true)
            let failed = listeners.filter { $0.result.isFailure }
            guard failed.isEmpty else {
                return .retry(failed.map { "\($0.url): \($0.result.reason ?? "failed")" }.joined(separator: "; "))
            }
            let engine = try? await environment.engine.info(socket: settings.dockerSocket)
            return .done(DaemonStatus(active: true, pid: unit.mainPID, version: engine?.version, containersRunning: engine?.containersRunning,
                                      liveRestore: engine?.liveRestore, listeners: listeners))
        }
        switch outcome {
        case .done(let status): return .healthy(status)
        case .timedOut(let last): return .unhealthy("dockerd was not healthy within \(Int(settings.verifyTimeout.seconds)) s of the restart: \(last)")
        case .stopped(let reason): return .unhealthy(reason)
        }
    }
}
