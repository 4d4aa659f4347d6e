import LedgerCore
import LedgerStore

/// One imported maintenance: the object its line holds, its row, and the lifecycle its times
/// imply. Read without the ledger, on the thread reading ahead, with as much of its recording
/// made ready there as the ledger does not decide: its rows prepared (`PreparedRows`), its names
/// hashed and its attachment names checked. A class, so that the recording thread passes it on
/// without copying its many strings.
final class ImportedMaintenance: Sendable {
    let object: HerokuMaintenance
    /// Its row, but for the add-on, which is resolved when it is recorded.
    let given: NewMaintenance
    /// The same row prepared, its add-on left open, among its batch's rows.
    let prepared: PreparedRows.Row
    /// The status changes of the lifecycle its times imply, prepared, the maintenance left open.
    let statusChanges: [PreparedRows.Row]
    /// Its uuid, app and add-on, as the recording thread looks them up.
    let uuid: ImportKey
    let app: ImportKey
    let addon: ImportKey
    /// The add-on's attachment names, distinct and in the order they are attached, each with
    /// the name it is stored as (nil when it is no name: `AttachmentName.validate` says why).
    let attachments: [(text: String, name: ImportKey?)]
    /// The keys of the object no field is read from (`addon.foo`).
    let unknownKeys: [String]

    var serverCreatedAt: Timestamp { given.serverCreatedAt }
    /// Not in the Heroku shape: the earliest time the object names.
    var createdAt: Timestamp { given.createdAt }

    /// Reads an object, which starts at `place`: JSON in the Heroku shape
    /// (`HerokuMaintenance(json:options:now:)` checks that it has a maintenance's own fields,
    /// whose times are not after `now`). Nil for an add-on's object without a maintenance (status `none`).
    init?(bytes: [UInt8], at place: ImportPlace, options: ImportOptions, now: Timestamp, rows: inout PreparedRows) throws {
        var failure: JSONParseFailure?
        guard let json = JSONValue.parse(bytes, failure: &failure) else { throw Self.invalid(bytes, failure!, at: place) }
        guard case .object = json else { throw LedgerError.invalidInput("not a JSON object", hint: nil) }
        if case .string("none") = json["status"] {
            try HerokuMaintenance.checkWithoutMaintenance(json, options: options)
            return nil
        }
        var unknownKeys: [String] = []
        let object = try HerokuMaintenance(json: json, options: options, now: now, unknownKeys: &unknownKeys)
        self.unknownKeys = unknownKeys
        self.object = object
        let row = NewMaintenance(
            uuid: object.uuid!, addonID: 0, status: object.status!, reason: object.reason!, method: object.method!,
            requiredBy: object.requiredBy!, scheduledFor: object.scheduledFor, previouslyScheduledFor: object.previouslyScheduledFor,
            window: object.window, outsideWindow: object.outsideWindow, startedAt: object.startedAt, completedAt: object.completedAt,
            durationSeconds: object.durationSeconds, serverCreatedAt: object.serverCreatedAt, customerRequested: object.customerRequested,
            emergency: object.emergency,
            createdAt: [object.scheduledFor, object.startedAt, object.completedAt, object.requiredBy].compactMap { $0 }.min()!)
        given = row
        prepared = rows.prepare(.maintenances, row.row.map(\.value), open: NewMaintenance.addonColumn)
        let actor = rows.actor
        statusChanges = Self.lifecycle(row).map { step in
            rows.prepare(.maintenanceStatusChanges, [.integer(0), RowValue(step.from?.rawValue), .text(step.to.rawValue), .time(step.at), .text(actor)],
                         open: 0)
        }
        uuid = ImportKey(row.uuid)
        app = ImportKey(object.app.name)
        addon = ImportKey(object.addon.name)
        attachments = Set(object.addon.attachments).sorted().map { ($0, (try? AttachmentName.validate($0)).map(ImportKey.init)) }
    }

    /// Why an object's text is not JSON, and where: the line and column (in bytes) of the file,
    /// or the column alone when the object is a line of NDJSON.
    private static func invalid(_ bytes: [UInt8], _ failure: JSONParseFailure, at place: ImportPlace) -> LedgerError {
        let lineStart = bytes[..<failure.offset].lastIndex(of: 0x0A).map { $0 + 1 }
        let line = place.line + bytes[..<(lineStart ?? 0)].count { $0 == 0x0A }
        // On the line the object starts on, its bytes start at its column.
        let column = lineStart.map { failure.offset - $0 + 1 } ?? place.column + failure.offset
        let spot = place.unit == .line ? "column \(column)" : "line \(line), column \(column)"
        let message = switch failure.reason {
        case .duplicateKey(let key): "the key '\(key)' appears twice"
        case .notUTF8: "the string at \(spot) is not UTF-8, as JSON must be"
        case .tooDeep: "nested more than \(JSONParseFailure.maximumDepth) levels deep at \(spot)"
        // A line of NDJSON cut short, or the first line of a pretty-printed object after one on a line.
        case .syntax where failure.offset == bytes.count && place.unit == .line:
            "not valid JSON: the line ends inside the object (a file whose first line is a whole object is read as NDJSON, an object a line)"
        case .syntax where failure.offset == bytes.count: "not valid JSON: it ends inside the object"
        case .syntax: "not valid JSON at \(spot)"
        }
        return LedgerError.invalidInput(message, hint: nil)
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

    /// Records the status changes of its lifecycle, once it is recorded as `id`, from its
    /// batch's prepared `rows`.
    func insertStatusChanges(of id: Int64, rows: PreparedRows, _ mutation: Mutation) throws {
        for change in statusChanges {
            try mutation.insert(change, of: rows, filling: id)
        }
    }

}

/// A name or uuid an import looks up on the recording thread, hashed on the thread reading
/// ahead: hashing each line's names as it was recorded was a tenth of the recording thread's
/// own (Swift) time. (A `String`'s hash is the same on every thread of a process.)
struct ImportKey: Hashable, Sendable {
    let text: String
    private let hash: Int

    init(_ text: String) {
        self.text = text
        hash = text.hashValue
    }

    static func == (left: ImportKey, right: ImportKey) -> Bool { left.hash == right.hash && left.text == right.text }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
