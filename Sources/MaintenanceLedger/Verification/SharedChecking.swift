import Crypto
import Foundation
import LedgerCore
import LedgerStore

/// A batch of work `audit:verify` copies out of SQLite, to be checked on either core.
protocol CheckedBatch: SendableMetatype {
    init()
    mutating func check()
    mutating func reset()
}

/// Checks batches on two cores: the reading thread fills `filling` and submits it; a second
/// thread checks it if free, else the reading thread does. Checked batches come back to
/// `absorb` on the reading thread, not necessarily in order.
final class SharedChecking<Batch: CheckedBatch>: @unchecked Sendable {
    // Unchecked: `inFlight` belongs to the second thread from `submit` handing it over until the
    // reading thread's wait on `finished` succeeds; everything else is only the reading thread's.
    var filling = Batch()
    private var inFlight = Batch()
    private var busy = false
    private let queue = DispatchQueue(label: "maintledger.verify")
    private let finished = DispatchSemaphore(value: 0)

    func submit(_ absorb: (inout Batch) -> Void) {
        collect(waiting: false, absorb)
        if busy {
            checkHere(absorb)
        } else {
            swap(&filling, &inFlight)
            busy = true
            queue.async {
                self.inFlight.check()
                self.finished.signal()
            }
        }
    }

    /// Checks the last batch and waits for the second thread.
    func finish(_ absorb: (inout Batch) -> Void) {
        checkHere(absorb)
        collect(waiting: true, absorb)
    }

    /// Lets a batch still in flight finish, unread: a verify that throws leaves no work behind.
    func waitForSecondThread() {
        collect(waiting: true) { _ in }
    }

    private func checkHere(_ absorb: (inout Batch) -> Void) {
        filling.check()
        absorb(&filling)
        filling.reset()
    }

    private func collect(waiting: Bool, _ absorb: (inout Batch) -> Void) {
        guard busy, finished.wait(timeout: waiting ? .distantFuture : .now()) == .success else { return }
        busy = false
        absorb(&inFlight)
        inFlight.reset()
    }
}

/// The first of the problems noted, by `Place`: batches report theirs in any order, and the
/// verdict is the problem a single pass in seq order would meet first.
struct FirstProblem<Place: Comparable> {
    private(set) var place: Place?
    private(set) var message = ""

    mutating func note(_ place: Place, _ message: @autoclosure () -> String) {
        guard self.place.map({ place < $0 }) ?? true else { return }
        self.place = place
        self.message = message()
    }
}
