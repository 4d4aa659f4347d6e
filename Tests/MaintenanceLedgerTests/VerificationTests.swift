import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
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
        try fixture.database.inspect { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit_trail")! }
    }

    @Test func anUntouchedLedgerVerifiesTheSameWhateverTheBatchSize() throws {
        let entries = try entries()
        #expect(entries > 550, "the fleet should be big enough to fill many batches, past the seqs edited below")
        let head = try fixture.database.inspect { db in try String.fetchOne(db, sql: "SELECT hash FROM audit_trail ORDER BY seq DESC LIMIT 1")! }
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
        let entry = try #require(try fixture.database.read { db in try db.one(TrailEntry.self, "SELECT * FROM audit_trail WHERE seq = 300") })
        let forged = TrailEntry(seq: 300, recordedAt: entry.recordedAt, actor: entry.actor, action: entry.action, subject: entry.subject,
                                payload: #"{"changes":[]}"#, prevHash: entry.prevHash)
        try tamper("UPDATE audit_trail SET payload = '\(forged.payload)', hash = '\(forged.hash)' WHERE seq = 300")
        #expect(verdicts() == failure("verification failed at seq 300: its payload is not a list of row changes"))
    }

    /// One entry may record a row twice (inserted, then updated by the same command): the
    /// second image is the row as stored. The last entry is rewritten that way, hash and all,
    /// so it must verify; with the two images the other way round it must not.
    @Test(arguments: [true, false])
    func ofTwoImagesOfARowInOneEntryTheSecondCounts(storedImageLast: Bool) throws {
        let last = try #require(try fixture.database.read { db in try db.one(TrailEntry.self, "SELECT * FROM audit_trail ORDER BY seq DESC LIMIT 1") })
        let change = try #require(last.payload.firstMatch(of: #/^\{"changes":\[(\{"op":"insert","table":"engine_ticks","row":\{"id":\d+,[^}]*\}\})\]\}$/#)?.1,
                                  "the fleet's last entry should be its last engine tick: \(last.payload)")
        let other = change.replacing(#/"seed":11/#, with: #""seed":12"#)
        #expect(other != change)
        let images = storedImageLast ? [other, change] : [change, other]
        let forged = TrailEntry(seq: last.seq, recordedAt: last.recordedAt, actor: last.actor, action: last.action, subject: last.subject,
                                payload: #"{"changes":["# + images.joined(separator: ",") + "]}", prevHash: last.prevHash)
        try tamper("UPDATE audit_trail SET payload = '\(forged.payload)', hash = '\(forged.hash)' WHERE seq = \(last.seq)")
        // The Merkle tree over the last entry, rewritten to match (a forger with the file can).
        try fixture.database.queue.write { db in
            let guardTrigger = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'trail_tree_append_only_delete'")!
            try db.execute(sql: "DROP TRIGGER trail_tree_append_only_delete; DELETE FROM trail_tree WHERE last_seq = \(last.seq); \(guardTrigger)")
            var readBack: Merkle.Edge? // no edge at hand: the siblings are read from the table
            try TrailTree(db).grow(seq: last.seq, entryHash: forged.hash, prevHash: forged.prevHash, edge: &readBack)
        }
        let tickID = try fixture.database.inspect { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM engine_ticks")! }
        #expect(verdicts() == (storedImageLast ? Array(repeating: "ok \(last.seq) \(forged.hash)", count: Self.batchSizes.count)
                                               : failure("verification failed at seq \(last.seq): engine_ticks row \(tickID) differs from what the trail recorded")))
    }

    /// The reading thread stops at a row no entry recorded, with batches perhaps still in flight.
    @Test func aRowAddedOutsideMaintledgerIsNamedWhateverIsInFlight() throws {
        let entries = try entries()
        try fixture.database.queue.write { db in
            try db.execute(sql: "INSERT INTO engine_ticks (ticked_until, seed, failures_per_million, recorded_at) VALUES ('2023-01-01T00:00:00.000Z', 11, 0, 'x')")
        }
        let id = try fixture.database.inspect { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM engine_ticks")! }
        #expect(verdicts() == failure("verification failed: engine_ticks row \(id) appears in no trail entry, which ends at seq \(entries) (the row was added outside maintledger, or entries after it were removed)"))
    }

    /// A maintenance is recorded by several entries (created, prepared, …, completed); a change
    /// to its row is named by the last of them, however the batches came back.
    @Test func aChangedRowIsNamedByTheLastEntryThatRecordedIt() throws {
        let recordedBy = try fixture.database.inspect { db in
            try Int64.fetchAll(db, sql: #"SELECT seq FROM audit_trail WHERE payload LIKE '%"table":"maintenances","row":{"id":3,%' ORDER BY seq"#)
        }
        #expect(recordedBy.count >= 4, "maintenance 3 should have moved through its lifecycle: \(recordedBy)")
        try fixture.database.queue.write { db in try db.execute(sql: "UPDATE maintenances SET method = 'rolling_restart' WHERE id = 3") }
        #expect(verdicts() == failure("verification failed at seq \(recordedBy.last!): maintenances row 3 differs from what the trail recorded"))
    }

    /// `require` records a maintenance and its notice in one entry: with both rows changed, the
    /// one a single pass meets first (table order) is named, whichever batch came back first.
    @Test func ofTwoChangedRowsOfOneEntryTheFirstInTableOrderIsReported() throws {
        let (seq, maintenanceID, noticeID) = try fixture.database.inspect { db in
            // The newest require whose maintenance no later entry recorded (still pending).
            for row in try Row.fetchAll(db, sql: "SELECT seq, payload FROM audit_trail WHERE action = 'platform:maintenances:require' ORDER BY seq DESC") {
                let payload: String = row["payload"]
                guard let maintenance = payload.firstMatch(of: #/"table":"maintenances","row":\{"id":(\d+),/#)?.1,
                      let notice = payload.firstMatch(of: #/"table":"notices","row":\{"id":(\d+),/#)?.1 else { continue }
                let lastRecorded = try Int64.fetchOne(db, sql: #"SELECT max(seq) FROM audit_trail WHERE payload LIKE '%"table":"maintenances","row":{"id":' || ? || ',%'"#,
                                                      arguments: [String(maintenance)])
                if lastRecorded == row["seq"] { return (lastRecorded!, Int64(maintenance)!, Int64(notice)!) }
            }
            Issue.record("the fleet should end with a pending maintenance")
            return (0, 0, 0)
        }
        try fixture.database.queue.write { db in
            try db.execute(sql: "UPDATE notices SET app = 'elsewhere' WHERE id = ?; UPDATE maintenances SET method = 'rolling_restart' WHERE id = ?",
                           arguments: [noticeID, maintenanceID])
        }
        #expect(verdicts() == failure("verification failed at seq \(seq): maintenances row \(maintenanceID) differs from what the trail recorded"))
    }

    /// Batches report their problems in whatever order they come back; the verdict is the one a
    /// single pass meets first: lowest seq, a differing row before a gone one, then table, id.
    @Test func theFirstProblemIsTheEarliestPlaceInWhateverOrderTheyAreNoted() {
        let places = [
            RowPlace(seq: 8, gone: false, table: 0, id: 1), RowPlace(seq: 7, gone: true, table: 0, id: 1),
            RowPlace(seq: 7, gone: false, table: 6, id: 1), RowPlace(seq: 7, gone: false, table: 4, id: 9),
            RowPlace(seq: 7, gone: false, table: 4, id: 3),
        ]
        for rotation in places.indices {
            let rotated = Array(places[rotation...] + places[..<rotation])
            for order in [rotated, rotated.reversed()] {
                var first = FirstProblem<RowPlace>()
                for place in order { first.note(place, "seq \(place.seq) gone \(place.gone) table \(place.table) id \(place.id)") }
                #expect(first.message == "seq 7 gone false table 4 id 3", "noted in the order \(order)")
            }
        }
    }

    @Test func ofTwoChangedRowsTheOneRecordedFirstIsReported() throws {
        let (apps, windows) = try fixture.database.inspect { db in
            (try Int64.fetchOne(db, sql: #"SELECT max(seq) FROM audit_trail WHERE payload LIKE '%"table":"apps","row":{"id":7,%'"#)!,
             try Int64.fetchOne(db, sql: #"SELECT max(seq) FROM audit_trail WHERE payload LIKE '%"table":"windows","row":{"id":2,%'"#)!)
        }
        try fixture.database.queue.write { db in
            try db.execute(sql: "UPDATE apps SET maintenance_mode = 1 - maintenance_mode WHERE id = 7; UPDATE windows SET set_by = 'mallory' WHERE id = 2")
        }
        let first = apps <= windows ? "apps row 7" : "windows row 2"
        #expect(verdicts() == failure("verification failed at seq \(min(apps, windows)): \(first) differs from what the trail recorded"))
    }
}
