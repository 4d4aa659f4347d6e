import LedgerCore
import LedgerStore

/// The moment a question is asked about: now, or (`--as-of TIME`) a past moment, whose answer
/// is rebuilt from the history the ledger keeps: every window ever set (`windows.set_at`),
/// every status a maintenance entered (`maintenance_status_changes`), every scheduling and
/// rescheduling (`notices`), and the creation, start and completion times of each maintenance.
///
/// Queries read `maintenances` and `windows` through `maintenancesSource` / `windowsSource`:
/// the tables themselves now, or derived tables with the same columns as they stood then.
public struct Moment: Sendable, Equatable {
    /// nil: now, the tables as they are.
    public let asOf: Timestamp?

    public init(asOf: Timestamp?) { self.asOf = asOf }

    public static let now = Moment(asOf: nil)

    /// The time literal of `asOf`. Safe to inline: a Timestamp's storage text is fixed digits.
    private var literal: String { "'\(asOf!.storageText)'" }

    /// `maintenances` as of the moment: rows created by then, with the status, schedule and
    /// times they had then. `outside_window` is kept for the schedule the row still has; for an
    /// earlier one it is worked out from that schedule and its window, as the engine did.
    public var maintenancesSource: String {
        guard asOf != nil else { return "maintenances" }
        let t = literal
        let latestNotice = "FROM notices n WHERE n.maintenance_id = m.id AND n.created_at <= \(t) ORDER BY n.id DESC LIMIT 1"
        let noticed = "EXISTS (SELECT 1 FROM notices n WHERE n.maintenance_id = m.id)"
        // The columns whose value depends on the moment; the others are the row's own.
        let atTheMoment = [
            "status": """
                (SELECT c.to_status FROM maintenance_status_changes c WHERE c.maintenance_id = m.id AND c.changed_at <= \(t)
                 ORDER BY c.changed_at DESC, c.id DESC LIMIT 1)
                """,
            "scheduled_for": "s.scheduled_for", "previously_scheduled_for": "s.previously_scheduled_for", "window": "s.window",
            "outside_window": """
                CASE WHEN s.scheduled_for IS m.scheduled_for THEN m.outside_window
                     WHEN s.scheduled_for IS NULL OR s.window IS NULL THEN 0
                     ELSE coalesce(NOT \(Self.inside(window: "s.window", time: "s.scheduled_for")), 0) END
                """,
            "started_at": "CASE WHEN m.started_at <= \(t) THEN m.started_at END",
            "completed_at": "CASE WHEN m.completed_at <= \(t) THEN m.completed_at END",
            "duration_seconds": "CASE WHEN m.completed_at <= \(t) THEN m.duration_seconds END",
            "customer_requested": "CASE WHEN m.started_at <= \(t) THEN m.customer_requested ELSE 0 END",
        ]
        let columns = MaintenanceRecord.columns.map { column in atTheMoment[column].map { "\($0) AS \(column)" } ?? "m.\(column)" }
        return """
            (SELECT \(columns.joined(separator: ", "))
             FROM maintenances m
             JOIN (SELECT m.id AS id,
                     CASE WHEN \(noticed) THEN (SELECT n.scheduled_for \(latestNotice)) ELSE m.scheduled_for END AS scheduled_for,
                     CASE WHEN \(noticed) THEN (SELECT n.scheduled_for FROM notices n WHERE n.maintenance_id = m.id AND n.created_at <= \(t)
                                                ORDER BY n.id DESC LIMIT 1 OFFSET 1)
                          ELSE m.previously_scheduled_for END AS previously_scheduled_for,
                     CASE WHEN \(noticed) THEN (SELECT n.window \(latestNotice)) ELSE m."window" END AS window
                   FROM maintenances m WHERE m.created_at <= \(t)) s ON s.id = m.id)
            """
    }

    /// SQL: whether `time` (storage text) falls inside an occurrence of `window` (its text,
    /// "Fridays 18:00 to 22:00 UTC"), as `WeeklyWindow.contains` decides.
    static func inside(window w: String, time t: String) -> String {
        let day = "(CASE substr(\(w), 1, 3) WHEN 'Sun' THEN 0 WHEN 'Mon' THEN 1 WHEN 'Tue' THEN 2 WHEN 'Wed' THEN 3 "
            + "WHEN 'Thu' THEN 4 WHEN 'Fri' THEN 5 WHEN 'Sat' THEN 6 END)"
        let startMinute = "(\(day) * 1440 + CAST(substr(\(w), instr(\(w), ' ') + 1, 2) AS INTEGER) * 60 "
            + "+ CAST(substr(\(w), instr(\(w), ' ') + 4, 2) AS INTEGER))"
        let milliseconds = "((CAST(strftime('%w', \(t)) AS INTEGER) * 1440 + CAST(substr(\(t), 12, 2) AS INTEGER) * 60 "
            + "+ CAST(substr(\(t), 15, 2) AS INTEGER)) * 60000 + CAST(substr(\(t), 18, 2) AS INTEGER) * 1000 + CAST(substr(\(t), 21, 3) AS INTEGER))"
        let week = Timestamp.millisecondsPerWeek
        let length = Int64(WeeklyWindow.lengthMinutes) * Timestamp.millisecondsPerMinute
        return "((((\(milliseconds) - \(startMinute) * 60000) % \(week)) + \(week)) % \(week) < \(length))"
    }

    /// `windows` as of the moment: those set by then.
    public var windowsSource: String {
        guard asOf != nil else { return "windows" }
        return "(SELECT * FROM windows WHERE set_at <= \(literal))"
    }

    /// Whether an add-on (`alias`) was live at the moment.
    public func addonLive(_ alias: String) -> String {
        guard asOf != nil else { return "\(alias).deprovisioned_at IS NULL" }
        return "(\(alias).provisioned_at <= \(literal) AND (\(alias).deprovisioned_at IS NULL OR \(alias).deprovisioned_at > \(literal)))"
    }

    /// Whether an attachment (`alias`) held at the moment.
    public func attachmentLive(_ alias: String) -> String {
        guard asOf != nil else { return "\(alias).detached_at IS NULL" }
        return "(\(alias).attached_at <= \(literal) AND (\(alias).detached_at IS NULL OR \(alias).detached_at > \(literal)))"
    }

    /// The clock the moment's questions are measured against (overdue "now").
    public func clock(_ now: Timestamp) -> Timestamp { asOf ?? now }
}
