import LedgerCore
import LedgerStore

/// What an imported object says of a maintenance already recorded: a daily import of Heroku's
/// history sees the same maintenance again as it moves on (pending yesterday, completed today).
/// That is progress, recorded through the lifecycle's rules (`StatusChange`): the status changes
/// from the recorded status to the one imported, each at the time the object gives it (running
/// at started_at, completed at completed_at) or, for a status the object gives no time for
/// (preparing, ready, failed, cancelled), at the time of the import, when it was seen; and the
/// schedule as it now stands. Refused: a change the lifecycle forbids (a completed maintenance
/// back to pending), a time recorded that the object contradicts, a change to what identifies a
/// maintenance (reason, method, required_by, its flags), and any change to a maintenance that
/// has ended.
struct MaintenanceProgress {
    /// The recorded maintenance's columns as they become (`set`), and the status changes.
    let set: NewMaintenance
    let steps: [(from: MaintenanceStatus, to: MaintenanceStatus, at: Timestamp)]

    /// Nil when the object holds what is recorded.
    init?(of recorded: NewMaintenance, lastChangeAt: Timestamp, to given: NewMaintenance, seenAt now: Timestamp) throws {
        let given = given.aligned(to: recorded)
        guard given != recorded else { return nil }
        func refuse(_ what: String) -> LedgerError {
            .refused("maintenance \(recorded.uuid) is recorded \(recorded.status.rawValue); the import says \(given.status.rawValue), \(what)", hint: nil)
        }
        for (field, same) in [("reason", given.reason == recorded.reason), ("method", given.method == recorded.method),
                              ("required_by", given.requiredBy == recorded.requiredBy),
                              ("customer_requested", given.customerRequested == recorded.customerRequested),
                              ("emergency", given.emergency == recorded.emergency)] where !same {
            throw refuse("with another \(field)")
        }
        guard let path = Self.path(from: recorded.status, to: given.status) else { throw refuse("a change the lifecycle forbids") }
        for (field, was, now) in [("started_at", recorded.startedAt, given.startedAt), ("completed_at", recorded.completedAt, given.completedAt)] {
            if let was, was != now { throw refuse("with \(field) \(now?.isoText ?? "missing"), not \(was.isoText)") }
        }
        guard recorded.status.isOpen else {
            let field = [("scheduled_for", given.scheduledFor == recorded.scheduledFor),
                         ("previously_scheduled_for", given.previouslyScheduledFor == recorded.previouslyScheduledFor),
                         ("window", given.window == recorded.window), ("outside_window", given.outsideWindow == recorded.outsideWindow),
                         ("duration_seconds", given.durationSeconds == recorded.durationSeconds),
                         ("server_created_at", given.serverCreatedAt == recorded.serverCreatedAt)].first { !$0.1 }
            throw refuse("with another \(field?.0 ?? "value"), but a \(recorded.status.rawValue) maintenance changes no more")
        }
        var last = lastChangeAt
        var steps: [(from: MaintenanceStatus, to: MaintenanceStatus, at: Timestamp)] = []
        for (from, to) in zip([recorded.status] + path.dropLast(), path) {
            let time = switch to {
            case .running: given.startedAt!
            case .completed: given.completedAt!
            default: now
            }
            guard time >= last else {
                throw refuse("\(to.rawValue) at \(time.isoText), before its last recorded status change at \(last.isoText)")
            }
            steps.append((from, to, time))
            last = time
        }
        set = given
        self.steps = steps
    }

    /// The statuses the lifecycle goes through from one to the other, fewest first (pending to
    /// completed: running, completed); nil when it cannot get there.
    static func path(from start: MaintenanceStatus, to end: MaintenanceStatus) -> [MaintenanceStatus]? {
        var paths: [MaintenanceStatus: [MaintenanceStatus]] = [start: []]
        var frontier = [start]
        while !frontier.isEmpty {
            var next: [MaintenanceStatus] = []
            for status in frontier {
                for change in StatusChange.allCases where change.allowedFrom.contains(status) && paths[change.target] == nil {
                    paths[change.target] = paths[status]! + [change.target]
                    next.append(change.target)
                }
            }
            frontier = next
        }
        return paths[end]
    }

    /// Records it: the maintenance's row as it becomes, its status changes, and its move if the
    /// schedule changed.
    func record(_ recorded: MaintenanceRecord, _ mutation: Mutation) throws {
        let m = set
        _ = try mutation.update(recorded, set: [
            "status": RowValue(m.status.rawValue), "scheduled_for": RowValue(m.scheduledFor),
            "previously_scheduled_for": RowValue(m.previouslyScheduledFor), "window": RowValue(m.window),
            "outside_window": RowValue(m.outsideWindow), "started_at": RowValue(m.startedAt), "completed_at": RowValue(m.completedAt),
            "duration_seconds": RowValue(m.durationSeconds), "server_created_at": RowValue(m.serverCreatedAt),
        ])
        try mutation.recordMove(ofMaintenance: recorded.id, from: recorded.scheduledFor, to: m.scheduledFor, at: mutation.context.now,
                                by: mutation.context.actor, cause: .import)
        for step in steps {
            try mutation.insert(.maintenanceStatusChanges, row: [
                "maintenance_id": RowValue(recorded.id), "from_status": RowValue(step.from.rawValue), "to_status": RowValue(step.to.rawValue),
                "changed_at": RowValue(step.at), "actor": RowValue(mutation.context.actor),
            ])
        }
    }
}

extension NewMaintenance {
    /// The object as the recorded maintenance would be if it holds the same: its add-on and
    /// creation time (not in the Heroku shape), and its times where the two agree to the second
    /// and one of them is given to the second only (list views print `2023-04-28 18:01:14 +0000`,
    /// `info --json` `2023-04-28T18:01:14.191+00:00`), with the duration the recorded times give.
    func aligned(to recorded: NewMaintenance) -> NewMaintenance {
        func same(_ given: Timestamp?, _ kept: Timestamp?) -> Timestamp? {
            guard let given, let kept, given.millisecondsSinceEpoch % 1000 == 0 || kept.millisecondsSinceEpoch % 1000 == 0,
                  Timestamp.floorDiv(given.millisecondsSinceEpoch, 1000) == Timestamp.floorDiv(kept.millisecondsSinceEpoch, 1000)
            else { return given }
            return kept
        }
        var aligned = self
        aligned.addonID = recorded.addonID
        aligned.createdAt = recorded.createdAt
        aligned.requiredBy = same(requiredBy, recorded.requiredBy)!
        aligned.scheduledFor = same(scheduledFor, recorded.scheduledFor)
        aligned.previouslyScheduledFor = same(previouslyScheduledFor, recorded.previouslyScheduledFor)
        aligned.startedAt = same(startedAt, recorded.startedAt)
        aligned.completedAt = same(completedAt, recorded.completedAt)
        aligned.serverCreatedAt = same(serverCreatedAt, recorded.serverCreatedAt)!
        if aligned.completedAt != nil, aligned.startedAt == recorded.startedAt, aligned.completedAt == recorded.completedAt {
            aligned.durationSeconds = recorded.durationSeconds
        }
        return aligned
    }
}
