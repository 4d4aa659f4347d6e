import LedgerCore
import LedgerStore

/// Records batches of maintenances, remembering the apps and add-ons it has resolved.
struct MaintenanceImporter {
    let actor: String
    let now: Timestamp
    var summary = ImportSummary()
    /// Apps and add-ons by name: those the ledger held that a batch named, and those created.
    private var appIDs: [ImportKey: Int64] = [:]
    private var addons: [ImportKey: (id: Int64, service: Service)] = [:]
    /// The batch's uuids the ledger held before the batch, with the values recorded.
    private var recorded: [ImportKey: NewMaintenance] = [:]
    /// The batch's uuids it has recorded itself, by the line and add-on recorded (a uuid may come twice).
    private var recordedByBatch: [ImportKey: (maintenance: ImportedMaintenance, addonID: Int64)] = [:]
    /// The live attachments of the apps and add-ons resolved.
    private var attachments = LiveAttachments()

    init(actor: String, now: Timestamp) {
        self.actor = actor
        self.now = now
    }

    /// Records the batch's maintenances in line order, then fails on its failure, if any.
    mutating func record(_ batch: LineBatch, _ mutation: Mutation) throws {
        try lookUp(batch, mutation.sql)
        // The batch goes back to the thread reading ahead to be freed there (`ReadAhead.recycle`):
        // none of its lines may stay behind.
        defer { recordedByBatch = [:] }
        for (line, maintenance) in batch.maintenances {
            do {
                try record(maintenance, rows: batch.rows, mutation)
            } catch let error as LedgerError {
                throw error.onLine(line, of: batch.source)
            } catch {
                // A line only the schema refuses (a CHECK, a length) is named with SQLite's reason.
                guard let reason = SQLiteFailure.reason(error) else { throw error }
                throw LedgerError.badData("line \(line) of \(batch.source): \(reason)", hint: Ledger.importHint(batch.source))
            }
        }
        if let failure = batch.failure { throw failure.error.onLine(failure.line, of: batch.source) }
    }

    /// What the ledger holds of the batch, in a few queries: its uuids, and the apps and
    /// add-ons it names that are not resolved yet (any still unresolved after this is new).
    private mutating func lookUp(_ batch: LineBatch, _ sql: LedgerSQL) throws {
        recorded = [:]
        for maintenance in try MaintenanceRecord.find(uuids: batch.maintenances.map { $0.maintenance.uuid.text }, sql) {
            recorded[ImportKey(maintenance.uuid)] = NewMaintenance(maintenance)
        }
        let apps = try AppRecord.find(named: batch.apps.filter { appIDs[$0] == nil }.map(\.text), sql)
        for app in apps {
            appIDs[ImportKey(app.name)] = app.id
        }
        let found = try AddonRecord.find(named: batch.addons.filter { addons[$0] == nil }.map(\.text), sql)
        for addon in found {
            addons[ImportKey(addon.name)] = (addon.id, addon.service)
        }
        try attachments.read(apps: apps.map { $0.id }, addons: found.map { $0.id }, sql)
    }

    private mutating func record(_ maintenance: ImportedMaintenance, rows: PreparedRows, _ mutation: Mutation) throws {
        if let existing = recorded[maintenance.uuid] {
            guard maintenance.matches(existing) else { throw Self.recordedWithOtherValues(maintenance) }
            summary.maintenancesAlreadyRecorded += 1
            return
        }
        if let earlier = recordedByBatch[maintenance.uuid] {
            guard maintenance.matches(earlier.maintenance, recordedOn: earlier.addonID) else { throw Self.recordedWithOtherValues(maintenance) }
            summary.maintenancesAlreadyRecorded += 1
            return
        }
        let object = maintenance.object
        let appID = try resolveApp(maintenance.app, uuid: object.app.uuid, mutation)
        let addonID = try resolveAddon(object.addon, description: object.addonDescription, appID: appID, maintenance: maintenance, mutation)
        try maintenance.insert(addonID: addonID, rows: rows, mutation)
        recordedByBatch[maintenance.uuid] = (maintenance, addonID)
        summary.maintenancesRecorded += 1
    }

    private static func recordedWithOtherValues(_ maintenance: ImportedMaintenance) -> LedgerError {
        LedgerError.refused("maintenance \(maintenance.uuid.text) is already recorded with other values", hint: nil)
    }

    private mutating func resolveApp(_ app: ImportKey, uuid: String?, _ mutation: Mutation) throws -> Int64 {
        if let id = appIDs[app] { return id }
        let name = app.text
        try Ledger.validateName(name, kind: "App", maxLength: 30)
        let id = try mutation.insert(.apps, row: [
            "uuid": .text(uuid ?? mutation.random.uuid()), "name": .text(name), "maintenance_mode": RowValue(false), "created_at": .time(now),
        ])
        summary.appsCreated += 1
        appIDs[app] = id
        attachments.created(app: id)
        return id
    }

    private mutating func resolveAddon(_ addon: HerokuMaintenance.Addon, description: String?, appID: Int64, maintenance: ImportedMaintenance,
                                       _ mutation: Mutation) throws -> Int64 {
        let name = addon.name
        let service = addon.kind
        if let known = addons[maintenance.addon] {
            guard known.service == service else { throw LedgerError.refused("add-on \(name) is \(known.service.rawValue), not \(service.rawValue)", hint: nil) }
            try ensureAttachments(maintenance.attachments, addonID: known.id, appID: appID, mutation)
            return known.id
        }
        try Ledger.validateName(name, kind: "Add-on", maxLength: 60)
        guard let planName = addon.plan else { throw LedgerError.invalidInput("addon.plan is missing", hint: nil) }
        let plan = try Plan.parse(planName, service: service).get()
        // Known since its server was made (or, failing that, its first maintenance).
        let provisioned = min(maintenance.serverCreatedAt, maintenance.createdAt)
        let id = try mutation.insert(.addons, row: [
            "uuid": .text(addon.uuid ?? mutation.random.uuid()), "name": .text(name), "service": .text(service.rawValue),
            "plan": .text(plan.name), "description": RowValue(description), "app_id": .integer(appID),
            "server_created_at": .time(maintenance.serverCreatedAt), "provisioned_at": .time(provisioned), "deprovisioned_at": .null,
        ])
        if let windowText = addon.window {
            guard let window = WeeklyWindow(text: windowText) else {
                throw LedgerError.invalidInput("addon.window '\(windowText)' is not a window like \"Fridays 19:00 to 23:00 UTC\"", hint: nil)
            }
            try mutation.insert(.windows, row: [
                "addon_id": .integer(id), "day_of_week": .integer(Int64(window.dayOfWeek)), "start_minute": .integer(Int64(window.startMinute)),
                "duration_minutes": .integer(Int64(WeeklyWindow.lengthMinutes)), "source": .text("default"), "set_at": .time(provisioned),
                "set_by": .text(actor),
            ])
        }
        summary.addonsCreated += 1
        addons[maintenance.addon] = (id, service)
        attachments.created(addon: id)
        try ensureAttachments(maintenance.attachments, addonID: id, appID: appID, mutation)
        return id
    }

    /// The shape lists attachment names without their apps: a name the add-on has nowhere yet
    /// is attached to the object's app (the owner) when free there; a name the owner already
    /// gives another add-on belongs to some other app the shape does not name, and is left out.
    private mutating func ensureAttachments(_ names: [(text: String, name: ImportKey?)], addonID: Int64, appID: Int64,
                                            _ mutation: Mutation) throws {
        for (text, checked) in names {
            let name = try checked ?? ImportKey(AttachmentName.validate(text))
            guard !attachments.has(name, addon: addonID) else { continue }
            guard !attachments.has(name, app: appID) else {
                summary.attachmentsLeftOut += 1
                continue
            }
            try mutation.insert(.attachments, row: [
                "app_id": .integer(appID), "addon_id": .integer(addonID), "name": .text(name.text), "attached_at": .time(now), "detached_at": .null,
            ])
            attachments.attach(name, app: appID, addon: addonID)
            summary.attachmentsCreated += 1
        }
    }
}

/// The live attachments of the apps and add-ons an import has resolved: read from the ledger
/// once for each it held (a batch's in two queries), known to be none for each it creates,
/// then kept as the import attaches names.
struct LiveAttachments {
    private struct Name: Hashable {
        let owner: Int64
        let name: ImportKey
    }

    /// The names of the live attachments, by app and by add-on.
    private var ofApps: Set<Name> = []
    private var ofAddons: Set<Name> = []
    private var apps: Set<Int64> = []
    private var addons: Set<Int64> = []

    /// Reads the live attachments of the apps and add-ons the ledger holds that are not read yet.
    mutating func read(apps: [Int64], addons: [Int64], _ sql: LedgerSQL) throws {
        let apps = apps.filter { self.apps.insert($0).inserted }
        let addons = addons.filter { self.addons.insert($0).inserted }
        for attachment in try AttachmentRecord.live(ofApps: apps, sql) {
            ofApps.insert(Name(owner: attachment.appID, name: ImportKey(attachment.name)))
        }
        for attachment in try AttachmentRecord.live(ofAddons: addons, sql) {
            ofAddons.insert(Name(owner: attachment.addonID, name: ImportKey(attachment.name)))
        }
    }

    mutating func created(app: Int64) {
        apps.insert(app)
    }

    mutating func created(addon: Int64) {
        addons.insert(addon)
    }

    func has(_ name: ImportKey, app: Int64) -> Bool {
        precondition(apps.contains(app), "the attachments of app \(app) are not read")
        return ofApps.contains(Name(owner: app, name: name))
    }

    func has(_ name: ImportKey, addon: Int64) -> Bool {
        precondition(addons.contains(addon), "the attachments of add-on \(addon) are not read")
        return ofAddons.contains(Name(owner: addon, name: name))
    }

    mutating func attach(_ name: ImportKey, app: Int64, addon: Int64) {
        ofApps.insert(Name(owner: app, name: name))
        ofAddons.insert(Name(owner: addon, name: name))
    }
}
