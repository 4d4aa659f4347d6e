import LedgerCore
import LedgerStore

/// What the platform provisions: apps, add-ons, attachments, and app maintenance mode.
extension Ledger {
    public func createApp(named name: String) throws {
        try Self.validateName(name, kind: "App", maxLength: 30)
        try database.record(context) { mutation in
            guard try AppRecord.find(named: name, mutation.sql) == nil else {
                throw LedgerError.refused("Name \(name) is already taken", hint: nil)
            }
            mutation.describe(action: "apps:create", subject: "app:\(name)")
            try mutation.insert(.apps, ["uuid": mutation.random.uuid(), "name": name, "maintenance_mode": false,
                                        "created_at": context.now])
        }
    }

    static func validateName(_ name: String, kind: String, maxLength: Int) throws {
        let scalars = name.unicodeScalars
        let valid = (3...maxLength).contains(scalars.count)
            && ("a"..."z").contains(scalars.first!)
            && scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard valid else {
            throw LedgerError.invalidInput("invalid \(kind.lowercased()) name '\(name)'",
                                           hint: "\(kind) names start with a letter and hold 3 to \(maxLength) lowercase letters, digits and dashes.")
        }
    }

    public struct CreatedAddon: Sendable {
        package let id: Int64
        public let name: String
        public let attachment: String
        public let window: WeeklyWindow?
    }

    /// `addons:create SERVICE:PLAN -a APP`: provisions the add-on, attaches it, and gives it the
    /// default window (a random weekday start between 18:00 and 23:00 UTC) when its plan has one.
    public func createAddon(servicePlan: String, app appName: String, name: String? = nil, attachmentName: String? = nil,
                            description: String? = nil, serverCreatedAt: Timestamp? = nil) throws -> CreatedAddon {
        let plan = try Self.parseServicePlan(servicePlan)
        if let name { try Self.validateName(name, kind: "Add-on", maxLength: 60) }
        let requestedAttachment = try attachmentName.map(AttachmentName.validate)
        let serverCreatedAt = try validateEventTime(serverCreatedAt, flag: "--server-created-at")
        return try database.record(context) { mutation in
            let db = mutation.sql
            let app = try AppRecord.named(appName, db)
            let addonName = try name ?? Self.generateAddonName(for: plan.service, &mutation.random, db)
            if try db.value(Bool.self, "SELECT count(*) > 0 FROM addons WHERE name = ?", [addonName]) == true {
                throw LedgerError.refused("Name \(addonName) is already taken", hint: "Leave out --name to get a generated one.")
            }
            let attachment = try requestedAttachment ?? AttachmentName.defaultName(for: plan.service, onApp: app.id, db)
            try Self.ensureAttachmentFree(attachment, on: app, db)
            mutation.describe(action: "addons:create", subject: "addon:\(addonName)")
            let addonID = try mutation.insert(.addons, [
                "uuid": mutation.random.uuid(), "name": addonName, "service": plan.service.rawValue, "plan": plan.name,
                "description": description, "app_id": app.id, "server_created_at": serverCreatedAt,
                "provisioned_at": context.now, "deprovisioned_at": nil,
            ])
            try mutation.insert(.attachments, ["app_id": app.id, "addon_id": addonID, "name": attachment,
                                               "attached_at": context.now, "detached_at": nil])
            var window: WeeklyWindow?
            if plan.hasWindows {
                let defaultWindow = WeeklyWindow(dayOfWeek: Int.random(in: 1...5, using: &mutation.random),
                                                 startMinute: 18 * 60 + 30 * Int.random(in: 0...10, using: &mutation.random))
                try recordWindow(defaultWindow, source: "default", addonID: addonID, mutation)
                window = defaultWindow
            }
            return CreatedAddon(id: addonID, name: addonName, attachment: attachment, window: window)
        }
    }

    static func parseServicePlan(_ text: String) throws -> Plan {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let services = Service.allCases.map(\.rawValue).joined(separator: ", ")
        guard parts.count == 2, let service = Service(rawValue: parts[0].lowercased()) else {
            throw LedgerError.invalidInput("'\(text)' is not SERVICE:PLAN", hint: "SERVICE is one of \(services); for example heroku-redis:premium-0.")
        }
        return try Plan.parse(parts[1], service: service).get()
    }

    private static let adjectives = [
        "acute", "amorphous", "angular", "animated", "asymmetrical", "clean", "closed", "concave", "convex", "crystalline",
        "cubed", "curly", "curved", "deep", "defined", "dimensional", "elliptical", "encircled", "flat", "fluffy",
        "opaque", "perpendicular", "reticulated", "rigid", "round", "shallow", "shaped", "silhouetted", "slippery",
        "solid", "spherical", "sinuous", "symmetrical", "tetrahedral", "transparent", "triangular", "vertical", "lively",
        "softly", "clear",
    ]

    /// `redis-lively-12345`, retried until unused.
    private static func generateAddonName(for service: Service, _ random: inout SplitMix64, _ db: LedgerSQL) throws -> String {
        while true {
            let name = "\(service.namePrefix)-\(adjectives.randomElement(using: &random)!)-\(Int.random(in: 10000...99999, using: &random))"
            if try db.value(Bool.self, "SELECT count(*) = 0 FROM addons WHERE name = ?", [name]) == true {
                return name
            }
        }
    }

    private static func ensureAttachmentFree(_ name: String, on app: AppRecord, _ db: LedgerSQL) throws {
        let taken = try db.value(Bool.self, """
            SELECT count(*) > 0 FROM attachments WHERE app_id = ? AND name = ? AND detached_at IS NULL
            """, [app.id, name]) ?? false
        if taken {
            throw LedgerError.refused("\(name) is already attached to \(app.name)", hint: "Choose another name with --as NAME.")
        }
    }

    func recordWindow(_ window: WeeklyWindow, source: String, addonID: Int64, _ mutation: Mutation) throws {
        try mutation.insert(.windows, ["addon_id": addonID, "day_of_week": window.dayOfWeek, "start_minute": window.startMinute,
                                       "duration_minutes": WeeklyWindow.lengthMinutes, "source": source,
                                       "set_at": context.now, "set_by": context.actor])
    }

    /// `addons:attach ADDON -a APP [--as NAME]`; returns the attachment's name.
    public func attachAddon(_ addonName: String, to appName: String, as requestedName: String?) throws -> String {
        let requested = try requestedName.map(AttachmentName.validate)
        return try database.record(context) { mutation in
            let db = mutation.sql
            guard try AddonRecord.find(named: addonName, db) != nil else {
                throw LedgerError.notFound("Couldn't find that add-on: \(addonName)",
                                           hint: "addons:attach takes the add-on's own name; `maintledger addons` lists them.")
            }
            let (addon, _) = try AddonSelector(addonName, app: nil).resolveLive(db)
            let app = try AppRecord.named(appName, db)
            let name = try requested ?? AttachmentName.defaultName(for: addon.service, onApp: app.id, db)
            try Self.ensureAttachmentFree(name, on: app, db)
            mutation.describe(action: "addons:attach", subject: "addon:\(addon.name)")
            try mutation.insert(.attachments, ["app_id": app.id, "addon_id": addon.id, "name": name,
                                               "attached_at": context.now, "detached_at": nil])
            return name
        }
    }

    /// `addons:detach ATTACHMENT -a APP`; the attachment is kept as history. Returns the add-on's
    /// and the attachment's names.
    public func detachAttachment(_ attachmentName: String, from appName: String) throws -> (addon: String, attachment: String) {
        try database.record(context) { mutation in
            let db = mutation.sql
            let app = try AppRecord.named(appName, db)
            let name = AttachmentName.normalize(attachmentName)
            guard let row = try db.row("""
                SELECT id, addon_id FROM attachments WHERE app_id = ? AND name = ? AND detached_at IS NULL
                """, [app.id, name]) else {
                throw LedgerError.notFound("Couldn't find attachment \(name) on \(app.name)",
                                           hint: "Run `maintledger addons -a \(app.name)` to list its attachments.")
            }
            let addon = try AddonRecord.withID(row["addon_id"], db)
            guard try addon.attachmentNames(db).count > 1 else {
                throw LedgerError.refused("\(name) is the last attachment of \(addon.name)",
                                          hint: "Destroy the add-on instead: `maintledger addons:destroy \(addon.name) -a \(app.name) --confirm \(app.name)`.")
            }
            mutation.describe(action: "addons:detach", subject: "addon:\(addon.name)")
            try mutation.update(.attachments, id: row["id"], ["detached_at": context.now])
            return (addon.name, name)
        }
    }

    /// `addons:destroy ADDON -a APP --confirm APP`: marks it deprovisioned, detaches it
    /// everywhere and cancels a maintenance that has not started; its history stays.
    public func destroyAddon(_ selector: AddonSelector, confirm: String?) throws -> String {
        try database.record(context) { mutation in
            let db = mutation.sql
            let (addon, app) = try selector.resolveLive(db)
            guard addon.appID == app.id else {
                let owner = try AppRecord.withID(addon.appID, db)
                throw LedgerError.refused("\(addon.name) belongs to \(owner.name), not \(app.name)",
                                          hint: "Destroy it from its owning app with -a \(owner.name).")
            }
            guard confirm == app.name else {
                throw LedgerError.refused("This destroys \(addon.name) on \(app.name); to proceed, re-run with --confirm \(app.name)", hint: nil)
            }
            if let open = try addon.openMaintenance(db) {
                guard open.status != .running else {
                    throw LedgerError.refused("a maintenance of \(addon.name) is running", hint: "Wait for it to complete or fail first.")
                }
                let time = try validateEventTime(nil, notBefore: try open.lastChangeAt(db), what: "the last status change of its maintenance")
                try recordStatusChange(open, to: .cancelled, at: time, mutation)
            }
            mutation.describe(action: "addons:destroy", subject: "addon:\(addon.name)")
            let attachmentIDs = try db.values(Int64.self, "SELECT id FROM attachments WHERE addon_id = ? AND detached_at IS NULL", [addon.id])
            for id in attachmentIDs { try mutation.update(.attachments, id: id, ["detached_at": context.now]) }
            try mutation.update(.addons, id: addon.id, ["deprovisioned_at": context.now])
            return addon.name
        }
    }

    /// `maintenance:on` / `maintenance:off`. Setting the mode it already has records nothing.
    public func setMaintenanceMode(app appName: String, on: Bool) throws {
        try database.record(context) { mutation in
            let app = try AppRecord.named(appName, mutation.sql)
            guard app.maintenanceMode != on else { return }
            mutation.describe(action: on ? "maintenance:on" : "maintenance:off", subject: "app:\(app.name)")
            try mutation.update(.apps, id: app.id, ["maintenance_mode": on])
        }
    }
}
