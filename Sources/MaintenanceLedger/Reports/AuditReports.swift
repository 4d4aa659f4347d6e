import LedgerCore
import LedgerStore
import Foundation

// The auditors' reports: what is overdue, how well maintenance kept its windows and deadlines,
// and who moved which window when. Each answers for a `Moment`: now, or a past time whose
// answer is rebuilt from the history the ledger keeps (see Queries/Moment.swift).

/// SQL the reports share. Aliases: `m` maintenances (as of the moment), `a` addons, `apps`.
enum ReportSQL {
    /// The CTE `m`: maintenances as they stood at the moment. Now, it is the table itself, read
    /// through its indexes where it is used (SQLite copies a CTE used twice whole before reading
    /// it: `audit:overdue`'s first query took 5.5 s instead of 0.7 s on 1M maintenances). As of
    /// a past moment, each row's columns are worked out once, so the copy is kept.
    static func maintenances(_ moment: Moment) -> String {
        moment.asOf == nil ? "m AS NOT MATERIALIZED (SELECT * FROM maintenances)" : "m AS (SELECT * FROM \(moment.maintenancesSource))"
    }

    /// The CTE `completions`: each completed maintenance with the add-on's completion before it
    /// (NULL for its first).
    static let completions = """
        completions AS (
            SELECT m.id, m.addon_id, m.uuid, m.completed_at,
                   lag(m.completed_at) OVER (PARTITION BY m.addon_id ORDER BY m.completed_at, m.id) AS previous_completion
            FROM m WHERE m.status = \(MaintenanceStatus.completed.sql))
        """

    /// When the add-on's first server was created: the cadence's first gap runs from there, as
    /// the engine counts it. `addons.server_created_at` moves to the replacement server when a
    /// completion names one, so the earliest maintenance, which recorded the server it found,
    /// is asked first.
    static let origin = """
        coalesce((SELECT f.server_created_at FROM maintenances f WHERE f.addon_id = a.id ORDER BY f.created_at, f.id LIMIT 1),
                 a.server_created_at)
        """

    /// Whether `m` had a deadline. One that `data:maintenances:run` recorded on the customer's
    /// own initiative is "required by" the moment it started: that is no deadline.
    static let hasDeadline = "m.required_by > m.created_at"
}

/// Days, to two decimals, in a span of milliseconds.
private func days(_ milliseconds: Int64) -> Double { (Double(milliseconds) / 864_000).rounded() / 100 }

// MARK: - audit:overdue

/// One finding of `audit:overdue`: a maintenance past its deadline (`overdue`), or a stretch of
/// more than 90 days in which an add-on completed no maintenance (`gap`).
public struct OverdueRow: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case overdue, gap
    }

    public let kind: Kind
    /// The add-on's owning app.
    public let app: String
    public let addon: String
    /// `overdue`: the maintenance. `gap`: the completed maintenance that ended it; nil when the
    /// gap still lasts at the moment, or ended when the add-on was destroyed.
    public let maintenance: String?
    /// `overdue` only: its status at the moment.
    public let status: MaintenanceStatus?
    /// `overdue` only.
    public let requiredBy: Timestamp?
    /// `gap` only: the previous completion (or the first server's creation) …
    public let gapFrom: Timestamp?
    /// … to the completion, the moment, or the add-on's destruction.
    public let gapTo: Timestamp?

    public var gapDays: Double? {
        guard let gapFrom, let gapTo else { return nil }
        return days(gapFrom.milliseconds(until: gapTo))
    }

    /// The keys of its JSON object, in order: the columns of its CSV too.
    public static let keys = ["kind", "app", "addon", "maintenance", "status", "required_by", "gap_from", "gap_to", "gap_days"]

    public var json: JSONValue {
        .object(Array(zip(Self.keys, [
            .string(kind.rawValue), .string(app), .string(addon), .optional(maintenance), .optional(status?.rawValue),
            .optional(requiredBy?.isoText), .optional(gapFrom?.isoText), .optional(gapTo?.isoText),
            gapDays.map(JSONValue.double) ?? .null,
        ])))
    }

}

extension LedgerQuerying {
    /// `audit:overdue`: first every maintenance overdue at the moment, by app, add-on and
    /// deadline; then every gap of more than 90 days between completed maintenances, by app,
    /// add-on and start.
    ///
    /// Overdue: an add-on live at the moment, a maintenance with a deadline before the moment,
    /// and either still open (pending through running) or failed or cancelled with no
    /// completed maintenance of the add-on recorded after it: the requirement it stood for is
    /// still unmet.
    ///
    /// Gaps run from the add-on's first server's creation to its first completion, between
    /// consecutive completions, and from its last completion to the moment (or to its
    /// destruction, for add-ons destroyed by then). Add-ons provisioned after the moment are
    /// left out.
    public func overdue(at moment: Moment, _ body: (OverdueRow) throws -> Void) throws {
        try reader.read { db in try overdue(at: moment, in: db, body) }
    }

    /// `overdue(at:)` in a read transaction already begun on `db` (`audit:report` reads all its
    /// figures in one).
    func overdue(at moment: Moment, in db: LedgerSQL, _ body: (OverdueRow) throws -> Void) throws {
        let clock = moment.clock(context.now)
        try db.rows("""
            WITH \(ReportSQL.maintenances(moment))
            SELECT apps.name AS app, a.name AS addon, m.uuid, m.status, m.required_by
            FROM m JOIN addons a ON a.id = m.addon_id JOIN apps ON apps.id = a.app_id
            WHERE \(moment.addonLive("a")) AND \(ReportSQL.hasDeadline) AND m.required_by < :clock
              AND (m.status IN \(MaintenanceStatus.sql(MaintenanceStatus.open))
                   OR (m.status IN \(MaintenanceStatus.sql([.failed, .cancelled])) AND NOT EXISTS (
                       SELECT 1 FROM m c WHERE c.addon_id = m.addon_id AND c.status = \(MaintenanceStatus.completed.sql)
                         AND (c.created_at, c.id) > (m.created_at, m.id))))
            ORDER BY apps.name, a.name, m.required_by, m.id
            """, ["clock": clock]) { row in
            try body(OverdueRow(kind: .overdue, app: row["app"], addon: row["addon"], maintenance: row["uuid"],
                                status: MaintenanceStatus(rawValue: row["status"]), requiredBy: row["required_by"],
                                gapFrom: nil, gapTo: nil))
        }
        // Every span between completions is a candidate; the exact 90-day test is done on
        // whole milliseconds here rather than on SQLite's floating-point julian days.
        let cadence = Cadence.days * Timestamp.millisecondsPerDay
        try db.rows("""
            WITH \(ReportSQL.maintenances(moment)), \(ReportSQL.completions),
            last AS (SELECT addon_id, max(completed_at) AS completed_at FROM completions GROUP BY addon_id),
            spans AS (
                SELECT addon_id, uuid, previous_completion AS gap_from, completed_at AS gap_to FROM completions
                UNION ALL
                SELECT a.id, NULL, last.completed_at,
                       CASE WHEN a.deprovisioned_at <= :clock THEN a.deprovisioned_at ELSE :clock END
                FROM addons a LEFT JOIN last ON last.addon_id = a.id
                WHERE a.provisioned_at <= :clock)
            SELECT apps.name AS app, a.name AS addon, s.uuid, coalesce(s.gap_from, \(ReportSQL.origin)) AS gap_from, s.gap_to
            FROM spans s JOIN addons a ON a.id = s.addon_id JOIN apps ON apps.id = a.app_id
            ORDER BY apps.name, a.name, 4, s.gap_to
            """, ["clock": clock]) { row in
            let from: Timestamp = row["gap_from"], to: Timestamp = row["gap_to"]
            guard from.milliseconds(until: to) > cadence else { return }
            try body(OverdueRow(kind: .gap, app: row["app"], addon: row["addon"], maintenance: row["uuid"],
                                status: nil, requiredBy: nil, gapFrom: from, gapTo: to))
        }
    }
}

// MARK: - audit:compliance

/// What `audit:compliance --by` groups maintenances by: the add-on's plan (`heroku-redis:premium-0`),
/// kind (`heroku-redis`) or owning app, or the month (`2023-04`) or quarter (`2023-Q2`, UTC) in
/// which they ended.
public enum ComplianceGrouping: String, CaseIterable, Sendable {
    case plan, kind, app, month, quarter

    /// The group's value for a row, in SQL over `m` (with `m.ended_at` its end), `a` and `apps`.
    var column: String {
        switch self {
        case .plan: "a.service || ':' || a.plan"
        case .kind: "a.service"
        case .app: "apps.name"
        case .month: "substr(m.ended_at, 1, 7)"
        case .quarter: "substr(m.ended_at, 1, 4) || '-Q' || ((CAST(substr(m.ended_at, 6, 2) AS INTEGER) + 2) / 3)"
        }
    }
}

public struct ComplianceFilter: Sendable {
    /// Maintenances that ended (completed, failed or cancelled) at or after `since` …
    public var since: Timestamp?
    /// … and before `until`.
    public var until: Timestamp?
    /// One row per group; nil for one overall row.
    public var by: ComplianceGrouping?

    public init(since: Timestamp? = nil, until: Timestamp? = nil, by: ComplianceGrouping? = nil) {
        self.since = since
        self.until = until
        self.by = by
    }

    /// Refuses a period that does not start before it ends.
    static func checkPeriod(since: Timestamp?, until: Timestamp?) throws {
        if let since, let until, since >= until {
            throw LedgerError.invalidInput("--since \(since.isoText) is not before --until \(until.isoText)",
                                           hint: "Give a period that starts before it ends.")
        }
    }
}

/// One group's figures in `audit:compliance`. Shares are 0…1 to four decimals, nil when no
/// maintenance counts towards them.
public struct ComplianceRow: Sendable, Equatable {
    /// The group's plan, kind or app; nil on the overall row.
    public let group: String?
    public let completed: Int
    public let failed: Int
    public let cancelled: Int
    /// Emergencies among them, whatever their end.
    public let emergency: Int
    /// Of those that started and were scheduled with a window, the share that started inside it.
    public let inWindowShare: Double?
    /// Of those with a deadline, the share completed at or before it (failed and cancelled ones
    /// did not meet theirs).
    public let deadlineMetShare: Double?
    /// Nearest-rank percentiles of the completed ones' durations, in seconds.
    public let durationP50: Int64?
    public let durationP95: Int64?
    public let durationMax: Int64?
    /// The longest gap an add-on of the group went without a completed maintenance, among the
    /// gaps ended by these completions (from the previous completion, or the first server's creation).
    public let longestGapMilliseconds: Int64?

    public var longestGapDays: Double? { longestGapMilliseconds.map(days) }

    /// The keys of its JSON object, in order, led by the group's (named after `by`) when there
    /// is one: the columns of its CSV too.
    public static func keys(by: ComplianceGrouping?) -> [String] {
        (by.map { [$0.rawValue] } ?? []) + [
            "completed", "failed", "cancelled", "emergency", "in_window_share", "deadline_met_share",
            "duration_p50_seconds", "duration_p95_seconds", "duration_max_seconds", "longest_gap_days",
        ]
    }

    /// The figures as JSON, led by the group's when there is one.
    public func json(by: ComplianceGrouping?) -> JSONValue {
        .object(Array(zip(Self.keys(by: by), (by == nil ? [] : [.optional(group)]) + figures)))
    }

    private var figures: [JSONValue] {
        [
            .int(Int64(completed)), .int(Int64(failed)), .int(Int64(cancelled)), .int(Int64(emergency)),
            inWindowShare.map(JSONValue.double) ?? .null, deadlineMetShare.map(JSONValue.double) ?? .null,
            durationP50.map(JSONValue.int) ?? .null, durationP95.map(JSONValue.int) ?? .null, durationMax.map(JSONValue.int) ?? .null,
            longestGapDays.map(JSONValue.double) ?? .null,
        ]
    }

}

/// One group's maintenances, added up as they stream by.
struct ComplianceTally {
    private(set) var completed = 0, failed = 0, cancelled = 0, emergency = 0
    private(set) var startedWithWindow = 0, startedInWindow = 0
    private(set) var withDeadline = 0, deadlineMet = 0
    private(set) var durations: [Int64] = []
    private(set) var longestGap: Int64?

    var ended: Int { completed + failed + cancelled }

    mutating func add(_ maintenance: EndedMaintenance) {
        switch maintenance.status {
        case .completed: completed += 1
        case .failed: failed += 1
        default: cancelled += 1
        }
        if maintenance.emergency { emergency += 1 }
        if let startedInsideWindow = maintenance.startedInsideWindow {
            startedWithWindow += 1
            if startedInsideWindow { startedInWindow += 1 }
        }
        if let metDeadline = maintenance.metDeadline {
            withDeadline += 1
            if metDeadline { deadlineMet += 1 }
        }
        if let duration = maintenance.durationSeconds, let gap = maintenance.gapMilliseconds {
            durations.append(duration)
            longestGap = max(longestGap ?? gap, gap)
        }
    }

    func row(group: String?) -> ComplianceRow {
        let sorted = durations.sorted()
        return ComplianceRow(group: group, completed: completed, failed: failed, cancelled: cancelled, emergency: emergency,
                             inWindowShare: Self.share(startedInWindow, of: startedWithWindow),
                             deadlineMetShare: Self.share(deadlineMet, of: withDeadline),
                             durationP50: Self.percentile(50, of: sorted), durationP95: Self.percentile(95, of: sorted),
                             durationMax: sorted.last, longestGapMilliseconds: longestGap)
    }

    static func share(_ part: Int, of whole: Int) -> Double? {
        whole == 0 ? nil : (Double(part) * 10_000 / Double(whole)).rounded() / 10_000
    }

    /// Nearest rank: the smallest value with at least `percent` % of the values at or below it.
    static func percentile(_ percent: Int, of sorted: [Int64]) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        let rank = (percent * sorted.count + 99) / 100 // ⌈percent · n / 100⌉
        return sorted[max(rank, 1) - 1]
    }
}

/// What `audit:compliance` counts of one maintenance that ended, read once however many groups
/// it is added to.
struct EndedMaintenance {
    let status: MaintenanceStatus?
    let emergency: Bool
    /// nil unless it started and was scheduled with a window.
    let startedInsideWindow: Bool?
    /// nil unless it had a deadline.
    let metDeadline: Bool?
    /// Completed ones only: how long it ran, and how long its add-on had gone without a
    /// completion before it.
    let durationSeconds: Int64?
    let gapMilliseconds: Int64?

    init(_ row: SQLRow) {
        status = MaintenanceStatus(rawValue: row["status"])
        emergency = row["emergency"]
        if let startedAt: Timestamp = row["started_at"], let text: String = row["window"], let window = WeeklyWindow(text: text) {
            startedInsideWindow = window.contains(startedAt)
        } else {
            startedInsideWindow = nil
        }
        let completedAt: Timestamp? = row["completed_at"]
        metDeadline = row["has_deadline"] ? completedAt.map { $0 <= row["required_by"] } ?? false : nil
        if status == .completed, let completedAt {
            durationSeconds = row["duration_seconds"]
            gapMilliseconds = (row["gap_from"] as Timestamp).milliseconds(until: completedAt)
        } else {
            (durationSeconds, gapMilliseconds) = (nil, nil)
        }
    }
}

extension LedgerQuerying {
    /// `audit:compliance`: figures for the maintenances that ended (completed, failed or
    /// cancelled) in `[since, until)` by the moment, one row per group in order, or one overall
    /// row (always, even with nothing to count). Open maintenances have not ended and are not
    /// counted. A maintenance's end is its completion, or the time it entered failed or cancelled.
    public func compliance(_ filter: ComplianceFilter, at moment: Moment) throws -> [ComplianceRow] {
        try ComplianceFilter.checkPeriod(since: filter.since, until: filter.until)
        let tallies = try reader.read { db in
            try complianceTallies(since: filter.since, until: filter.until, at: moment, groupedBy: [filter.by?.column ?? "NULL"], in: db)[0]
        }
        if tallies.isEmpty, filter.by == nil { return [ComplianceTally().row(group: nil)] }
        return tallies.sortedByGroup.map { $0.tally.row(group: $0.group) }
    }

    /// The tallies of `audit:compliance` for several groupings at once, from one pass over the
    /// maintenances that ended in `[since, until)`: for each SQL expression of `groupings` (over
    /// `m`, with `m.ended_at` its end, `a` its add-on and `apps`), a tally per value it takes;
    /// read on `db`, in the read transaction its caller began. The period has been checked
    /// (`ComplianceFilter.checkPeriod`).
    func complianceTallies(since: Timestamp?, until: Timestamp?, at moment: Moment,
                           groupedBy groupings: [String], in db: LedgerSQL) throws -> [[String?: ComplianceTally]] {
        var conditions = ["1"]
        if since != nil { conditions.append("m.ended_at >= :since") }
        if until != nil { conditions.append("m.ended_at < :until") }
        let groups = groupings.enumerated().map { "\($0.element) AS g\($0.offset)" }.joined(separator: ", ")
        var tallies = [[String?: ComplianceTally]](repeating: [:], count: groupings.count)
        try db.rows("""
            WITH \(ReportSQL.maintenances(moment)), \(ReportSQL.completions),
            ended AS (
                SELECT m.*, CASE WHEN m.status = \(MaintenanceStatus.completed.sql) THEN m.completed_at
                                 ELSE (SELECT max(s.changed_at) FROM maintenance_status_changes s WHERE s.maintenance_id = m.id) END AS ended_at
                FROM m WHERE m.status IN \(MaintenanceStatus.sql([.completed, .failed, .cancelled])))
            SELECT \(groups), m.status, m.emergency, m.started_at, m.window, m.completed_at, m.required_by,
                   \(ReportSQL.hasDeadline) AS has_deadline, m.duration_seconds,
                   coalesce(c.previous_completion, \(ReportSQL.origin)) AS gap_from
            FROM ended m JOIN addons a ON a.id = m.addon_id JOIN apps ON apps.id = a.app_id
            LEFT JOIN completions c ON c.id = m.id
            WHERE \(conditions.joined(separator: " AND "))
            """, ["since": since, "until": until]) { row in
            let maintenance = EndedMaintenance(row)
            for index in tallies.indices {
                tallies[index][row[index] as String?, default: ComplianceTally()].add(maintenance) // in place
            }
        }
        return tallies
    }
}

extension Dictionary where Key == String?, Value == ComplianceTally {
    /// The groups in SQLite's order (`ORDER BY`): none first, then by their UTF-8 bytes.
    var sortedByGroup: [(group: String?, tally: ComplianceTally)] {
        map { ($0.key, $0.value) }.sorted { left, right in
            guard let rightGroup = right.group else { return false }
            guard let leftGroup = left.group else { return true }
            return leftGroup.utf8.lexicographicallyPrecedes(rightGroup.utf8)
        }
    }
}

// MARK: - audit:windows

/// One window set on an add-on, with the one it replaced.
public struct WindowChange: Sendable, Equatable {
    /// The add-on's owning app.
    public let app: String
    public let addon: String
    /// nil for the add-on's first window.
    public let previousWindow: WeeklyWindow?
    public let window: WeeklyWindow
    public let setBy: String
    public let setAt: Timestamp
    /// `default` (given at provisioning) or `customer`.
    public let source: String

    /// The keys of its JSON object, in order: the columns of its CSV too.
    public static let keys = ["app", "addon", "previous_window", "window", "set_by", "set_at", "source"]

    public var json: JSONValue {
        .object(Array(zip(Self.keys, [
            .string(app), .string(addon), .optional(previousWindow?.text), .string(window.text), .string(setBy),
            .string(setAt.isoText), .string(source),
        ])))
    }

}

public struct WindowChangeFilter: Sendable {
    /// Add-ons owned by this app …
    public var app: String?
    /// … or this one add-on (its name, or with `app` one of the app's attachments).
    public var addon: String?
    /// Windows set at or after this time.
    public var since: Timestamp?

    public init(app: String? = nil, addon: String? = nil, since: Timestamp? = nil) {
        self.app = app
        self.addon = addon
        self.since = since
    }
}

extension LedgerQuerying {
    /// `audit:windows`: every window set by the moment (each add-on's first included, with no
    /// previous window), oldest first.
    public func windowChanges(_ filter: WindowChangeFilter, at moment: Moment, _ body: (WindowChange) throws -> Void) throws {
        try reader.read { db in try windowChanges(filter, at: moment, in: db, body) }
    }

    /// `windowChanges(_:at:)` in a read transaction already begun on `db`.
    func windowChanges(_ filter: WindowChangeFilter, at moment: Moment, in db: LedgerSQL, _ body: (WindowChange) throws -> Void) throws {
        var scope = "1"
        var arguments: SQLArguments = ["since": filter.since]
        if let addon = filter.addon {
            scope = "w.addon_id = :addon"
            arguments += ["addon": try AddonSelector(addon, app: filter.app).resolve(db).addon.id]
        } else if let app = filter.app {
            scope = "a.app_id = :app"
            arguments += ["app": try AppRecord.named(app, db).id]
        }
        // The previous window is looked up before the --since cut, so the first change
        // listed still shows what it replaced.
        try db.rows("""
            SELECT * FROM (
                SELECT apps.name AS app, a.name AS addon, w.id, w.day_of_week, w.start_minute, w.source, w.set_at, w.set_by,
                       lag(w.day_of_week) OVER by_addon AS previous_day, lag(w.start_minute) OVER by_addon AS previous_minute
                FROM \(moment.windowsSource) w JOIN addons a ON a.id = w.addon_id JOIN apps ON apps.id = a.app_id
                WHERE \(scope)
                WINDOW by_addon AS (PARTITION BY w.addon_id ORDER BY w.id))
            WHERE :since IS NULL OR set_at >= :since
            ORDER BY set_at, id
            """, arguments) { row in
            let previousDay: Int? = row["previous_day"]
            try body(WindowChange(app: row["app"], addon: row["addon"],
                                  previousWindow: previousDay.map { WeeklyWindow(dayOfWeek: $0, startMinute: row["previous_minute"]) },
                                  window: WeeklyWindow(dayOfWeek: row["day_of_week"], startMinute: row["start_minute"]),
                                  setBy: row["set_by"], setAt: row["set_at"], source: row["source"]))
        }
    }
}
