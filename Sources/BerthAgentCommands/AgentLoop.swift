import BerthAgent
import BerthCore
import BerthHost
import Dispatch
import Foundation

/// The state of `berth-agent run`: one actor owns the loop, signals only post wake-ups to it.
actor AgentLoop {
    enum Wake { case timer, hangup, changed, terminate }

    let settings: AgentSettings
    let environment: AgentEnvironment
    private var terminating = false
    private var pendingWake: Wake?
    private var waiter: CheckedContinuation<Wake, Never>?
    private var signalSources: [any DispatchSourceSignal] = []

    init(settings: AgentSettings, environment: AgentEnvironment) {
        self.settings = settings
        self.environment = environment
    }

    func post(_ wake: Wake) {
        if wake == .terminate { terminating = true }
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: wake)
        } else if pendingWake != .terminate {
            pendingWake = wake
        }
    }

    private func nextWake() async -> Wake {
        if let wake = pendingWake {
            pendingWake = nil
            return wake
        }
        return await withCheckedContinuation { waiter = $0 }
    }

    func run() async {
        installSignals()
        let notifier = SystemdNotifier()
        notifier.send("READY=1\nSTATUS=first pass")
        var backoff: TimeInterval = 5
        var lastStamp = stateStamp()
        while !terminating {
            let report = await Reconciler(settings: settings, environment: environment).reconcile()
            if settings.reportGit {
                await StatusPublisher(settings: settings, runner: environment.runner).publishLogged(report, logger: environment.logger)
            }
            FileHandle.standardError.write(Data((ReportFormatter.summary(report) + "\n").utf8))
            notifier.send("STATUS=\(report.state.rawValue) at \(report.desiredRevision?.prefix(12) ?? "-")")
            if terminating { break }

            // A stale source retries sooner, doubling up to the interval; otherwise interval ± 10 %.
            var delay = settings.interval * Double.random(in: 0.9...1.1)
            if report.source.stale {
                delay = min(delay, backoff)
                backoff = min(backoff * 2, settings.interval)
            } else {
                backoff = 5
            }
            let stamp = lastStamp
            let timer = Task { [weak self, stamp, delay] in
                let deadline = Date().addingTimeInterval(delay)
                while Date() < deadline {
                    try? await Task.sleep(nanoseconds: 1_000_000_000)
                    if Task.isCancelled { return }
                    notifier.watchdog()
                    if let self, await self.stateChanged(since: stamp) { await self.post(.changed); return }
                }
                await self?.post(.timer)
            }
            let wake = await nextWake()
            timer.cancel()
            lastStamp = stateStamp()
            if wake == .terminate { break }
        }
        notifier.send("STOPPING=1")
        await environment.engine.shutdown()
    }

    /// The state file's modification time: the "path changed" trigger (polled once a second).
    nonisolated func stateStamp() -> Date? {
        guard let state = settings.statePath else { return nil }
        return (try? FileManager.default.attributesOfItem(atPath: "\(state)/\(FleetRepository.specFile)"))?[.modificationDate] as? Date
    }

    func stateChanged(since stamp: Date?) -> Bool {
        settings.statePath != nil && stateStamp() != stamp
    }

    private func installSignals() {
        for (number, wake) in [(SIGHUP, Wake.hangup), (SIGTERM, .terminate), (SIGINT, .terminate)] {
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
    let watchdogInterval: TimeInterval?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"]
        watchdogInterval = environment["WATCHDOG_USEC"].flatMap(Double.init).map { $0 / 1_000_000 }
    }

    func watchdog() {
        if watchdogInterval != nil { send("WATCHDOG=1") }
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
