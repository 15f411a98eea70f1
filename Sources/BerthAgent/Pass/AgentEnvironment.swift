import BerthCore
import BerthHost
import Foundation
import Logging

/// The agent's effects, passed in: child processes, the Engine API, the clocks, the log.
/// Tests swap in a recording runner, a fake engine and clocks they step; the binary uses the real ones.
public struct AgentEnvironment: Sendable {
    public var runner: any CommandRunner
    public var engine: any EngineClient
    /// Wall-clock time: report timestamps, certificate validity, restart windows.
    public var now: @Sendable () -> Date
    /// What every wait sleeps on (verify, rollback, the lock): ``poll(timeout:every:clock:until:)``.
    public var clock: any Clock<Duration>
    /// Which files dockerd runs, judged on the boot clock (see ``RestartLedger``).
    public var bootClock: any BootClock
    public var logger: Logger
    public var agentVersion: String
    /// The uid/gid managed files must have; nil skips the owner check (unprivileged test runs).
    public var expectedOwner: (uid: UInt32, gid: UInt32)?
    /// How often to look while waiting for dockerd.
    public var pollInterval: Duration

    public init(runner: any CommandRunner, engine: any EngineClient, now: @escaping @Sendable () -> Date = { Date() },
                clock: any Clock<Duration> = ContinuousClock(), bootClock: any BootClock = SystemBootClock(),
                logger: Logger = Logger(label: "berth-agent"), agentVersion: String = BerthVersion.current,
                expectedOwner: (uid: UInt32, gid: UInt32)? = (0, 0), pollInterval: Duration = .milliseconds(250)) {
        self.runner = runner
        self.engine = engine
        self.now = now
        self.clock = clock
        self.bootClock = bootClock
        self.logger = logger
        self.agentVersion = agentVersion
        self.expectedOwner = expectedOwner
        self.pollInterval = pollInterval
    }

    /// Polls on this environment's clock.
    func wait<Value: Sendable>(timeout: Duration, until check: () async -> PollStep<Value>) async -> PollOutcome<Value> {
        await poll(timeout: timeout, every: pollInterval, clock: clock, until: check)
    }
}

/// The version every binary reports.
public enum BerthVersion {
    public static let current = "0.2.0"
}
