import LedgerCore
import LedgerStore

/// How users name an add-on: its own name, or with an app an attachment (`REDIS_URL`, `REDIS`).
public struct AddonSelector: Sendable {
    public var name: String
    public var app: String?

    public init(_ name: String, app: String?) {
        self.name = name
        self.app = app
    }

    /// The add-on, and the app it is seen through: the `-a` app, else its owning app.
    func resolve(_ db: LedgerSQL) throws -> (addon: AddonRecord, app: AppRecord) {
        guard let appName = app else {
            guard let addon = try AddonRecord.find(named: name, db) else {
                throw LedgerError.notFound("Couldn't find that add-on: \(name)",
                                           hint: "If \(name) is an attachment, name its app with -a APP.")
            }
            return (addon, try AppRecord.withID(addon.appID, db))
        }
        let app = try AppRecord.named(appName, db)
        let attachment = AttachmentName.normalize(name)
        if let addon = try db.one(AddonRecord.self, """
            SELECT addons.* FROM attachments JOIN addons ON addons.id = attachments.addon_id
            WHERE attachments.app_id = ? AND attachments.name = ? AND attachments.detached_at IS NULL
            """, [app.id, attachment]) {
            return (addon, app)
        }
        if let addon = try AddonRecord.find(named: name, db) {
            let attached = try db.value(Bool.self, "SELECT count(*) > 0 FROM attachments WHERE app_id = ? AND addon_id = ?", [app.id, addon.id]) ?? false
            guard addon.appID == app.id || attached else {
                throw LedgerError.notFound("\(name) is not attached to \(app.name)", hint: "Leave out -a, or name the app it is attached to.")
            }
            return (addon, app)
        }
        throw LedgerError.notFound("Couldn't find that add-on: \(name) on \(app.name)",
                                   hint: "Run `maintledger addons -a \(app.name)` to list its add-ons and attachments.")
    }

    /// As `resolve`, but the add-on must still be provisioned: history is read-only.
    func resolveLive(_ db: LedgerSQL) throws -> (addon: AddonRecord, app: AppRecord) {
        let resolved = try resolve(db)
        guard resolved.addon.isLive else {
            throw LedgerError.refused("\(resolved.addon.name) was destroyed at \(resolved.addon.deprovisionedAt!.listText)",
                                      hint: "Its history stays readable; nothing new can be recorded for it.")
        }
        return resolved
    }
}

extension AppRecord {
    /// The app a user named; refused, with how to create it, when there is none.
    static func named(_ name: String, _ db: LedgerSQL) throws -> AppRecord {
        guard let app = try find(named: name, db) else {
            throw LedgerError.notFound("Couldn't find that app: \(name)", hint: "Create it with `maintledger apps:create \(name)`.")
        }
        return app
    }
}
