import BerthCore
import BerthHost
import Foundation
import Logging

/// The agent's effects, passed in: commands, the Engine API, the clock, the log.
/// Tests swap in a recording runner and a fake engine; the binary uses the real ones.
public struct AgentEnvironment: Sendable {
    public var runner: any CommandRunner
    public var engine: any EngineClient
    public var now: @Sendable () -> Date
    public var logger: Logger
    public var agentVersion: String
    /// The uid/gid managed files must have; nil skips the owner check (unprivileged test runs).
    public var expectedOwner: (uid: UInt32, gid: UInt32)?
    /// How often to poll while verifying a restart.
    public var pollInterval: TimeInterval
    /// When a process started (dockerd's start time tells whether it runs the files on disk).
    public var processStartTime: @Sendable (Int) -> Date?

    public init(runner: any CommandRunner, engine: any EngineClient, now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "berth-agent"), agentVersion: String = BerthVersion.current,
                expectedOwner: (uid: UInt32, gid: UInt32)? = (0, 0), pollInterval: TimeInterval = 0.25,
                processStartTime: @escaping @Sendable (Int) -> Date? = { ProcessStart.date(pid: $0) }) {
        self.runner = runner
        self.engine = engine
        self.now = now
        self.logger = logger
        self.agentVersion = agentVersion
        self.expectedOwner = expectedOwner
        self.pollInterval = pollInterval
        self.processStartTime = processStartTime
    }
}

/// The version every binary reports.
public enum BerthVersion {
    public static let current = "0.1.0"
}
