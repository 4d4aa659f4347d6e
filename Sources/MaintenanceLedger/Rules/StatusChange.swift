import LedgerCore
import LedgerStore
/// The lifecycle: which status each change leads to, and from which it may be made.
public enum StatusChange: String, Sendable, CaseIterable {
    case prepare, ready, start, complete, fail, cancel

    var target: MaintenanceStatus {
        switch self {
        case .prepare: .preparing
        case .ready: .ready
        case .start: .running
        case .complete: .completed
        case .fail: .failed
        case .cancel: .cancelled
        }
    }

    /// pending → preparing → ready → running → completed | failed; start from any state
    /// before running; cancel from any state before running.
    var allowedFrom: [MaintenanceStatus] {
        switch self {
        case .prepare: [.pending]
        case .ready: [.preparing]
        case .start, .cancel: [.pending, .preparing, .ready]
        case .complete, .fail: [.running]
        }
    }
}
