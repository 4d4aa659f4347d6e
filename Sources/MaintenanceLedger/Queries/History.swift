import LedgerCore
import LedgerStore

/// Which of a maintenance's times `history` filters (`--since`/`--until`) and orders on.
public enum HistoryTime: String, Sendable, CaseIterable {
    case scheduled, started, completed

    var column: String {
        switch self {
        case .scheduled: "scheduled_for"
        case .started: "started_at"
        case .completed: "completed_at"
        }
    }
}

/// What `history` selects across the fleet. Every filter is optional; they combine with AND.
public struct HistoryFilter: Sendable {
    public var app: String?
    public var addon: String?
    public var kind: Service?
    /// A tier (`premium`, every size) or a plan (`premium-0`).
    public var plan: String?
    public var status: MaintenanceStatus?
    public var reason: MaintenanceReason?
    public var method: MaintenanceMethod?
    public var since: Timestamp?
    public var until: Timestamp?
    public var time: HistoryTime = .scheduled
    public var outsideWindow = false
    public var emergency = false
    /// Missed its deadline: completed after required_by, or not completed and required_by passed
    /// (a customer's own run has no deadline to miss).
    public var overdue = false
    public var limit: Int?
    public var ascending = false

    public init() {}
}

extension Service {
    /// `redis`, `postgresql`, `kafka`, or the full `heroku-redis` form.
    public init?(kind text: String) {
        guard let service = Service.allCases.first(where: { $0.rawValue == text || $0.namePrefix == text }) else { return nil }
        self = service
    }
}

extension LedgerQuerying {
    /// `history`: maintenances across the fleet, newest first by the chosen time (or oldest
    /// first), as the ledger held them at `moment`; handed out one at a time.
    public func history(_ filter: HistoryFilter, at moment: Moment, _ body: (MaintenanceView) throws -> Void) throws {
        if let since = filter.since, let until = filter.until, since > until {
            throw LedgerError.invalidInput("--since \(since.isoText) is after --until \(until.isoText)", hint: "Swap them.")
        }
        try reader.read { db in
            var conditions: [String] = []
            var arguments: SQLArguments = []
            if let addonName = filter.addon {
                let (addon, _) = try AddonSelector(addonName, app: filter.app).resolve(db)
                conditions.append("m.addon_id = ?")
                arguments += [addon.id]
            } else if let appName = filter.app {
                let app = try AppRecord.named(appName, db)
                conditions.append("m.addon_id IN (SELECT id FROM addons WHERE app_id = ? UNION SELECT addon_id FROM attachments WHERE app_id = ?)")
                arguments += [app.id, app.id]
            }
            if filter.kind != nil || filter.plan != nil {
                var addonConditions: [String] = []
                if let kind = filter.kind {
                    addonConditions.append("service = ?")
                    arguments += [kind.rawValue]
                }
                if let plan = filter.plan {
                    // A tier matches its sizes by prefix, not by pattern: `*` is no wildcard here.
                    addonConditions.append("(plan = ? OR substr(plan, 1, ?) = ?)")
                    arguments += [plan, plan.utf8.count + 1, plan + "-"]
                }
                conditions.append("m.addon_id IN (SELECT id FROM addons WHERE \(addonConditions.joined(separator: " AND ")))")
            }
            if let status = filter.status {
                // A literal (the vocabulary's own word), not a parameter: the index on status
                // holds every status but completed (0007), and SQLite uses a partial index only
                // where it sees the value. It would see a bound one too, by preparing the
                // statement again once bound; the literal plans it once, as EXPLAIN shows it.
                // With an add-on or an app, `+` keeps SQLite off that index: it would read every
                // failed maintenance of the fleet (330 ms at 10M) for the add-on's few dozen.
                let column = filter.addon != nil || filter.app != nil ? "+m.status" : "m.status"
                conditions.append("\(column) = \(status.sql)")
            }
            for (column, value) in [("reason", filter.reason?.rawValue), ("method", filter.method?.rawValue)] {
                guard let value else { continue }
                conditions.append("m.\(column) = ?")
                arguments += [value]
            }
            let time = "m." + filter.time.column
            if let since = filter.since {
                conditions.append("\(time) >= ?")
                arguments += [since]
            }
            if let until = filter.until {
                conditions.append("\(time) <= ?")
                arguments += [until]
            }
            if filter.outsideWindow { conditions.append("m.outside_window = 1") }
            if filter.emergency { conditions.append("m.emergency = 1") }
            if filter.overdue {
                conditions.append("\(ReportSQL.hasDeadline) AND (m.completed_at > m.required_by OR (m.completed_at IS NULL AND m.required_by < ?))")
                arguments += [moment.clock(context.now)]
            }
            let direction = filter.ascending ? "ASC" : "DESC"
            var sql = "SELECT m.* FROM \(moment.maintenancesSource) AS m"
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            sql += " ORDER BY \(time) \(direction), m.id \(direction) LIMIT ?"
            arguments += [filter.limit ?? -1]
            try db.each(MaintenanceRecord.self, sql, arguments) { maintenance in
                let addon = try AddonRecord.withID(maintenance.addonID, db)
                try body(try MaintenanceView.load(addon: addon, maintenance: maintenance, at: moment, db))
            }
        }
    }

    /// Checks an `--as-of` time and makes the moment of it (now when nil).
    public func moment(asOf: Timestamp?) throws -> Moment {
        if let asOf, asOf > context.now {
            throw LedgerError.refused("--as-of \(asOf.isoText) is in the future (now is \(context.now.isoText))",
                                      hint: "--as-of asks what the ledger held at a past moment.")
        }
        return Moment(asOf: asOf)
    }
}
