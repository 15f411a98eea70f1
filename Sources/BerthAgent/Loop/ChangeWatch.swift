import BerthCore
import BerthHost
import Dispatch
import Foundation

/// What wakes `berth-agent run` early when the desired state changes: inotify on a `state:`
/// checkout, a cheap `git ls-remote` of the branch on a `repo:` every `pollInterval`.
protocol ChangeWatch: Sendable {
    /// Starts watching; `changed` runs (on any thread) when the desired state may have changed.
    func start(_ changed: @escaping @Sendable () -> Void) throws
    func stop()
}

/// inotify on the checkout's top directory, `certs/` and `clients/`: a commit checked out, a
/// file edited, a certificate added. Events are coalesced for `settle`, so a `git pull` that
/// renames a dozen files wakes one pass, after it is done.
final class DirectoryWatch: ChangeWatch, @unchecked Sendable {
    let directory: String
    let settle: Duration
    private let queue = DispatchQueue(label: "berth.watch")
    private var source: (any DispatchSourceRead)?
    private var pending: DispatchWorkItem?
    private var fd: Int32 = -1

    init(directory: String, settle: Duration = .milliseconds(200)) {
        self.directory = directory
        self.settle = settle
    }

    static let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

    func start(_ changed: @escaping @Sendable () -> Void) throws {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw AtomicFile.posixError("start inotify") }
        var watched = 0
        for dir in [directory, "\(directory)/\(FleetLayout.certsDirectory)", "\(directory)/\(FleetLayout.clientsDirectory)"] {
            if inotify_add_watch(fd, dir, Self.mask) >= 0 { watched += 1 }
        }
        guard watched > 0 else { throw AtomicFile.posixError("watch \(directory)") }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        let fd = self.fd
        source.setEventHandler { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 8192)
            while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
            guard let self else { return }
            self.pending?.cancel()
            let work = DispatchWorkItem(block: changed)
            self.pending = work
            self.queue.asyncAfter(deadline: .now() + .milliseconds(Int(self.settle.seconds * 1000)), execute: work)
        }
        source.setCancelHandler { close(fd) }
        source.resume()
        self.source = source
    }

    func stop() {
        queue.sync {
            pending?.cancel()
            source?.cancel()
            source = nil
        }
    }
}

/// `git ls-remote URL refs/heads/BRANCH` every `interval`: one small request that tells whether
/// the branch moved, instead of a full fetch and pass.
final class RemoteWatch: ChangeWatch, @unchecked Sendable {
    let git: Git
    let url: String
    let branch: String
    let interval: Duration
    let clock: any Clock<Duration>
    private let lock = NSLock()
    private var task: Task<Void, Never>?
    private var lastSeen: String?

    init(git: Git, url: String, branch: String, interval: Duration, clock: any Clock<Duration>) {
        self.git = git
        self.url = url
        self.branch = branch
        self.interval = interval
        self.clock = clock
    }

    func start(_ changed: @escaping @Sendable () -> Void) throws {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                try? await self.clock.sleep(for: self.interval)
                if Task.isCancelled { return }
                guard let result = try? await self.git.runner.run(Command(self.git.executable, ["ls-remote", self.url, "refs/heads/\(self.branch)"],
                                                                           environment: Git.environment, timeout: self.git.timeout)),
                      result.succeeded, let commit = result.output.split(separator: "\t").first.map(String.init), !commit.isEmpty else { continue }
                let moved = self.lock.withLock { () -> Bool in
                    defer { self.lastSeen = commit }
                    return self.lastSeen != nil && self.lastSeen != commit
                }
                if moved { changed() }
            }
        }
        lock.withLock { self.task = task }
    }

    /// The commit the last pass took: a remote still there is no change.
    func saw(_ commit: String?) {
        lock.withLock { lastSeen = commit }
    }

    func stop() {
        lock.withLock { task?.cancel() }
    }
}
