import LedgerCore
import LedgerStore

/// What moved a maintenance to another time (`maintenance_moves.cause`, migration 0009).
package enum MoveCause: String, Sendable {
    /// `data:maintenances:schedule`.
    case schedule
    /// `data:maintenances:window:update`, which moves a pending maintenance into the new window.
    case window
    /// The platform giving a maintenance on a plan without windows its time (the engine).
    case platform
    /// `import` seeing a recorded maintenance's schedule changed.
    case `import`
}

extension Mutation {
    /// Records that `actor` moved maintenance `id` from `from` to `to` (its scheduled_for before
    /// and after) at `time`: every change of a recorded maintenance's time comes here, in the
    /// transaction that makes it, so that `maintenance_audit` can say who moved it. A "move" to
    /// the time it already had records nothing. (The time and actor are the command's, which in
    /// the engine's batch is not the entry's: a tick records many steps, each at its own time.)
    func recordMove(ofMaintenance id: Int64, from: Timestamp?, to: Timestamp?, at time: Timestamp, by actor: String,
                    cause: MoveCause) throws {
        guard from != to else { return }
        try insert(.maintenanceMoves, row: [
            "maintenance_id": RowValue(id), "moved_from": RowValue(from), "moved_to": RowValue(to),
            "moved_at": RowValue(time), "moved_by": RowValue(actor), "cause": RowValue(cause.rawValue),
        ])
    }
}
