import Foundation

/// When a process started, from `/proc/PID/stat` (field 22: clock ticks after boot).
///
/// Boot time is taken as now minus `CLOCK_BOOTTIME`, not from `btime` in `/proc/stat`: `btime`
/// is whole seconds, and up to a second of error made files written just before a restart look
/// newer than the dockerd that restart started — one needless restart after every change.
public enum ProcessStart {
    public static func date(pid: Int, proc: String = "/proc") -> Date? {
        guard pid > 0,
              let stat = try? String(contentsOfFile: "\(proc)/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        var sinceBoot = timespec()
        guard clock_gettime(CLOCK_BOOTTIME, &sinceBoot) == 0 else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let uptime = Double(sinceBoot.tv_sec) + Double(sinceBoot.tv_nsec) / 1e9
        return Date().addingTimeInterval(ticks / hz - uptime)
    }
}
