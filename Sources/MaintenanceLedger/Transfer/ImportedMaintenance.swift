import LedgerCore
import LedgerStore

/// One imported maintenance: the object its line holds, its row, and the lifecycle its times
/// imply. Read without the ledger, on the thread reading ahead; a class, so that the recording
/// thread passes it on without copying its many strings.
final class ImportedMaintenance: Sendable {
    let object: HerokuMaintenance
    /// Its row, but for the add-on, which is resolved when it is recorded.
    private let row: NewMaintenance
    private let lifecycle: [(from: MaintenanceStatus?, to: MaintenanceStatus, at: Timestamp)]

    var uuid: String { row.uuid }
    var serverCreatedAt: Timestamp { row.serverCreatedAt }
    /// Not in the Heroku shape: the earliest time the object names.
    var createdAt: Timestamp { row.createdAt }

    /// Reads a line: a JSON object in the Heroku shape (`HerokuMaintenance(json:)` checks that
    /// it has a maintenance's own fields), whose times are not after `now`.
    init(line: [UInt8], now: Timestamp) throws {
        var duplicateKey: String?
        guard let json = JSONValue.parse(line, duplicateKey: &duplicateKey), case .object = json else {
            if let duplicateKey { throw LedgerError.invalidInput("the key '\(duplicateKey)' appears twice", hint: nil) }
            throw LedgerError.invalidInput("not a JSON object", hint: nil)
        }
        let object = try HerokuMaintenance(json: json)
        // What has happened cannot have happened after now.
        for (field, time) in [("started_at", object.startedAt), ("completed_at", object.completedAt)] {
            if let time, time > now {
                throw LedgerError.invalidInput("\(field) \(time.isoText) is in the future (now is \(now.isoText))", hint: nil)
            }
        }
        self.object = object
        row = NewMaintenance(
            uuid: object.uuid!, addonID: 0, status: object.status!, reason: object.reason!, method: object.method!,
            requiredBy: object.requiredBy!, scheduledFor: object.scheduledFor, previouslyScheduledFor: object.previouslyScheduledFor,
            window: object.window, outsideWindow: object.outsideWindow, startedAt: object.startedAt, completedAt: object.completedAt,
            durationSeconds: object.durationSeconds, serverCreatedAt: object.serverCreatedAt, customerRequested: object.customerRequested,
            emergency: object.emergency,
            createdAt: [object.scheduledFor, object.startedAt, object.completedAt, object.requiredBy].compactMap { $0 }.min()!)
        lifecycle = Self.lifecycle(row)
    }

    /// The statuses it went through: created pending (or running, when run by the customer
    /// at once), started, then its end, each at the time the object gives.
    private static func lifecycle(_ row: NewMaintenance) -> [(from: MaintenanceStatus?, to: MaintenanceStatus, at: Timestamp)] {
        let (status, createdAt) = (row.status, row.createdAt)
        var steps: [(MaintenanceStatus?, MaintenanceStatus, Timestamp)] = [(nil, .pending, createdAt)]
        if let startedAt = row.startedAt, status != .pending {
            if startedAt == createdAt, row.customerRequested { steps = [(nil, .running, startedAt)] } else { steps.append((.pending, .running, startedAt)) }
        }
        let last = steps.last!.1
        switch status {
        case .completed: steps.append((last, .completed, row.completedAt!))
        case .failed, .cancelled: if last != status { steps.append((last, status, row.startedAt ?? createdAt)) }
        case .preparing, .ready: steps.append((last, status, createdAt))
        case .pending, .running: break
        }
        return steps.filter { $0.0 != $0.1 }
    }

    /// Records it on the add-on, with its lifecycle; returns the values recorded.
    func insert(addonID: Int64, actor: String, _ mutation: Mutation) throws -> NewMaintenance {
        var row = self.row
        row.addonID = addonID
        let id = try mutation.insert(row).id
        for step in lifecycle {
            try mutation.insert(.maintenanceStatusChanges, row: [
                "maintenance_id": .integer(id), "from_status": RowValue(step.from?.rawValue), "to_status": .text(step.to.rawValue),
                "changed_at": .time(step.at), "actor": .text(actor),
            ])
        }
        return row
    }

    /// Whether a recorded maintenance holds the values this object gives (its creation time is
    /// not in the Heroku shape but derived here, so it is not compared).
    func matches(_ recorded: NewMaintenance) -> Bool {
        var given = row
        given.addonID = recorded.addonID
        given.createdAt = recorded.createdAt
        return given == recorded
    }
}
