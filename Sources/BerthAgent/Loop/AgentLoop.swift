import BerthCore
import BerthHost
import Dispatch
import Foundation

/// When the next pass of `berth-agent run` is due: every `interval`, ±10 % so a fleet started
/// together does not hit its Git server together; sooner while the source is stale, doubling
/// from `retryStart` up to the interval.
public struct PassSchedule: Sendable, Equatable {
    public var interval: Duration
    public var retryStart: Duration
    public private(set) var backoff: Duration

    public init(interval: Duration, retryStart: Duration = .seconds(5)) {
        self.interval = interval
        self.retryStart = retryStart
        self.backoff = retryStart
    }

    /// The wait after a pass that left `report`; `jitter` is a factor in 0.9...1.1.
    public mutating func delay(after report: ReconcileReport, jitter: Double) -> Duration {
        let regular = interval * jitter
        guard report.source.stale else {
            backoff = retryStart
            return regular
        }
        let wait = min(regular, backoff)
        backoff = min(backoff * 2, interval)
        return wait
    }
}

/// What wakes the loop.
public enum AgentWake: Sendable, Equatable {
    case timer, hangup, changed, terminate
}

/// The state of `berth-agent run`: one actor owns the loop; signals, the timer and the change
/// watch (``ChangeWatch``) only post wake-ups to it. Passes run one after another; SIGTERM lets
/// the pass in progress finish.
public actor AgentLoop {
    let settings: AgentSettings
    let environment: AgentEnvironment
    /// Runs after each pass with its outcome (publishing, printing).
    let afterPass: @Sendable (Pass.Outcome) async -> Void
    private var terminating = false
    private var pendingWake: AgentWake?
    private var waiter: CheckedContinuation<AgentWake, Never>?
    private var signalSources: [any DispatchSourceSignal] = []
    public private(set) var passes = 0

    public init(settings: AgentSettings, environment: AgentEnvironment, afterPass: @escaping @Sendable (Pass.Outcome) async -> Void) {
        self.settings = settings
        self.environment = environment
        self.afterPass = afterPass
    }

    public func post(_ wake: AgentWake) {
        if wake == .terminate { terminating = true }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: wake)
        } else if pendingWake != .terminate {
            pendingWake = wake
        }
    }

    private func nextWake() async -> AgentWake {
        if let wake = pendingWake {
            pendingWake = nil
            return wake
        }
        return await withCheckedContinuation { waiter = $0 }
    }

    /// Runs passes until SIGTERM/SIGINT (or a posted `.terminate`). `signals`: install handlers
    /// for SIGHUP (a pass now), SIGTERM and SIGINT.
    public func run(signals: Bool = true) async {
        if signals { installSignals() }
        let notifier = SystemdNotifier()
        let watch = changeWatch()
        do {
            try watch?.start { [weak self] in Task { await self?.post(.changed) } }
        } catch {
            environment.logger.warning("cannot watch for changes (\(error)); passes run on the interval only")
        }
        notifier.send("READY=1\nSTATUS=first pass")
        var schedule = PassSchedule(interval: settings.interval)
        while !terminating {
            let outcome = await Pass(settings: settings, environment: environment).reconcile()
            passes += 1
            (watch as? RemoteWatch)?.saw(outcome.report.desiredRevision)
            await afterPass(outcome)
            notifier.send("STATUS=\(outcome.report.state.rawValue) at \(outcome.report.desiredRevision?.prefix(12) ?? "-")")
            if terminating { break }

            let delay = schedule.delay(after: outcome.report, jitter: Double.random(in: 0.9...1.1))
            let clock = environment.clock
            let timer = Task { [weak self] in
                // Wakes once a minute at most to keep systemd's watchdog fed.
                var left = delay
                while left > .zero {
                    let nap = min(left, .seconds(60))
                    do { try await clock.sleep(for: nap) } catch { return }
                    left -= nap
                    notifier.watchdog()
                }
                await self?.post(.timer)
            }
            let wake = await nextWake()
            timer.cancel()
            if wake == .terminate { break }
        }
        watch?.stop()
        notifier.send("STOPPING=1")
        await environment.engine.shutdown()
    }

    /// inotify on a `state:` checkout; `git ls-remote` every `pollInterval` on a `repo:`.
    func changeWatch() -> (any ChangeWatch)? {
        if let state = settings.statePath { return DirectoryWatch(directory: state) }
        if let url = settings.repoURL {
            return RemoteWatch(git: settings.git(runner: environment.runner), url: url, branch: settings.branch,
                               interval: settings.pollInterval, clock: environment.clock)
        }
        return nil
    }

    private func installSignals() {
        for (number, wake) in [(SIGHUP, AgentWake.hangup), (SIGTERM, .terminate), (SIGINT, .terminate)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                Task { await self?.post(wake) }
            }
            source.resume()
            signalSources.append(source)
        }
    }
}

/// `sd_notify` without libsystemd: one datagram to `$NOTIFY_SOCKET`.
struct SystemdNotifier: Sendable {
    let socketPath: String?
    let watchdogEnabled: Bool

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"]
        watchdogEnabled = environment["WATCHDOG_USEC"] != nil
    }

    func watchdog() {
        if watchdogEnabled { send("WATCHDOG=1") }
    }

    func send(_ message: String) {
        guard var path = socketPath, !path.isEmpty else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        var bytes = Array(path.utf8)
        if abstract { bytes.insert(0, at: 0) }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        _ = message.withCString { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                    sendto(fd, text, strlen(text), 0, sockaddrPointer, length)
                }
            }
        }
    }
}
