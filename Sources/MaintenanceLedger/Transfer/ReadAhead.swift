import Foundation

/// Makes batches on a second thread, up to `depth` ahead of the thread that takes them: an
/// import reads and checks lines (their JSON, the Heroku shape) beside the recording of the
/// lines before, on the other core.
final class ReadAhead<Batch: Sendable>: @unchecked Sendable {
    // Unchecked: `made`, `spent` and `stopped` are only touched holding `condition`; `make`
    // only ever runs on the second thread.
    private let condition = NSCondition()
    /// Made and not yet taken, in order; the last is nil (no more) or an error.
    private var made: [Result<Batch?, any Error>] = []
    /// Taken and done with, to be freed on the second thread (`recycle`).
    private var spent: [Batch] = []
    private var stopped = false
    private let depth: Int

    /// `make` returns the next batch, or nil when there are no more; it is not called again
    /// after nil, an error, or `stop`.
    init(depth: Int, _ make: @escaping @Sendable () throws -> Batch?) {
        self.depth = depth
        DispatchQueue(label: "maintledger.read-ahead").async { self.run(make) }
    }

    private func run(_ make: () throws -> Batch?) {
        while true {
            let batch = Result { try make() }
            condition.lock()
            while made.count >= depth, !stopped { condition.wait() }
            made.append(batch)
            let last = stopped || (try? batch.get()) == nil
            var freed = spent
            spent = []
            condition.broadcast()
            condition.unlock()
            freed.removeAll()
            if last { return }
        }
    }

    /// The next batch, waiting for it; nil when there are no more.
    func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while made.isEmpty { condition.wait() }
        let batch = made.removeFirst()
        condition.broadcast()
        return try batch.get()
    }

    /// Hands back a batch taken and done with, to be freed on the second thread: what the
    /// second thread allocated, freed on the taker's, made each thread wait for the other's
    /// malloc arena (glibc), a tenth of an import's recording thread.
    func recycle(_ batch: consuming Batch) {
        condition.lock()
        spent.append(batch)
        condition.unlock()
    }

    /// Lets the second thread end after the batch it is making (its taker gave up): it does not
    /// wait for a read that may block, such as standard input's.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
