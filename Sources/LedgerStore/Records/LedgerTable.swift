import LedgerCore
/// The tables whose every row is described by the audit trail.
public enum LedgerTable: String, CaseIterable, Sendable {
    case apps, addons, attachments, windows, maintenances
    case maintenanceStatusChanges = "maintenance_status_changes"
    case notices
    case engineTicks = "engine_ticks"
    case checkpoints

    /// The table's number in format 2 trail entries (fixed forever, whatever the order here).
    package var code: UInt8 {
        switch self {
        case .apps: 1
        case .addons: 2
        case .attachments: 3
        case .windows: 4
        case .maintenances: 5
        case .maintenanceStatusChanges: 6
        case .notices: 7
        case .engineTicks: 8
        case .checkpoints: 9
        }
    }

    package init?(code: UInt8) {
        guard let table = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = table
    }

    /// The columns in table order, as the migrations define them (a test holds them to the
    /// schema): format 2 entries name columns by position, and proofs are read without a ledger.
    package var columns: [String] {
        switch self {
        case .apps: ["id", "uuid", "name", "maintenance_mode", "created_at"]
        case .addons: ["id", "uuid", "name", "service", "plan", "description", "app_id", "server_created_at", "provisioned_at", "deprovisioned_at"]
        case .attachments: ["id", "app_id", "addon_id", "name", "attached_at", "detached_at"]
        case .windows: ["id", "addon_id", "day_of_week", "start_minute", "duration_minutes", "source", "set_at", "set_by"]
        case .maintenances: MaintenanceRecord.columns
        case .maintenanceStatusChanges: ["id", "maintenance_id", "from_status", "to_status", "changed_at", "actor"]
        case .notices: ["id", "maintenance_id", "kind", "app", "addon", "attachments", "window", "scheduled_for", "required_by", "created_at"]
        case .engineTicks: ["id", "ticked_until", "seed", "failures_per_million", "recorded_at"]
        case .checkpoints: ["id", "origin", "tree_size", "root_hash", "note", "recorded_at"]
        }
    }
}
