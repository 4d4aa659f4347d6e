import LedgerCore
import LedgerStore
import Foundation

/// Read-only questions users ask of the ledger.
extension LedgerQuerying {
    /// `data:maintenances:info`: the add-on's newest maintenance, as the ledger held it at `moment`.
    public func maintenanceInfo(_ selector: AddonSelector, at moment: Moment = .now) throws -> MaintenanceView {
        try reader.read { db in
            let addon = try Self.addon(selector, existingAt: moment, db)
            let maintenance = try db.one(MaintenanceRecord.self, """
                SELECT * FROM \(moment.maintenancesSource) WHERE addon_id = ? ORDER BY created_at DESC, id DESC LIMIT 1
                """, [addon.id])
            // As of a moment before its first maintenance, the add-on's server may since have been replaced.
            let asItWas = maintenance == nil && moment.asOf != nil ? try addon.withFirstServer(db) : addon
            return try MaintenanceView.load(addon: asItWas, maintenance: maintenance, at: moment, db)
        }
    }

    /// The add-on a selector names, refused when it was not yet provisioned at `moment`.
    private static func addon(_ selector: AddonSelector, existingAt moment: Moment, _ db: LedgerSQL) throws -> AddonRecord {
        let (addon, _) = try selector.resolve(db)
        if let asOf = moment.asOf, asOf < addon.provisionedAt {
            throw LedgerError.notFound("\(addon.name) was not provisioned until \(addon.provisionedAt.isoText)",
                                       hint: "Ask --as-of a later time.")
        }
        return addon
    }

    /// `data:maintenances -a APP`: one row per live data add-on attached to the app.
    public func appMaintenances(app appName: String) throws -> [MaintenanceView] {
        try reader.read { db in
            let app = try AppRecord.named(appName, db)
            let addons = try db.all(AddonRecord.self, """
                SELECT DISTINCT addons.* FROM attachments JOIN addons ON addons.id = attachments.addon_id
                WHERE attachments.app_id = ? AND attachments.detached_at IS NULL AND addons.deprovisioned_at IS NULL
                ORDER BY addons.name
                """, [app.id])
            return try addons.map { addon in
                try MaintenanceView.load(addon: addon, maintenance: try addon.openMaintenance(db) ?? addon.latestMaintenance(db), db)
            }
        }
    }

    /// `data:maintenances:history`: newest first, as held at `moment`; `limit` nil for everything.
    public func maintenanceHistory(_ selector: AddonSelector, limit: Int?, at moment: Moment = .now) throws
        -> (addon: AddonRecord, maintenances: [MaintenanceView]) {
        try reader.read { db in
            let addon = try Self.addon(selector, existingAt: moment, db)
            let records = try db.all(MaintenanceRecord.self, """
                SELECT * FROM \(moment.maintenancesSource) WHERE addon_id = ? ORDER BY created_at DESC, id DESC LIMIT ?
                """, [addon.id, limit ?? -1])
            let context = try MaintenanceView.load(addon: addon, maintenance: nil, at: moment, db)
            return (addon, records.map {
                MaintenanceView(addon: addon, app: context.app, attachments: context.attachments, addonWindow: context.addonWindow, maintenance: $0)
            })
        }
    }

    /// `data:maintenances:window`.
    public func windowInfo(_ selector: AddonSelector) throws -> WindowInfo {
        try reader.read { db in
            let (addon, _) = try selector.resolve(db)
            try Ledger.requireCustomerControls(addon, command: "show a maintenance window")
            let windows = try db.all(WindowRecord.self, "SELECT * FROM windows WHERE addon_id = ? ORDER BY id DESC LIMIT 2", [addon.id])
            let open = try addon.openMaintenance(db)
            return WindowInfo(window: windows.first?.window, previousWindow: windows.dropFirst().first?.window,
                              previouslyScheduledAt: open?.previouslyScheduledFor, scheduledAt: open?.scheduledFor)
        }
    }

    /// `addons [-a APP] [--all]`: add-ons owned by or attached to the app (every app when nil),
    /// handed over one by one in name order (memory stays flat).
    public func addons(app appName: String?, includeDestroyed: Bool, _ body: (AddonSummary) throws -> Void) throws {
        try reader.read { db in
            var sql = "SELECT * FROM addons"
            var arguments: SQLArguments = []
            var conditions: [String] = []
            if let appName {
                let app = try AppRecord.named(appName, db)
                conditions.append("(app_id = ? OR id IN (SELECT addon_id FROM attachments WHERE app_id = ? AND detached_at IS NULL))")
                arguments += [app.id, app.id]
            }
            if !includeDestroyed { conditions.append("deprovisioned_at IS NULL") }
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            try db.each(AddonRecord.self, sql + " ORDER BY name", arguments) { addon in
                let attachments = try db.values(String.self, """
                    SELECT apps.name || '::' || attachments.name FROM attachments JOIN apps ON apps.id = attachments.app_id
                    WHERE attachments.addon_id = ? AND attachments.detached_at IS NULL ORDER BY attachments.id
                    """, [addon.id])
                try body(AddonSummary(view: try MaintenanceView.load(addon: addon, maintenance: nil, db), attachments: attachments))
            }
        }
    }

    /// `redis:info [ADDON] -a APP`: the app's live Key-Value Store add-ons with their open maintenance.
    public func redisInfo(app appName: String, addon addonName: String?) throws -> [MaintenanceView] {
        let views: [MaintenanceView]
        if let addonName {
            views = [try reader.read { db in
                let (addon, _) = try AddonSelector(addonName, app: appName).resolve(db)
                return try MaintenanceView.load(addon: addon, maintenance: try addon.openMaintenance(db), db)
            }]
            guard views[0].addon.service == .redis else {
                throw LedgerError.refused("\(views[0].addon.name) is a \(views[0].addon.service.rawValue) add-on, not Key-Value Store", hint: nil)
            }
        } else {
            views = try appMaintenances(app: appName).filter { $0.addon.service == .redis }.map { view in
                MaintenanceView(addon: view.addon, app: view.app, attachments: view.attachments, addonWindow: view.addonWindow,
                                maintenance: view.maintenance?.status.isOpen == true ? view.maintenance : nil)
            }
        }
        return views
    }

    /// `maintenance -a APP`.
    public func maintenanceMode(app appName: String) throws -> Bool {
        try reader.read { db in try AppRecord.named(appName, db).maintenanceMode }
    }

    /// `audit:trail [--since-seq N]`: entries after N, in order, handed out one at a time.
    public func trail(sinceSeq: Int64, _ body: (TrailEntry) throws -> Void) throws {
        try reader.read { db in
            try db.each(TrailEntry.self, TrailEntry.selectSQL("WHERE t.seq > ? ORDER BY t.seq"), [sinceSeq], body)
        }
    }

    /// `data:maintenances:wait`: polls until the running maintenance ends or `timeout` passes.
    public func waitForMaintenance(_ selector: AddonSelector, timeout: Double?, pollInterval: Double = 1) throws -> WaitOutcome {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        guard let running = try runningMaintenance(selector) else { return .nothingRunning }
        while true {
            let current = try reader.read { db in
                try db.one(MaintenanceRecord.self, "SELECT * FROM maintenances WHERE id = ?", [running.id])!
            }
            if current.status != .running { return .finished(current.status) }
            if let deadline, Date() >= deadline { return .timedOut }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }

    private func runningMaintenance(_ selector: AddonSelector) throws -> MaintenanceRecord? {
        try reader.read { db in
            let (addon, _) = try selector.resolve(db)
            return try addon.openMaintenance(db).flatMap { $0.status == .running ? $0 : nil }
        }
    }
}

/// What `data:maintenances:window` shows.
public struct WindowInfo: Sendable {
    public let window: WeeklyWindow?
    public let previousWindow: WeeklyWindow?
    public let previouslyScheduledAt: Timestamp?
    public let scheduledAt: Timestamp?

    /// The window object of Heroku's `data:maintenances:window`.
    public var json: JSONValue {
        .object([
            ("previous_window", .optional(previousWindow?.text)),
            ("previously_scheduled_at", .optional(previouslyScheduledAt?.isoText)),
            ("scheduled_at", .optional(scheduledAt?.isoText)),
            ("window", .optional(window?.text)),
        ])
    }
}

/// One row of `addons`.
public struct AddonSummary: Sendable {
    public let view: MaintenanceView
    /// Every live attachment as `app::NAME`.
    public let attachments: [String]

    public var json: JSONValue {
        let addon = view.addon
        return .object([
            ("app", .object([("name", .string(view.app.name)), ("uuid", .string(view.app.uuid))])),
            ("attachments", .array(attachments.map(JSONValue.string))),
            ("deprovisioned_at", .optional(addon.deprovisionedAt?.isoText)),
            ("description", .optional(addon.description)),
            ("kind", .string(addon.service.rawValue)),
            ("name", .string(addon.name)),
            ("plan", .string(addon.plan.name)),
            ("server_created_at", .string(addon.serverCreatedAt.isoText)),
            ("state", .string(addon.isLive ? "provisioned" : "deprovisioned")),
            ("uuid", .string(addon.uuid)),
            ("window", .optional(view.addonWindow?.text)),
        ])
    }
}

/// How `data:maintenances:wait` ended.
public enum WaitOutcome: Sendable, Equatable {
    case nothingRunning
    case finished(MaintenanceStatus)
    case timedOut
}
