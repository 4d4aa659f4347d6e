// The words a maintenance is described in, as Heroku's CLI and the ledger's columns spell them.

public enum MaintenanceStatus: String, Sendable, CaseIterable {
    case pending, preparing, ready, running, completed, failed, cancelled

    public var isOpen: Bool { [.pending, .preparing, .ready, .running].contains(self) }
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
