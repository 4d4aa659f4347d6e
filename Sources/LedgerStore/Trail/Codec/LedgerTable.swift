import LedgerCore
/// The tables whose every row is described by the audit trail.
public enum LedgerTable: String, CaseIterable, Sendable {
    case apps, addons, attachments, windows, maintenances
    case maintenanceStatusChanges = "maintenance_status_changes"
    case notices
    case engineTicks = "engine_ticks"
    case checkpoints
    case maintenanceMoves = "maintenance_moves"

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
        case .maintenanceMoves: 10
        }
    }

    package init?(code: UInt8) {
        guard code >= 1, Int(code) <= Self.byCode.count else { return nil }
        self = Self.byCode[Int(code) - 1]
    }

    /// Table code n at n - 1 (the codes are 1 to 10 without a gap): decoding a payload looks up a
    /// table for every change.
    private static let byCode: [LedgerTable] = allCases.sorted { $0.code < $1.code }

    /// The number of columns, id included (`columns.count`, without building the list).
    package var columnCount: Int { Self.columnCounts[ordinal] }

    private static let columnCounts = allCases.map(\.columns.count)

    /// The table's place in `allCases`, which verification keeps its tables by.
    package var ordinal: Int {
        switch self {
        case .apps: 0
        case .addons: 1
        case .attachments: 2
        case .windows: 3
        case .maintenances: 4
        case .maintenanceStatusChanges: 5
        case .notices: 6
        case .engineTicks: 7
        case .checkpoints: 8
        case .maintenanceMoves: 9
        }
    }

    /// The columns in table order, as the migrations define them (a test holds them to the
    /// schema): format 2 entries name columns by position, and proofs are read without a ledger.
    package var columns: [String] {
        switch self {
        case .apps: ["id", "uuid", "name", "maintenance_mode", "created_at"]
        case .addons: ["id", "uuid", "name", "service", "plan", "description", "app_id", "server_created_at", "provisioned_at", "deprovisioned_at"]
        case .attachments: ["id", "app_id", "addon_id", "name", "attached_at", "detached_at"]
        case .windows: ["id", "addon_id", "day_of_week", "start_minute", "duration_minutes", "source", "set_at", "set_by"]
        case .maintenances: [
            "id", "uuid", "addon_id", "status", "reason", "method", "required_by", "scheduled_for", "previously_scheduled_for", "window",
            "outside_window", "started_at", "completed_at", "duration_seconds", "server_created_at", "customer_requested", "emergency",
            "created_at",
        ]
        case .maintenanceStatusChanges: ["id", "maintenance_id", "from_status", "to_status", "changed_at", "actor"]
        case .notices: ["id", "maintenance_id", "kind", "app", "addon", "attachments", "window", "scheduled_for", "required_by", "created_at"]
        case .engineTicks: ["id", "ticked_until", "seed", "failures_per_million", "recorded_at"]
        case .checkpoints: ["id", "origin", "tree_size", "root_hash", "note", "recorded_at"]
        case .maintenanceMoves: ["id", "maintenance_id", "moved_from", "moved_to", "moved_at", "moved_by", "cause"]
        }
    }
}
