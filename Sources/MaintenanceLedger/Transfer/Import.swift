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
///
/// Read in chunks rather than with getline (issue 13, found by fuzz/cli_fuzz.py): getline grows
/// its buffer for a line of any length, so `import /dev/zero` (one endless line) took memory
/// until the system ran out; and its -1 means both the end of the file and a failed read, so
/// that failure (or EIO, or a folder given as standard input) passed for the end of the file:
/// the lines before it were kept and the import said it was done, exit 0. A line is now read up
/// to `maximumLineBytes`, and a read that fails is an error that names its line.
public final class LineReader {
    /// The longest line read (an import line is about 1 KB; a description may make it longer).
    static let maximumLineBytes = 64 << 20
    private let file: UnsafeMutablePointer<FILE>
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    private var chunkStart = 0
    private var chunkEnd = 0

    /// `-` reads standard input.
    public init(path: String) throws {
        var isFolder: ObjCBool = false
        if path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw LedgerError.invalidInput("\(path) is a folder", hint: "Give an NDJSON file, or - for standard input.")
        }
        guard let opened = path == "-" ? fdopen(STDIN_FILENO, "r") : fopen(path, "r") else {
            throw LedgerError.notFound("cannot read \(path): \(String(cString: strerror(errno)))", hint: "Give an NDJSON file, or - for standard input.")
        }
        file = opened
    }

    deinit {
        fclose(file)
    }

    /// The next line without its line break, or nil at the end.
    func next() throws -> [UInt8]? {
        var line: [UInt8] = []
        while true {
            if chunkStart == chunkEnd {
                chunkStart = 0
                chunkEnd = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
                if chunkEnd == 0 {
                    if ferror(file) != 0 {
                        throw LedgerError.refused("cannot be read (\(String(cString: strerror(errno))))", hint: nil)
                    }
                    // The end; a last line without its line break is a line.
                    return line.isEmpty ? nil : Self.trimmed(line)
                }
            }
            let newline = chunk[chunkStart..<chunkEnd].firstIndex(of: 0x0A)
            let end = newline ?? chunkEnd
            guard line.count + (end - chunkStart) <= Self.maximumLineBytes else {
                throw LedgerError.badData("longer than \(Self.maximumLineBytes >> 20) MiB, the most a line may hold", hint: nil)
            }
            line.append(contentsOf: chunk[chunkStart..<end])
            if let newline {
                chunkStart = newline + 1
                return Self.trimmed(line)
            }
            chunkStart = chunkEnd
        }
    }

    /// Without the carriage returns before its line feed.
    private static func trimmed(_ line: [UInt8]) -> [UInt8] {
        var line = line
        while line.last == 0x0D { line.removeLast() }
        return line
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
                        let next: [UInt8]?
                        do {
                            next = try reader.next()
                        } catch let error as LedgerError {
                            throw error.onLine(lineNumber + 1, of: source)
                        }
                        guard let line = next else {
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
                            throw LedgerError.badData("line \(lineNumber) of \(source): \(reason)", hint: Self.importHint(source))
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
        case .invalidInput, .badData: .badData(placed, hint: hint)
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
        let maintenance = ImportedMaintenance(object)
        let db = mutation.sql
        if let existing = try db.one(MaintenanceRecord.self, "SELECT * FROM maintenances WHERE uuid = ?", [maintenance.uuid]) {
            guard maintenance.matches(existing) else {
                throw LedgerError.refused("maintenance \(maintenance.uuid) is already recorded with other values", hint: nil)
            }
            summary.maintenancesAlreadyRecorded += 1
            return
        }
        let appID = try resolveApp(object.app, mutation)
        let addonID = try resolveAddon(object.addon, description: object.addonDescription, appID: appID, maintenance: maintenance, mutation)
        try maintenance.insert(addonID: addonID, actor: actor, mutation)
        summary.maintenancesRecorded += 1
    }

    private mutating func resolveApp(_ app: HerokuMaintenance.App, _ mutation: Mutation) throws -> Int64 {
        let name = app.name
        if let id = appIDs[name] { return id }
        let id: Int64
        if let app = try AppRecord.find(named: name, mutation.sql) {
            id = app.id
        } else {
            try Ledger.validateName(name, kind: "App", maxLength: 30)
            id = try mutation.insert(.apps, ["uuid": app.uuid ?? mutation.random.uuid(), "name": name, "maintenance_mode": false, "created_at": now])
            summary.appsCreated += 1
        }
        appIDs[name] = id
        return id
    }

    private mutating func resolveAddon(_ addon: HerokuMaintenance.Addon, description: String?, appID: Int64, maintenance: ImportedMaintenance,
                                       _ mutation: Mutation) throws -> Int64 {
        let name = addon.name
        let service = addon.kind
        if let known = addons[name] {
            guard known.service == service else { throw LedgerError.refused("add-on \(name) is \(known.service.rawValue), not \(service.rawValue)", hint: nil) }
            try ensureAttachments(addon.attachments, addonID: known.id, appID: appID, mutation)
            return known.id
        }
        let db = mutation.sql
        let id: Int64
        if let existing = try AddonRecord.find(named: name, db) {
            guard existing.service == service else {
                throw LedgerError.refused("add-on \(name) is \(existing.service.rawValue), not \(service.rawValue)", hint: nil)
            }
            id = existing.id
        } else {
            try Ledger.validateName(name, kind: "Add-on", maxLength: 60)
            guard let planName = addon.plan else { throw LedgerError.invalidInput("addon.plan is missing", hint: nil) }
            let plan = try Plan.parse(planName, service: service).get()
            // Known since its server was made (or, failing that, its first maintenance).
            let provisioned = min(maintenance.serverCreatedAt, maintenance.createdAt)
            id = try mutation.insert(.addons, [
                "uuid": addon.uuid ?? mutation.random.uuid(), "name": name, "service": service.rawValue,
                "plan": plan.name, "description": description, "app_id": appID,
                "server_created_at": maintenance.serverCreatedAt, "provisioned_at": provisioned, "deprovisioned_at": nil,
            ])
            if let windowText = addon.window {
                guard let window = WeeklyWindow(text: windowText) else {
                    throw LedgerError.invalidInput("addon.window '\(windowText)' is not a window like \"Fridays 19:00 to 23:00 UTC\"", hint: nil)
                }
                try mutation.insert(.windows, ["addon_id": id, "day_of_week": window.dayOfWeek, "start_minute": window.startMinute,
                                               "source": "default", "set_at": provisioned, "set_by": actor])
            }
            summary.addonsCreated += 1
        }
        addons[name] = (id, service)
        try ensureAttachments(addon.attachments, addonID: id, appID: appID, mutation)
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

/// One imported maintenance: its row, and the lifecycle its times imply.
private struct ImportedMaintenance {
    /// Its row, but for the add-on, which is resolved when it is recorded.
    private let row: NewMaintenance

    var uuid: String { row.uuid }
    var serverCreatedAt: Timestamp { row.serverCreatedAt }
    /// Not in the Heroku shape: the earliest time the object names.
    var createdAt: Timestamp { row.createdAt }

    /// `HerokuMaintenance(json:)` has checked that the object has a maintenance's own fields.
    init(_ object: HerokuMaintenance) {
        row = NewMaintenance(
            uuid: object.uuid!, addonID: 0, status: object.status!, reason: object.reason!, method: object.method!,
            requiredBy: object.requiredBy!, scheduledFor: object.scheduledFor, previouslyScheduledFor: object.previouslyScheduledFor,
            window: object.window, outsideWindow: object.outsideWindow, startedAt: object.startedAt, completedAt: object.completedAt,
            durationSeconds: object.durationSeconds, serverCreatedAt: object.serverCreatedAt, customerRequested: object.customerRequested,
            emergency: object.emergency,
            createdAt: [object.scheduledFor, object.startedAt, object.completedAt, object.requiredBy].compactMap { $0 }.min()!)
    }

    /// The statuses it went through: created pending (or running, when run by the customer
    /// at once), started, then its end, each at the time the object gives.
    private var lifecycle: [(from: MaintenanceStatus?, to: MaintenanceStatus, at: Timestamp)] {
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

    func insert(addonID: Int64, actor: String, _ mutation: Mutation) throws {
        var row = self.row
        row.addonID = addonID
        let id = try mutation.insert(row).id
        for step in lifecycle {
            try mutation.insert(.maintenanceStatusChanges, ["maintenance_id": id, "from_status": step.from?.rawValue,
                                                            "to_status": step.to.rawValue, "changed_at": step.at, "actor": actor])
        }
    }

    /// Whether a recorded maintenance holds the values this object gives (its creation time is
    /// not in the Heroku shape but derived here, so it is not compared).
    func matches(_ recorded: MaintenanceRecord) -> Bool {
        var given = row
        given.addonID = recorded.addonID
        given.createdAt = recorded.createdAt
        return given == NewMaintenance(recorded)
    }
}
