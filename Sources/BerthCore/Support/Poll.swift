/// What one look at a condition found, for ``poll(timeout:every:clock:until:)``.
public enum PollStep<Value: Sendable>: Sendable {
    /// The condition holds; stop with this value.
    case done(Value)
    /// Not yet; look again after the interval. The reason is kept for the timeout message.
    case retry(String)
    /// It will not come (a unit that systemd gave up on): stop now.
    case stop(String)
}

/// How a ``poll(timeout:every:clock:until:)`` ended.
public enum PollOutcome<Value: Sendable>: Sendable {
    case done(Value)
    /// The timeout passed; the reason the last look gave.
    case timedOut(String)
    case stopped(String)
}

/// Looks at a condition until it holds, gives up, or `timeout` passes on `clock`.
///
/// Every wait of the agent goes through here (dockerd coming back after a restart or a
/// rollback, the pass lock), with the clock passed in: tests hand it a clock whose `sleep`
/// returns at once, so "rolled back within 60 s" is checked in milliseconds. Time is what the
/// clock measures, the looks included; the condition is looked at once more at the deadline,
/// so a timeout never cuts the last interval short.
public func poll<Value: Sendable>(
    timeout: Duration, every interval: Duration, clock: any Clock<Duration>,
    until check: () async -> PollStep<Value>
) async -> PollOutcome<Value> {
    var elapsed = Duration.zero
    while true {
        var step: PollStep<Value> = .retry("")
        elapsed += await clock.measure { step = await check() }
        switch step {
        case .done(let value): return .done(value)
        case .stop(let reason): return .stopped(reason)
        case .retry(let reason):
            if elapsed >= timeout { return .timedOut(reason) }
            let nap = min(interval, timeout - elapsed)
            do {
                elapsed += try await clock.measure { try await clock.sleep(for: nap) }
            } catch {
                return .timedOut(reason + " (cancelled)")
            }
        }
    }
}

extension Duration {
    /// Seconds as a floating-point number, for messages and settings.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }

    /// A duration of `seconds`, which may be fractional.
    public static func seconds(_ value: Double) -> Duration {
        .nanoseconds(Int64((value * 1e9).rounded()))
    }
}
