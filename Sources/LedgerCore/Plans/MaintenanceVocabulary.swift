// The words a maintenance is described in, as Heroku's CLI and the ledger's columns spell them.

public enum MaintenanceStatus: String, Sendable, CaseIterable {
    case pending, preparing, ready, running, completed, failed, cancelled

    public var isOpen: Bool { [.pending, .preparing, .ready, .running].contains(self) }

    /// Pending through running: a maintenance still under way.
    package static let open = allCases.filter(\.isOpen)

    /// The status as an SQL string literal: `'completed'`.
    package var sql: String { "'\(rawValue)'" }

    /// `('pending', 'preparing')`: the statuses as an SQL list, for `status IN …`.
    package static func sql(_ statuses: [MaintenanceStatus]) -> String {
        "(" + statuses.map(\.sql).joined(separator: ", ") + ")"
    }
}

/// Why an upcoming-maintenance notice was sent.
public enum NoticeKind: String, Sendable, CaseIterable {
    case scheduled, rescheduled
}

public enum MaintenanceReason: String, Sendable, CaseIterable {
    case routineMaintenance = "routine_maintenance"
    case customerRequest = "customer_request"
    case hardwareIssue = "hardware_issue"
}

public enum MaintenanceMethod: String, Sendable, CaseIterable {
    case failover, changeover
    case rollingRestart = "rolling_restart"
}
