import LedgerCore
/// The tables whose every row is described by the audit trail.
public enum LedgerTable: String, CaseIterable, Sendable {
    case apps, addons, attachments, windows, maintenances
    case maintenanceStatusChanges = "maintenance_status_changes"
    case notices
    case engineTicks = "engine_ticks"
    case checkpoints
}
