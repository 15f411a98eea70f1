import Foundation

/// When a process started, from `/proc` (field 22 of `/proc/PID/stat`, plus the boot time).
public enum ProcessStart {
    public static func date(pid: Int, proc: String = "/proc") -> Date? {
        guard pid > 0,
              let stat = try? String(contentsOfFile: "\(proc)/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        guard let bootLine = (try? String(contentsOfFile: "\(proc)/stat", encoding: .utf8))?
                .split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(bootLine.dropFirst(6))
        else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return Date(timeIntervalSince1970: boot + ticks / hz)
    }
}
