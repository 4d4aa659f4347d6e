import LedgerCore
import LedgerStore

/// Questions the platform's automation (the engine, the simulator, the demo) asks of a ledger
/// file; none depends on the clock.
extension LedgerReader {

    /// How far the engine has processed, if it ever ticked.
    package func lastTick() throws -> Timestamp? {
        try read { db in try db.value(Timestamp.self, "SELECT max(ticked_until) FROM engine_ticks") }
    }

    /// Where an add-on's maintenance stands: what the engine plans its next step from.
    package func maintenanceState(addonID: Int64) throws -> MaintenanceState {
        try read { db in try MaintenanceState(addon: try AddonRecord.withID(addonID, db), db) }
    }

    /// Where the maintenance of every add-on not destroyed stands, in one read (a read apiece
    /// was a transaction apiece: a tenth of a simulation).
    package func liveMaintenanceStates() throws -> [MaintenanceState] {
        try read { db in
            try db.all(AddonRecord.self, "SELECT * FROM addons WHERE deprovisioned_at IS NULL ORDER BY id").map { try MaintenanceState(addon: $0, db) }
        }
    }

    /// What the engine's commands need of an add-on besides its maintenance.
    package func surroundings(of addon: AddonRecord) throws -> AddonSurroundings {
        try read { db in try AddonSurroundings(of: addon, db) }
    }

    /// How much the ledger holds.
    package func tally() throws -> LedgerTally {
        try read { db in
            func count(_ table: String) throws -> Int { try db.value(Int.self, "SELECT count(*) FROM \(table)")! }
            return LedgerTally(apps: try count("apps"), addons: try count("addons"), maintenances: try count("maintenances"),
                               entries: try count("audit_trail"), notices: try count("notices"))
        }
    }

    /// Trail entries recorded by anyone but `actors`, and who recorded the first entry.
    package func trailAuthorship(besides actors: [String]) throws -> (others: Int, firstActor: String?) {
        try read { db in
            (try db.value(Int.self, "SELECT count(*) FROM audit_trail WHERE actor NOT IN (\(actors.map { _ in "?" }.joined(separator: ", ")))",
                          SQLArguments(actors))!,
             try db.value(String.self, "SELECT actor FROM audit_trail WHERE seq = 1"))
        }
    }

    /// The app with the most live attachments besides `app` (ties: the older app).
    package func busiestApp(besides app: String) throws -> String? {
        try read { db in
            try db.value(String.self, """
                SELECT apps.name FROM apps JOIN attachments ON attachments.app_id = apps.id AND attachments.detached_at IS NULL
                WHERE apps.name <> ? GROUP BY apps.id ORDER BY count(*) DESC, apps.id LIMIT 1
                """, [app])
        }
    }
}

/// Where an add-on's maintenance stands, kept up to date from what each command returns.
package struct MaintenanceState {
    package let addon: AddonRecord
    /// The maintenance under way, and when its status last changed.
    package var open: (maintenance: MaintenanceRecord, changedAt: Timestamp)?
    /// The newest maintenance when none is open: its status, and when it ended.
    package var latestClosed: (status: MaintenanceStatus, endedAt: Timestamp)?
    package var lastCompletion: Timestamp?
    /// Read when the engine first needs them (`surroundings(of:)`).
    package var surroundings: AddonSurroundings?

    init(addon: AddonRecord, _ db: LedgerSQL) throws {
        self.addon = addon
        lastCompletion = try addon.lastCompletion(db)
        if let open = try addon.openMaintenance(db) {
            self.open = (open, try open.lastChangeAt(db))
        } else if let latest = try addon.latestMaintenance(db) {
            latestClosed = (latest.status, try latest.lastChangeAt(db))
        }
    }

    /// After a command changed the open maintenance at `time`.
    package mutating func record(_ maintenance: MaintenanceRecord, changedAt time: Timestamp) {
        guard maintenance.status.isOpen else {
            open = nil
            latestClosed = (maintenance.status, time)
            if maintenance.status == .completed { lastCompletion = time }
            return
        }
        open = (maintenance, time)
    }
}

/// How many rows a ledger holds, table by table.
package struct LedgerTally: Sendable {
    package let apps: Int, addons: Int, maintenances: Int, entries: Int, notices: Int
}
