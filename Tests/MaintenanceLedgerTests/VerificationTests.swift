import Foundation
import GRDB
import Testing
@testable import MaintenanceLedger

/// `audit:verify` copies the trail and the tables into batches checked on two threads, in any
/// order. Whatever the batch size, the verdict must be the one a single pass in seq order gives:
/// the first problem by seq, and a row named by the last entry that recorded it.
@Suite struct VerificationTests {
    /// Batch sizes: every entry or row a batch of its own (they cross between the threads all
    /// the time), a few entries a batch, and the whole small ledger in one batch.
    static let batchSizes = [1, 3_000, 1 << 20]

    let fixture: LedgerFixture

    init() throws {
        fixture = try LedgerFixture(now: "2022-12-31T00:00:00Z")
        let settings = FleetSimulator.Settings(apps: 20, days: 120, start: Timestamp(iso: "2022-01-01T00:00:00Z")!, engine: EngineSettings(seed: 11))
        _ = try FleetSimulator(database: fixture.database, settings: settings, now: fixture.now).run()
    }

    /// What verify says with each batch size: "ok N HEAD" or the error.
    func verdicts() -> [String] {
        Self.batchSizes.map { size in
            do {
                let report = try fixture.ledger().verify(sqliteChecks: false, batchBytes: size)
                return "ok \(report.entryCount) \(report.headHash)"
            } catch {
                return "\(error)"
            }
        }
    }

    func failure(_ message: String) -> [String] {
        Array(repeating: "\(LedgerError.verificationFailed(message))", count: Self.batchSizes.count)
    }

    /// Edits the trail as someone with sqlite3 would: drops its triggers, edits, puts them back.
    func tamper(_ sql: String) throws {
        try fixture.database.queue.write { db in
            let triggers = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_trail'")
            #expect(triggers.count == 3)
            try db.execute(sql: """
                DROP TRIGGER audit_trail_append_only_update;
                DROP TRIGGER audit_trail_append_only_delete;
                DROP TRIGGER audit_trail_chained;
                \(sql);
                \(triggers.joined(separator: ";\n"));
                """)
        }
    }

    func entries() throws -> Int64 {
        try fixture.database.read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit_trail")! }
    }

    @Test func anUntouchedLedgerVerifiesTheSameWhateverTheBatchSize() throws {
        let entries = try entries()
        #expect(entries > 550, "the fleet should be big enough to fill many batches, past the seqs edited below")
        let head = try fixture.database.read { db in try String.fetchOne(db, sql: "SELECT hash FROM audit_trail ORDER BY seq DESC LIMIT 1")! }
        #expect(verdicts() == Array(repeating: "ok \(entries) \(head)", count: Self.batchSizes.count))
    }

    @Test func anAlteredEarlyEntryIsReportedBeforeAMissingLaterOne() throws {
        try tamper("UPDATE audit_trail SET actor = 'mallory' WHERE seq = 40; DELETE FROM audit_trail WHERE seq = 500;")
        #expect(verdicts() == failure("verification failed at seq 40: hash does not match the entry's content (the entry was altered)"))
    }

    @Test func aMissingEarlyEntryIsReportedBeforeAnAlteredLaterOne() throws {
        try tamper("DELETE FROM audit_trail WHERE seq = 40; UPDATE audit_trail SET actor = 'mallory' WHERE seq = 500;")
        #expect(verdicts() == failure("verification failed at seq 40: entry is missing (next is seq 41)"))
    }

    @Test func anAlteredEntryIsReportedBeforeALaterBrokenLink() throws {
        try tamper("""
            UPDATE audit_trail SET prev_hash = replace(prev_hash, substr(prev_hash, 1, 1), 'x') WHERE seq = 450;
            UPDATE audit_trail SET subject = 'addon:elsewhere' WHERE seq = 449;
            """)
        #expect(verdicts() == failure("verification failed at seq 449: hash does not match the entry's content (the entry was altered)"))
    }

    /// An entry rewritten with another payload and a hash to match: its shape is refused (found
    /// by the thread that checked its batch) before the next entry's broken link (found by the
    /// reading thread).
    @Test func aPayloadOfAnotherShapeIsReportedBeforeTheLinkItBreaks() throws {
        let entry = try #require(try fixture.database.read { db in try TrailEntry.fetchOne(db, sql: "SELECT * FROM audit_trail WHERE seq = 300") })
        let forged = TrailEntry(seq: 300, recordedAt: entry.recordedAt, actor: entry.actor, action: entry.action, subject: entry.subject,
                                payload: #"{"changes":[]}"#, prevHash: entry.prevHash)
        try tamper("UPDATE audit_trail SET payload = '\(forged.payload)', hash = '\(forged.hash)' WHERE seq = 300")
        #expect(verdicts() == failure("verification failed at seq 300: its payload is not a list of row changes"))
    }

    /// A maintenance is recorded by several entries (created, prepared, …, completed); a change
    /// to its row is named by the last of them, however the batches came back.
    @Test func aChangedRowIsNamedByTheLastEntryThatRecordedIt() throws {
        let recordedBy = try fixture.database.read { db in
            try Int64.fetchAll(db, sql: #"SELECT seq FROM audit_trail WHERE payload LIKE '%"table":"maintenances","row":{"id":3,%' ORDER BY seq"#)
        }
        #expect(recordedBy.count >= 4, "maintenance 3 should have moved through its lifecycle: \(recordedBy)")
        try fixture.database.queue.write { db in try db.execute(sql: "UPDATE maintenances SET method = 'rolling_restart' WHERE id = 3") }
        #expect(verdicts() == failure("verification failed at seq \(recordedBy.last!): maintenances row 3 differs from what the trail recorded"))
    }

    @Test func ofTwoChangedRowsTheOneRecordedFirstIsReported() throws {
        let (apps, windows) = try fixture.database.read { db in
            (try Int64.fetchOne(db, sql: #"SELECT max(seq) FROM audit_trail WHERE payload LIKE '%"table":"apps","row":{"id":7,%'"#)!,
             try Int64.fetchOne(db, sql: #"SELECT max(seq) FROM audit_trail WHERE payload LIKE '%"table":"windows","row":{"id":2,%'"#)!)
        }
        try fixture.database.queue.write { db in
            try db.execute(sql: "UPDATE apps SET maintenance_mode = 1 - maintenance_mode WHERE id = 7; UPDATE windows SET set_by = 'mallory' WHERE id = 2")
        }
        let first = apps < windows ? "apps row 7" : "windows row 2"
        #expect(verdicts() == failure("verification failed at seq \(min(apps, windows)): \(first) differs from what the trail recorded"))
    }
}
