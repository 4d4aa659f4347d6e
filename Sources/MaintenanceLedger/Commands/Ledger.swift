import LedgerCore
import LedgerStore

/// The questions users ask of a ledger, whether it was opened to read (`LedgerQueries`) or to
/// record (`Ledger`). They are answered in Queries/, Reports/, Verification/ and Transfer/Export.
public protocol LedgerQuerying {
    var reader: LedgerReader { get }
    var context: LedgerContext { get }
}

/// The command layer: every rule lives behind these methods (Commands/, Transfer/Import), which
/// the CLI only calls; each command records its changes and their trail entry in one transaction.
public struct Ledger: LedgerQuerying {
    public let database: LedgerDatabase
    public let context: LedgerContext

    public init(database: LedgerDatabase, context: LedgerContext) {
        self.database = database
        self.context = context
    }

    public var reader: LedgerReader { database }
}

/// A ledger opened by a command that only reads: the questions, and no way to record.
public struct LedgerQueries: LedgerQuerying {
    public let reader: LedgerReader
    public let context: LedgerContext

    public init(reader: LedgerReader, context: LedgerContext) {
        self.reader = reader
        self.context = context
    }
}

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
            guard let addon = try db.one(AddonRecord.self, "SELECT * FROM addons WHERE name = ?", [name]) else {
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
        if let addon = try db.one(AddonRecord.self, "SELECT * FROM addons WHERE name = ?", [name]) {
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

/// Config var names of attachments.
enum AttachmentName {
    /// `REDIS` and `redis_url` both mean `REDIS_URL`.
    static func normalize(_ text: String) -> String {
        let upper = text.uppercased()
        return upper.hasSuffix("_URL") ? upper : upper + "_URL"
    }

    static func validate(_ text: String) throws -> String {
        let name = normalize(text)
        let allowed = name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        guard allowed, let first = name.unicodeScalars.first, ("A"..."Z").contains(first) else {
            throw LedgerError.invalidInput("invalid attachment name '\(text)'",
                                           hint: "Use letters, digits and underscores, starting with a letter (REDIS or REDIS_URL).")
        }
        return name
    }

    static let colors = ["AMBER", "AQUA", "BLUE", "BRONZE", "BROWN", "CHARCOAL", "COBALT", "COPPER", "CRIMSON", "CYAN",
                         "GOLD", "GRAY", "GREEN", "IVORY", "JADE", "LIME", "MAROON", "MAUVE", "NAVY", "OLIVE", "ONYX",
                         "ORANGE", "PINK", "PUCE", "PURPLE", "RED", "ROSE", "SILVER", "TEAL", "WHITE", "YELLOW"]

    /// `REDIS_URL` if the app has none; else the first free `HEROKU_REDIS_<COLOR>_URL`.
    static func defaultName(for service: Service, onApp appID: Int64, _ db: LedgerSQL) throws -> String {
        let taken = Set(try db.values(String.self, "SELECT name FROM attachments WHERE app_id = ? AND detached_at IS NULL", [appID]))
        let candidates = [service.defaultAttachmentName] + colors.map { "\(service.coloredAttachmentStem)_\($0)_URL" }
        guard let free = candidates.first(where: { !taken.contains($0) }) else {
            throw LedgerError.refused("every default attachment name for \(service.rawValue) is taken on this app",
                                      hint: "Name one with --as NAME.")
        }
        return free
    }
}

extension Ledger {
    /// Checks a caller-supplied event time (`--at`): not in the future, not before `notBefore`.
    func validateEventTime(_ at: Timestamp?, flag: String = "--at", notBefore: Timestamp? = nil, what: String = "") throws -> Timestamp {
        let time = at ?? context.now
        guard time <= context.now else {
            throw LedgerError.refused("\(flag) \(time.isoText) is in the future (now is \(context.now.isoText))",
                                           hint: "Record events once they have happened.")
        }
        if let notBefore, time < notBefore {
            throw LedgerError.refused("\(flag) \(time.isoText) is before \(what) at \(notBefore.isoText)",
                                      hint: "Events are recorded in time order.")
        }
        return time
    }
}
