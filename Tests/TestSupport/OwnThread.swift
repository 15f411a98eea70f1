import Foundation

/// Runs `body` with every job of its task (and its child tasks) on one thread of its own, and
/// says how much real time it took there.
///
/// A test that waits out a long timeout on an `ImmediateClock` suspends at every fake sleep.
/// On the shared cooperative pool each resumption queues behind every other test's work: on a
/// loaded 2-core machine 1,200 fake sleeps took 76 s of real time, and a single hop back onto
/// the pool took 6 s. On its own thread the same loop takes milliseconds, and the time is taken
/// there, before the hop back, so a bound on it says only what it means to: that nothing
/// waited in real time.
public func timedOnOwnThread<T: Sendable>(_ body: @Sendable () async throws -> T) async -> (result: Result<T, any Error>, took: Duration) {
    let executor = ThreadExecutor()
    defer { executor.stop() }
    return await withTaskExecutorPreference(executor) {
        let clock = ContinuousClock()
        let start = clock.now
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        return (result, clock.now - start)
    }
}

/// A task executor backed by one thread that runs jobs in order until stopped.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init() {
        let thread = Thread { [self] in loop() }
        thread.name = "berth-test-executor"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.withLock {
            jobs.append(job)
            condition.signal()
        }
    }

    /// Lets the thread end once the jobs queued so far have run.
    func stop() {
        condition.withLock {
            stopped = true
            condition.signal()
        }
    }

    private func loop() {
        while true {
            let next: UnownedJob? = condition.withLock {
                while jobs.isEmpty && !stopped { condition.wait() }
                return jobs.isEmpty ? nil : jobs.removeFirst()
            }
            guard let next else { return }
            next.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
