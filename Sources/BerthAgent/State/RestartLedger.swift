import BerthCore
import BerthHost
import Foundation

/// Which managed set the agent last wrote, and when, on the boot clock; and which dockerd process
/// it last verified after a restart. From these the observer tells whether the running dockerd
/// predates the files on disk (a restart still pending), without file mtimes or the wall clock:
/// a clock step of an hour either way changes nothing here.
///
/// The write is recorded before the files are written, so a pass killed in between errs on the
/// side of a restart, never of a missed one.
struct RestartLedger: Sendable, Codable, Equatable {
    var contentHash: String
    var written: BootInstant
    /// The dockerd verified healthy on this set (pid and start), if any.
    var verifiedPID: Int?
    var verifiedStart: BootInstant?

    static func store(root: String) -> StateFile<RestartLedger> {
        StateFile(path: HostLayout.path(HostLayout.restartLedger, under: root))
    }

    /// Whether dockerd `pid` started before these files were written (so it runs older ones).
    func predates(pid: Int, clock: any BootClock) -> Bool {
        guard pid > 0, let started = clock.processStart(pid: pid) else { return false }
        if verifiedPID == pid && verifiedStart == started { return false }
        // Written in an earlier boot: every process of this boot started after it.
        guard started.bootID == written.bootID else { return false }
        return started < written
    }
}
