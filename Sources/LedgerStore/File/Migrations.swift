import LedgerCore
/// The schema migrations, embedded in the binary from the top-level `migrations/` folder.
///
/// SwiftPM's `.embedInCode` names each file's bytes after its file name, with a leading digit
/// turned into `_` (`0001_ledger_core.sql` → `_001_ledger_core_sql`), and offers no list:
/// a migration file is shipped by adding one line here. A test checks the folder and this
/// list agree.
package enum Migrations {
    package static let all: [(identifier: String, sql: [UInt8])] = [
        ("0001_ledger_core", PackageResources._001_ledger_core_sql),
        ("0002_engine_and_notices", PackageResources._002_engine_and_notices_sql),
        ("0003_history_indexes", PackageResources._003_history_indexes_sql),
        ("0004_cheaper_constraints", PackageResources._004_cheaper_constraints_sql),
        ("0005_trail_tree_and_checkpoints", PackageResources._005_trail_tree_and_checkpoints_sql),
        ("0006_compact_trail", PackageResources._006_compact_trail_sql),
        ("0007_index_review", PackageResources._007_index_review_sql),
        ("0008_auditor_views", PackageResources._008_auditor_views_sql),
        ("0009_maintenance_moves", PackageResources._009_maintenance_moves_sql),
    ]

    /// The migration that adds the Merkle tree, which a ledger with a trail then grows over it.
    package static let trailTree = "0005_trail_tree_and_checkpoints"
}
