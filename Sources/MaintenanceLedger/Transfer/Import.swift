import LedgerCore
import LedgerStore
import Foundation

/// What an import did.
public struct ImportSummary: Sendable, Equatable {
    public var lines = 0
    public var maintenancesRecorded = 0
    public var maintenancesAlreadyRecorded = 0
    public var appsCreated = 0
    public var addonsCreated = 0
    public var attachmentsCreated = 0
    /// Attachment names whose app the shape does not tell (see `ensureAttachments`).
    public var attachmentsLeftOut = 0
}

/// Lines of a file or of standard input, read through C stdio (fast, and memory stays flat).
public final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    /// `-` reads standard input.
    public init(path: String) throws {
        guard let opened = path == "-" ? fdopen(STDIN_FILENO, "r") : fopen(path, "r") else {
            throw LedgerError.notFound("cannot read \(path): \(String(cString: strerror(errno)))", hint: "Give an NDJSON file, or - for standard input.")
        }
        file = opened
    }

    deinit {
        free(buffer)
        fclose(file)
    }

    /// The next line without its line break, or nil at the end.
    func next() -> [UInt8]? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else { return nil }
        var count = length
        while count > 0, buffer[count - 1] == 0x0A || buffer[count - 1] == 0x0D { count -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }
}

extension Ledger {
    /// Imported lines per trail entry: each entry's payload holds its rows' images.
    static let importLinesPerEntry = 100

    /// `import FILE|-`: NDJSON maintenance objects in the Heroku shape (`data:maintenances:info
    /// --json`). Creates the apps, add-ons and attachments it names that the ledger lacks and
    /// records each maintenance once: a uuid already recorded with the same values is skipped,
    /// so importing a file again changes nothing. One transaction: a bad line (reported with its
    /// number) leaves the ledger as it was.
    public func importMaintenances(from reader: LineReader, source: String) throws -> ImportSummary {
        var importer = MaintenanceImporter(actor: context.actor, now: context.now)
        var lineNumber = 0
        var finished = false
        try database.batch {
            while !finished {
                try database.record(context) { mutation in
                    mutation.describe(action: "import", subject: "file:\(source)")
                    for _ in 0..<Self.importLinesPerEntry {
                        guard let line = reader.next() else {
                            finished = true
                            return
                        }
                        lineNumber += 1
                        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
                        do {
                            try importer.importLine(line, mutation)
                        } catch let error as LedgerError {
                            throw error.onLine(lineNumber, of: source)
                        } catch {
                            // A line only the schema refuses (a CHECK, a length) is named with SQLite's reason.
                            guard let reason = SQLiteFailure.reason(error) else { throw error }
                            throw LedgerError.invalidInput("line \(lineNumber) of \(source): \(reason)", hint: Self.importHint(source))
                        }
                    }
                }
            }
        }
        importer.summary.lines = lineNumber
        return importer.summary
    }

    static func importHint(_ source: String) -> String {
        "Nothing from \(source) was imported; fix that line and import the file again."
    }
}

extension LedgerError {
    /// The same error, placed on an import's line.
    func onLine(_ number: Int, of source: String) -> LedgerError {
        let placed = "line \(number) of \(source): \(message)"
        let hint = Ledger.importHint(source)
        return switch self {
        case .invalidInput: .invalidInput(placed, hint: hint)
        default: .refused(placed, hint: hint)
        }
    }
}

/// Turns one maintenance object into rows, remembering the apps and add-ons it has resolved.
private struct MaintenanceImporter {
    let actor: String
    let now: Timestamp
    var summary = ImportSummary()
    private var appIDs: [String: Int64] = [:]
    private var addons: [String: (id: Int64, service: Service)] = [:]

    init(actor: String, now: Timestamp) {
        self.actor = actor
        self.now = now
    }

    mutating func importLine(_ line: [UInt8], _ mutation: Mutation) throws {
        guard let object = JSONValue.parse(line), case .object = object else {
            throw LedgerError.invalidInput("not a JSON object", hint: nil)
        }
        let fields = ImportedFields(object)
        let maintenance = try ImportedMaintenance(fields)
        let db = mutation.sql
        if let existing = try db.one(MaintenanceRecord.self, "SELECT * FROM maintenances WHERE uuid = ?", [maintenance.uuid]) {
            guard maintenance.matches(existing) else {
                throw LedgerError.refused("maintenance \(maintenance.uuid) is already recorded with other values", hint: nil)
            }
            summary.maintenancesAlreadyRecorded += 1
            return
        }
        let appID = try resolveApp(try fields.nested("app").string("name"), uuid: fields.nested("app").optionalString("uuid"), mutation)
        let addonID = try resolveAddon(fields, appID: appID, maintenance: maintenance, mutation)
        try maintenance.insert(addonID: addonID, actor: actor, mutation)
        summary.maintenancesRecorded += 1
    }

    private mutating func resolveApp(_ name: String, uuid: String?, _ mutation: Mutation) throws -> Int64 {
        if let id = appIDs[name] { return id }
        let id: Int64
        if let app = try mutation.sql.one(AppRecord.self, "SELECT * FROM apps WHERE name = ?", [name]) {
            id = app.id
        } else {
            try Ledger.validateName(name, kind: "App", maxLength: 30)
            id = try mutation.insert(.apps, ["uuid": uuid ?? mutation.random.uuid(), "name": name, "maintenance_mode": false, "created_at": now])
            summary.appsCreated += 1
        }
        appIDs[name] = id
        return id
    }

    private mutating func resolveAddon(_ fields: ImportedFields, appID: Int64, maintenance: ImportedMaintenance,
                                       _ mutation: Mutation) throws -> Int64 {
        let addon = try fields.nested("addon")
        let name = try addon.string("name")
        let service = try addon.service("kind")
        if let known = addons[name] {
            guard known.service == service else { throw LedgerError.refused("add-on \(name) is \(known.service.rawValue), not \(service.rawValue)", hint: nil) }
            try ensureAttachments(try addon.strings("attachments"), addonID: known.id, appID: appID, mutation)
            return known.id
        }
        let db = mutation.sql
        let id: Int64
        if let existing = try db.one(AddonRecord.self, "SELECT * FROM addons WHERE name = ?", [name]) {
            guard existing.service == service else {
                throw LedgerError.refused("add-on \(name) is \(existing.service.rawValue), not \(service.rawValue)", hint: nil)
            }
            id = existing.id
        } else {
            try Ledger.validateName(name, kind: "Add-on", maxLength: 60)
            let plan = try Plan.parse(try addon.string("plan"), service: service).get()
            // Known since its server was made (or, failing that, its first maintenance).
            let provisioned = min(maintenance.serverCreatedAt, maintenance.createdAt)
            id = try mutation.insert(.addons, [
                "uuid": try addon.optionalString("uuid") ?? mutation.random.uuid(), "name": name, "service": service.rawValue,
                "plan": plan.name, "description": try fields.optionalString("addon_description"), "app_id": appID,
                "server_created_at": maintenance.serverCreatedAt, "provisioned_at": provisioned, "deprovisioned_at": nil,
            ])
            if let windowText = try addon.optionalString("window") {
                guard let window = WeeklyWindow(text: windowText) else {
                    throw LedgerError.invalidInput("addon.window '\(windowText)' is not a window like \"Fridays 19:00 to 23:00 UTC\"", hint: nil)
                }
                try mutation.insert(.windows, ["addon_id": id, "day_of_week": window.dayOfWeek, "start_minute": window.startMinute,
                                               "source": "default", "set_at": provisioned, "set_by": actor])
            }
            summary.addonsCreated += 1
        }
        addons[name] = (id, service)
        try ensureAttachments(try addon.strings("attachments"), addonID: id, appID: appID, mutation)
        return id
    }

    /// The shape lists attachment names without their apps: a name the add-on has nowhere yet
    /// is attached to the object's app (the owner) when free there; a name the owner already
    /// gives another add-on belongs to some other app the shape does not name, and is left out.
    private mutating func ensureAttachments(_ names: [String], addonID: Int64, appID: Int64, _ mutation: Mutation) throws {
        for name in Set(names).sorted() {
            let attached = try mutation.sql.value(Bool.self, """
                SELECT count(*) > 0 FROM attachments WHERE addon_id = ? AND name = ? AND detached_at IS NULL
                """, [addonID, name]) ?? false
            guard !attached else { continue }
            let taken = try mutation.sql.value(Bool.self, """
                SELECT count(*) > 0 FROM attachments WHERE app_id = ? AND name = ? AND detached_at IS NULL
                """, [appID, name]) ?? false
            guard !taken else {
                summary.attachmentsLeftOut += 1
                continue
            }
            try mutation.insert(.attachments, ["app_id": appID, "addon_id": addonID, "name": try AttachmentName.validate(name),
                                               "attached_at": now, "detached_at": nil])
            summary.attachmentsCreated += 1
        }
    }
}

/// Typed access to a decoded JSON object, with errors naming the field.
private struct ImportedFields {
    let object: JSONValue
    let path: String

    init(_ object: JSONValue, path: String = "") {
        self.object = object
        self.path = path
    }

    private func name(_ key: String) -> String { path + key }

    func optionalString(_ key: String) throws -> String? {
        switch object[key] {
        case nil, .null: return nil
        case .string(let text): return text
        default: throw LedgerError.invalidInput("\(name(key)) is not a string", hint: nil)
        }
    }

    func string(_ key: String) throws -> String {
        guard let text = try optionalString(key) else { throw LedgerError.invalidInput("\(name(key)) is missing", hint: nil) }
        return text
    }

    func strings(_ key: String) throws -> [String] {
        switch object[key] {
        case nil, .null: return []
        case .array(let items):
            return try items.map { item in
                guard case .string(let text) = item else { throw LedgerError.invalidInput("\(name(key)) holds a non-string", hint: nil) }
                return text
            }
        default: throw LedgerError.invalidInput("\(name(key)) is not an array", hint: nil)
        }
    }

    func optionalTime(_ key: String) throws -> Timestamp? {
        guard let text = try optionalString(key) else { return nil }
        guard let time = Timestamp(iso: text) else { throw LedgerError.invalidInput("\(name(key)) '\(text)' is not an ISO 8601 time", hint: nil) }
        return time
    }

    func time(_ key: String) throws -> Timestamp {
        guard let time = try optionalTime(key) else { throw LedgerError.invalidInput("\(name(key)) is missing", hint: nil) }
        return time
    }

    func flag(_ key: String) throws -> Bool {
        switch object[key] {
        case nil, .null: return false
        case .bool(let flag): return flag
        default: throw LedgerError.invalidInput("\(name(key)) is not true or false", hint: nil)
        }
    }

    func optionalInteger(_ key: String) throws -> Int64? {
        switch object[key] {
        case nil, .null: return nil
        case .int(let number): return number
        case .double(let number) where number == number.rounded() && abs(number) < 9.0e18: return Int64(number)
        default: throw LedgerError.invalidInput("\(name(key)) is not a whole number", hint: nil)
        }
    }

    func choice<T: RawRepresentable>(_ key: String, _ type: T.Type) throws -> T where T.RawValue == String, T: CaseIterable {
        let text = try string(key)
        guard let value = T(rawValue: text) else {
            throw LedgerError.invalidInput("\(name(key)) '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", hint: nil)
        }
        return value
    }

    func service(_ key: String) throws -> Service {
        let text = try string(key)
        guard let service = Service(kind: text) else {
            throw LedgerError.invalidInput("\(name(key)) '\(text)' is not one of \(Service.allCases.map(\.rawValue).joined(separator: ", "))", hint: nil)
        }
        return service
    }

    func nested(_ key: String) throws -> ImportedFields {
        guard let nested = object[key], case .object = nested else { throw LedgerError.invalidInput("\(name(key)) is missing or not an object", hint: nil) }
        return ImportedFields(nested, path: name(key) + ".")
    }
}

/// One imported maintenance, checked, with the lifecycle its times imply.
private struct ImportedMaintenance {
    let uuid: String
    let status: MaintenanceStatus
    let reason: MaintenanceReason
    let method: MaintenanceMethod
    let requiredBy: Timestamp
    let scheduledFor: Timestamp?
    let previouslyScheduledFor: Timestamp?
    let window: String?
    let outsideWindow: Bool
    let startedAt: Timestamp?
    let completedAt: Timestamp?
    let durationSeconds: Int64?
    let serverCreatedAt: Timestamp
    let customerRequested: Bool
    let emergency: Bool
    /// Not in the Heroku shape: the earliest time the object names.
    let createdAt: Timestamp

    init(_ fields: ImportedFields) throws {
        uuid = try fields.string("uuid").lowercased()
        guard uuid.count == 36, UUID(uuidString: uuid) != nil else {
            throw LedgerError.invalidInput("uuid '\(uuid)' is not a UUID", hint: nil)
        }
        status = try fields.choice("status", MaintenanceStatus.self)
        reason = try fields.choice("reason", MaintenanceReason.self)
        method = try fields.choice("method", MaintenanceMethod.self)
        requiredBy = try fields.time("required_by")
        scheduledFor = try fields.optionalTime("scheduled_for")
        previouslyScheduledFor = try fields.optionalTime("previously_scheduled_for")
        window = try fields.optionalString("window")
        outsideWindow = try fields.flag("outside_window")
        startedAt = try fields.optionalTime("started_at")
        completedAt = try fields.optionalTime("completed_at")
        durationSeconds = try fields.optionalInteger("duration_seconds")
        serverCreatedAt = try fields.time("server_created_at")
        customerRequested = try fields.flag("customer_requested")
        emergency = try fields.flag("emergency")
        createdAt = [scheduledFor, startedAt, completedAt, requiredBy].compactMap { $0 }.min()!
        if status == .completed, completedAt == nil { throw LedgerError.invalidInput("a completed maintenance needs completed_at", hint: nil) }
        if [.running, .completed, .failed].contains(status), startedAt == nil {
            throw LedgerError.invalidInput("a \(status.rawValue) maintenance needs started_at", hint: nil)
        }
    }

    /// The statuses it went through: created pending (or running, when run by the customer
    /// at once), started, then its end, each at the time the object gives.
    private var lifecycle: [(from: MaintenanceStatus?, to: MaintenanceStatus, at: Timestamp)] {
        var steps: [(MaintenanceStatus?, MaintenanceStatus, Timestamp)] = [(nil, .pending, createdAt)]
        if let startedAt, status != .pending {
            if startedAt == createdAt, customerRequested { steps = [(nil, .running, startedAt)] } else { steps.append((.pending, .running, startedAt)) }
        }
        let last = steps.last!.1
        switch status {
        case .completed: steps.append((last, .completed, completedAt!))
        case .failed, .cancelled: if last != status { steps.append((last, status, startedAt ?? createdAt)) }
        case .preparing, .ready: steps.append((last, status, createdAt))
        case .pending, .running: break
        }
        return steps.filter { $0.0 != $0.1 }
    }

    func insert(addonID: Int64, actor: String, _ mutation: Mutation) throws {
        let id = try mutation.insert(row(addonID: addonID)).id
        for step in lifecycle {
            try mutation.insert(.maintenanceStatusChanges, ["maintenance_id": id, "from_status": step.from?.rawValue,
                                                            "to_status": step.to.rawValue, "changed_at": step.at, "actor": actor])
        }
    }

    /// Its row, on the add-on it belongs to.
    private func row(addonID: Int64) -> NewMaintenance {
        NewMaintenance(uuid: uuid, addonID: addonID, status: status, reason: reason, method: method, requiredBy: requiredBy,
                       scheduledFor: scheduledFor, previouslyScheduledFor: previouslyScheduledFor, window: window,
                       outsideWindow: outsideWindow, startedAt: startedAt, completedAt: completedAt, durationSeconds: durationSeconds,
                       serverCreatedAt: serverCreatedAt, customerRequested: customerRequested, emergency: emergency, createdAt: createdAt)
    }

    /// Whether a recorded maintenance holds the values this object gives (its creation time is
    /// not in the Heroku shape but derived here, so it is not compared).
    func matches(_ recorded: MaintenanceRecord) -> Bool {
        var given = row(addonID: recorded.addonID)
        given.createdAt = recorded.createdAt
        return given == NewMaintenance(recorded)
    }
}
