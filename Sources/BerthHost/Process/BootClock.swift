import BerthCore
import Foundation

/// An instant on the kernel's boot clock: which boot, and nanoseconds since it began.
///
/// The agent decides whether dockerd runs the files on disk by comparing when dockerd started
/// with when the files were written. The wall clock cannot answer that (an NTP step of an hour
/// would hide a pending restart, and a revoked client would keep access); `CLOCK_BOOTTIME` only
/// moves forward, and the boot ID says whether two instants can be compared at all.
public struct BootInstant: Sendable, Codable, Equatable, Comparable {
    public var bootID: String
    public var nanoseconds: UInt64

    public init(bootID: String, nanoseconds: UInt64) {
        self.bootID = bootID
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: BootInstant, rhs: BootInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

/// The boot clock and process start times, passed in so tests can step them.
public protocol BootClock: Sendable {
    func now() -> BootInstant
    /// When process `pid` started, on the same clock (nil when it does not exist).
    func processStart(pid: Int) -> BootInstant?
}

/// The kernel's: `/proc/sys/kernel/random/boot_id`, `CLOCK_BOOTTIME`, and field 22 of
/// `/proc/PID/stat` (clock ticks after boot).
public struct SystemBootClock: BootClock {
    let proc: String

    public init(proc: String = "/proc") { self.proc = proc }

    var bootID: String {
        (try? String(contentsOfFile: "\(proc)/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
    }

    public func now() -> BootInstant {
        var since = timespec()
        clock_gettime(CLOCK_BOOTTIME, &since)
        return BootInstant(bootID: bootID, nanoseconds: UInt64(since.tv_sec) * 1_000_000_000 + UInt64(since.tv_nsec))
    }

    public func processStart(pid: Int) -> BootInstant? {
        guard pid > 0,
              let stat = try? String(contentsOfFile: "\(proc)/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = UInt64(fields[19]) else { return nil }
        let hz = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        return BootInstant(bootID: bootID, nanoseconds: ticks * (1_000_000_000 / hz))
    }
}
