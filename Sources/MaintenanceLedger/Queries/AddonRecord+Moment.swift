import LedgerCore
import LedgerStore

/// An add-on's questions whose answer depends on the moment asked about (as-of) or on the reports' rules.
extension AddonRecord {
    /// The add-on with its first server (`ReportSQL.origin`): as it stood before its first
    /// maintenance, since only a completion can name a replacement.
    func withFirstServer(_ db: LedgerSQL) throws -> AddonRecord {
        var addon = self
        addon.serverCreatedAt = try db.value(Timestamp.self, "SELECT \(ReportSQL.origin) FROM addons a WHERE a.id = ?", [id])!
        return addon
    }

    /// Names of its attachments live at `moment`, in the order they were made.
    func attachmentNames(at moment: Moment = .now, _ db: LedgerSQL) throws -> [String] {
        try db.values(String.self, """
            SELECT name FROM attachments a WHERE addon_id = ? AND \(moment.attachmentLive("a")) ORDER BY id
            """, [id])
    }

    /// The window in force at `moment` (the newest set by then).
    func window(at moment: Moment, _ db: LedgerSQL) throws -> WindowRecord? {
        try db.one(WindowRecord.self, "SELECT * FROM \(moment.windowsSource) WHERE addon_id = ? ORDER BY id DESC LIMIT 1", [id])
    }
}
