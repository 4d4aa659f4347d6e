import LedgerCore
import LedgerStore

/// Records batches of maintenances, remembering the apps and add-ons it has resolved.
struct MaintenanceImporter {
    let actor: String
    let now: Timestamp
    /// Whether a maintenance the rules refuse is set aside for `takeRefusals` and the import goes
    /// on (a dry run), rather than ending it.
    let collectsRefusals: Bool
    var summary = ImportSummary()
    private var refusals: [(place: ImportPlace, error: LedgerError)] = []
    /// Apps and add-ons by name: those the ledger held that a batch named, and those created.
    private var apps: [ImportKey: KnownApp] = [:]
    private var addons: [ImportKey: KnownAddon] = [:]
    /// The live attachments of the apps and add-ons resolved.
    private var attachments = LiveAttachments()

    private struct KnownApp {
        let id: Int64
        let uuid: String
    }

    private struct KnownAddon {
        let id: Int64
        let uuid: String
        let service: Service
        let appID: Int64
        /// When it was deprovisioned, for one the ledger holds destroyed.
        let destroyedAt: Timestamp?
    }

    init(actor: String, now: Timestamp, collectsRefusals: Bool) {
        self.actor = actor
        self.now = now
        self.collectsRefusals = collectsRefusals
    }

    /// Records the batch's maintenances in order, then fails on its failure, or its first
    /// refusal, if any (unless refusals are collected).
    mutating func record(_ batch: LineBatch, _ mutation: Mutation) throws {
        try lookUp(batch, mutation.sql)
        summary.withoutMaintenance += batch.withoutMaintenance
        summary.unknownKeys.add(batch.unknownKeys)
        var refused = batch.refusals
        for (place, maintenance) in batch.maintenances {
            let refusal: LedgerError
            do {
                try record(maintenance, rows: batch.rows, mutation)
                continue
            } catch let error as LedgerError {
                refusal = error.at(place, of: batch.source)
            } catch {
                // An object only the schema refuses (a CHECK, a length) is named with SQLite's reason.
                guard let reason = SQLiteFailure.reason(error) else { throw error }
                refusal = LedgerError.badData("\(place.description(of: batch.source)): \(reason)", hint: Ledger.importHint(batch.source, place))
            }
            guard collectsRefusals else { throw refusal }
            refused.append((place, refusal))
        }
        if !collectsRefusals, let first = refused.first { throw first.error }
        summary.refused += refused.count
        refusals += refused.sorted { $0.place.number < $1.place.number }
        // After the refusals before it, which a dry run still reports.
        if let failure = batch.failure { throw failure }
    }

    /// The refusals collected since the last call, in the order of the input.
    mutating func takeRefusals() -> [LedgerError] {
        defer { refusals = [] }
        return refusals.map(\.error)
    }

    /// What the ledger holds of the apps and add-ons the batch names that are not resolved yet,
    /// in a few queries (any still unresolved after this is new).
    private mutating func lookUp(_ batch: LineBatch, _ sql: LedgerSQL) throws {
        let foundApps = try AppRecord.find(named: batch.apps.filter { apps[$0] == nil }.map(\.text), sql)
        for app in foundApps {
            apps[ImportKey(app.name)] = KnownApp(id: app.id, uuid: app.uuid)
        }
        let found = try AddonRecord.find(named: batch.addons.filter { addons[$0] == nil }.map(\.text), sql)
        for addon in found {
            addons[ImportKey(addon.name)] = KnownAddon(id: addon.id, uuid: addon.uuid, service: addon.service, appID: addon.appID,
                                                       destroyedAt: addon.deprovisionedAt)
        }
        try attachments.read(apps: foundApps.map { $0.id }, addons: found.map { $0.id }, sql)
    }

    /// Records a maintenance unless its uuid is recorded already (with the same values: a
    /// uuid recorded with others is refused).
    ///
    /// Most lines name an app and an add-on resolved before, whose attachments they leave as
    /// they are: recording them changes nothing but their own rows, so the insert itself tells
    /// whether the uuid is recorded (`ON CONFLICT (uuid) DO NOTHING`), and the uuid index is
    /// searched once per line instead of twice (a look-up of the batch's uuids before it was a
    /// sixteenth of the recording thread's time). A line that creates an app, an add-on or an
    /// attachment, or that its add-on refuses, is first looked up by its uuid, as every line
    /// was: a recorded maintenance creates nothing and is refused for nothing but its values.
    private mutating func record(_ maintenance: ImportedMaintenance, rows: PreparedRows, _ mutation: Mutation) throws {
        let known = (app: apps[maintenance.app], addon: addons[maintenance.addon])
        try checkUUIDs(maintenance, known.app, known.addon)
        guard let resolved = resolvedAsTheyAre(maintenance, known.app, known.addon) else {
            if let recorded = try MaintenanceRecord.find(uuid: maintenance.uuid.text, mutation.sql) {
                return try alreadyRecorded(maintenance, recorded, known.app, known.addon, mutation)
            }
            try checkNotAfterDestroyed(maintenance, known.addon)
            let appID = try resolveApp(maintenance.app, uuid: maintenance.object.app.uuid, mutation)
            let addonID = try resolveAddon(maintenance.object.addon, description: maintenance.object.addonDescription, appID: appID,
                                           maintenance: maintenance, mutation)
            let id = try mutation.insert(maintenance.prepared, of: rows, filling: addonID)
            try maintenance.insertStatusChanges(of: id, rows: rows, mutation)
            summary.new += 1
            return
        }
        let inserted: Int64?
        do {
            inserted = try mutation.insert(maintenance.prepared, of: rows, filling: resolved.addonID, unlessRecorded: "uuid")
        } catch {
            // Refused by the schema: unless its uuid is recorded, which is what a look-up before
            // the insert reported (SQLite checks a row's CHECKs before its uniqueness).
            if let recorded = try MaintenanceRecord.find(uuid: maintenance.uuid.text, mutation.sql) {
                return try alreadyRecorded(maintenance, recorded, known.app, known.addon, mutation)
            }
            throw error
        }
        guard let id = inserted else {
            return try alreadyRecorded(maintenance, try MaintenanceRecord.find(uuid: maintenance.uuid.text, mutation.sql)!, known.app, known.addon,
                                       mutation)
        }
        try maintenance.insertStatusChanges(of: id, rows: rows, mutation)
        summary.attachmentsLeftOut += resolved.leftOut
        summary.new += 1
    }

    /// An app or add-on the ledger holds under the object's name, but with another uuid than the
    /// object's, is another of that name (Heroku frees a deleted app's name for a new one): refused,
    /// not taken for the same.
    private func checkUUIDs(_ maintenance: ImportedMaintenance, _ app: KnownApp?, _ addon: KnownAddon?) throws {
        try Self.check(maintenance.object.app.uuid, held: app?.uuid, of: "app", maintenance.app.text, field: "app.uuid")
        try Self.check(maintenance.object.addon.uuid, held: addon?.uuid, of: "add-on", maintenance.addon.text, field: "addon.uuid")
    }

    private static func check(_ given: String?, held: String?, of kind: String, _ name: String, field: String) throws {
        guard let given, let held, given != held, given.lowercased() != held.lowercased() else { return }
        throw LedgerError.refused("\(kind) \(name) has uuid \(held) in the ledger, but \(field) is \(given): another \(kind) of that name?", hint: nil)
    }

    /// A destroyed add-on's history may be imported, but no new maintenance of it still open,
    /// or run after it was destroyed (one was recorded, and its attachment names attached again).
    private func checkNotAfterDestroyed(_ maintenance: ImportedMaintenance, _ addon: KnownAddon?) throws {
        guard let destroyedAt = addon?.destroyedAt else { return }
        let given = maintenance.given
        let after = [given.startedAt, given.completedAt].compactMap { $0 }.max().flatMap { $0 > destroyedAt ? $0 : nil }
        guard given.status.isOpen || after != nil else { return }
        let what = after.map { "ran at \($0.isoText)" } ?? "is \(given.status.rawValue)"
        throw LedgerError.refused("add-on \(maintenance.addon.text) was destroyed at \(destroyedAt.isoText); the import says its maintenance "
                                  + "\(given.uuid) \(what)", hint: nil)
    }

    /// A new app's or add-on's uuid must be free: one the ledger holds under another name is that
    /// one renamed (it was SQLite's `UNIQUE constraint failed`).
    private func checkFree(_ uuid: String?, kind: String, name: String, holder: (String) throws -> String?) throws {
        guard let uuid, let other = try holder(uuid) else { return }
        throw LedgerError.refused("\(kind) \(name) has uuid \(uuid), which is \(other)'s in the ledger: renamed? (the ledger keeps the name "
                                  + "it recorded)", hint: nil)
    }

    /// The add-on of a line whose app and add-on are resolved, when recording it changes
    /// neither (it attaches no name) and they refuse nothing; with the attachment names it
    /// leaves out. Nil otherwise.
    private func resolvedAsTheyAre(_ maintenance: ImportedMaintenance, _ app: KnownApp?, _ addon: KnownAddon?) -> (addonID: Int64, leftOut: Int)? {
        guard let appID = app?.id, let addon, addon.appID == appID, addon.destroyedAt == nil,
              addon.service == maintenance.object.addon.kind || !maintenance.object.addonKindGiven,
              let plan = try? attachmentPlan(maintenance.attachments, addonID: addon.id, appID: appID), plan.attach.isEmpty else { return nil }
        return (addon.id, plan.leftOut)
    }

    /// A maintenance recorded before: unchanged, or moved on as the object says (`MaintenanceProgress`).
    /// It stays with its add-on and app: an object naming others is refused, not taken as the same.
    private mutating func alreadyRecorded(_ maintenance: ImportedMaintenance, _ recorded: MaintenanceRecord, _ app: KnownApp?, _ addon: KnownAddon?,
                                          _ mutation: Mutation) throws {
        guard let addon, let app, addon.id == recorded.addonID, addon.appID == app.id else {
            let addon = try AddonRecord.withID(recorded.addonID, mutation.sql)
            throw LedgerError.refused("maintenance \(recorded.uuid) is recorded on \(addon.name) of \(try AppRecord.withID(addon.appID, mutation.sql).name); "
                                      + "the import says \(maintenance.addon.text) of \(maintenance.app.text)", hint: nil)
        }
        guard let progress = try MaintenanceProgress(of: NewMaintenance(recorded), lastChangeAt: try recorded.lastChangeAt(mutation.sql),
                                                     to: maintenance.given, seenAt: now) else {
            summary.unchanged += 1
            return
        }
        try progress.record(recorded, mutation)
        summary.progressed += 1
    }

    private mutating func resolveApp(_ app: ImportKey, uuid: String?, _ mutation: Mutation) throws -> Int64 {
        if let id = apps[app]?.id { return id }
        let name = app.text
        try Ledger.validateName(name, kind: "App", maxLength: 30)
        try checkFree(uuid, kind: "app", name: name) { try AppRecord.find(uuid: $0, mutation.sql)?.name }
        let uuid = uuid ?? mutation.random.uuid()
        let id = try mutation.insert(.apps, row: [
            "uuid": .text(uuid), "name": .text(name), "maintenance_mode": RowValue(false), "created_at": .time(now),
        ])
        summary.appsCreated += 1
        apps[app] = KnownApp(id: id, uuid: uuid)
        attachments.created(app: id)
        return id
    }

    private mutating func resolveAddon(_ addon: HerokuMaintenance.Addon, description: String?, appID: Int64, maintenance: ImportedMaintenance,
                                       _ mutation: Mutation) throws -> Int64 {
        let name = addon.name
        let service = addon.kind
        if let known = addons[maintenance.addon] {
            guard known.service == service || !maintenance.object.addonKindGiven else { throw LedgerError.refused("add-on \(name) is \(known.service.rawValue), not \(service.rawValue)", hint: nil) }
            // An add-on has one owner; the object's app is the one it names (its attachments may be elsewhere).
            guard known.appID == appID else {
                throw LedgerError.refused("add-on \(name) belongs to \(try AppRecord.withID(known.appID, mutation.sql).name), not \(maintenance.app.text)",
                                          hint: nil)
            }
            // A destroyed add-on's names were detached with it.
            if known.destroyedAt == nil { try ensureAttachments(maintenance.attachments, addonID: known.id, appID: appID, mutation) }
            return known.id
        }
        guard maintenance.object.addonKindGiven else {
            throw LedgerError.refused("add-on \(name) is not in the ledger, and the object gives no addon.kind to create it with", hint: nil)
        }
        try Ledger.validateName(name, kind: "Add-on", maxLength: 60)
        guard let planName = addon.plan else { throw LedgerError.invalidInput("addon.plan is missing", hint: nil) }
        let plan = try Plan.parse(planName, service: service).get()
        try checkFree(addon.uuid, kind: "add-on", name: name) { try AddonRecord.find(uuid: $0, mutation.sql)?.name }
        // Known since its server was made (or, failing that, its first maintenance).
        let provisioned = min(maintenance.serverCreatedAt, maintenance.createdAt)
        let uuid = addon.uuid ?? mutation.random.uuid()
        let id = try mutation.insert(.addons, row: [
            "uuid": .text(uuid), "name": .text(name), "service": .text(service.rawValue),
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
        addons[maintenance.addon] = KnownAddon(id: id, uuid: uuid, service: service, appID: appID, destroyedAt: nil)
        attachments.created(addon: id)
        try ensureAttachments(maintenance.attachments, addonID: id, appID: appID, mutation)
        return id
    }

    /// The shape lists attachment names without their apps: a name the add-on has nowhere yet
    /// is attached to the object's app (the owner) when free there; a name the owner already
    /// gives another add-on belongs to some other app the shape does not name, and is left out.
    private mutating func ensureAttachments(_ names: [(text: String, name: ImportKey?)], addonID: Int64, appID: Int64,
                                            _ mutation: Mutation) throws {
        let plan = try attachmentPlan(names, addonID: addonID, appID: appID)
        summary.attachmentsLeftOut += plan.leftOut
        for name in plan.attach {
            try mutation.insert(.attachments, row: [
                "app_id": .integer(appID), "addon_id": .integer(addonID), "name": .text(name.text), "attached_at": .time(now), "detached_at": .null,
            ])
            attachments.attach(name, app: appID, addon: addonID)
            summary.attachmentsCreated += 1
        }
    }

    /// The names `ensureAttachments` attaches, and how many it leaves out (the names are
    /// distinct, so attaching one does not change what the others find).
    private func attachmentPlan(_ names: [(text: String, name: ImportKey?)], addonID: Int64, appID: Int64) throws
        -> (attach: [ImportKey], leftOut: Int) {
        var plan: (attach: [ImportKey], leftOut: Int) = ([], 0)
        for (text, checked) in names {
            let name = try checked ?? ImportKey(AttachmentName.validate(text))
            guard !attachments.has(name, addon: addonID) else { continue }
            if attachments.has(name, app: appID) {
                plan.leftOut += 1
            } else {
                plan.attach.append(name)
            }
        }
        return plan
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
