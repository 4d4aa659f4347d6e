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

    /// Each row change the trail records: the entry's seq, the table, the row id and the operation.
    func recordings() throws -> [(seq: Int64, table: String, id: Int64, op: String)] {
        var found: [(seq: Int64, table: String, id: Int64, op: String)] = []
        try fixture.ledger().trail(sinceSeq: 0) { entry in
            guard case .array(let changes)? = entry.parsedPayload?["changes"] else {
                Issue.record("seq \(entry.seq) does not decode")
                return
            }
            for change in changes {
                guard case .string(let table)? = change["table"], case .string(let op)? = change["op"], case .int(let id)? = change["row"]?["id"] else { continue }
                found.append((entry.seq, table, id, op))
            }
        }
        return found
    }

    /// The seqs of the entries that recorded a row, in order.
    func seqsRecording(_ table: String, _ id: Int64) throws -> [Int64] {
        try recordings().filter { $0.table == table && $0.id == id }.map(\.seq)
    }

    /// An entry early in the trail and one late, in different batches at every size but the largest.
    func earlyAndLate() throws -> (early: Int64, late: Int64) {
        let entries = try entries()
        return (entries / 8, entries * 7 / 8)
    }

    @Test func anUntouchedLedgerVerifiesTheSameWhateverTheBatchSize() throws {
        let entries = try entries()
        #expect(entries > 200, "the fleet should be big enough to fill many batches (an engine tick is one entry)")
        let head = try fixture.database.inspect { db in try String.fetchOne(db, sql: "SELECT lower(hex(hash)) FROM audit_trail ORDER BY seq DESC LIMIT 1")! }
        #expect(verdicts() == Array(repeating: "ok \(entries) \(head)", count: Self.batchSizes.count))
    }

    /// The tables are read beside the trail, on a second connection, and their rows hashed by blocks
    /// (`TableFingerprints`): when every row is as recorded, that settles it, and they are not
    /// read again row by row; when one is not, the row by row comparison names it.
    @Test func theTablesAreReadOnceWhenTheyAgreeWithTheTrail() throws {
        for size in Self.batchSizes {
            var rowByRow = false
            _ = try fixture.ledger().verify(sqliteChecks: false, batchBytes: size, comparedRowByRow: &rowByRow)
            #expect(!rowByRow, "batch size \(size)")
        }
        try fixture.database.queue.write { db in try db.execute(sql: "UPDATE maintenances SET method = 'rolling_restart' WHERE id = 3") }
        var rowByRow = false
        #expect(throws: LedgerError.self) { try fixture.ledger().verify(sqliteChecks: false, batchBytes: 1 << 20, comparedRowByRow: &rowByRow) }
        #expect(rowByRow)
    }

    @Test func anAlteredEarlyEntryIsReportedBeforeAMissingLaterOne() throws {
        let (early, late) = try earlyAndLate()
        try tamper("UPDATE audit_trail SET actor = 'mallory' WHERE seq = \(early); DELETE FROM audit_trail WHERE seq = \(late);")
        #expect(verdicts() == failure("verification failed at seq \(early): hash does not match the entry's content (the entry, or the hash of seq \(early - 1) it follows, was altered)"))
    }

    @Test func aMissingEarlyEntryIsReportedBeforeAnAlteredLaterOne() throws {
        let (early, late) = try earlyAndLate()
        try tamper("DELETE FROM audit_trail WHERE seq = \(early); UPDATE audit_trail SET actor = 'mallory' WHERE seq = \(late);")
        #expect(verdicts() == failure("verification failed at seq \(early): entry is missing (next is seq \(early + 1))"))
    }

    /// A format 2 entry links to the one before through its stored hash: an entry altered and
    /// the next one's hash replaced are named by the first.
    @Test func anAlteredEntryIsReportedBeforeALaterBrokenLink() throws {
        let (_, late) = try earlyAndLate()
        try tamper("""
            UPDATE audit_trail SET hash = zeroblob(32) WHERE seq = \(late + 1);
            UPDATE audit_trail SET subject = 'addon:elsewhere' WHERE seq = \(late);
            """)
        #expect(verdicts() == failure("verification failed at seq \(late): hash does not match the entry's content (the entry, or the hash of seq \(late - 1) it follows, was altered)"))
    }

    /// A format 2 entry whose columns take format 1's types (its payload as text, a prev_hash
    /// filled in) is neither format: named by its seq, not read as the other one.
    @Test(arguments: ["payload = CAST(payload AS TEXT)", "prev_hash = lower(hex(zeroblob(32)))", "hash = zeroblob(31)"])
    func anEntryOfNeitherFormatIsNamed(edit: String) throws {
        let (_, late) = try earlyAndLate()
        try tamper("UPDATE audit_trail SET \(edit) WHERE seq = \(late)")
        #expect(verdicts() == failure("verification failed at seq \(late): it is neither a format 1 nor a format 2 entry"))
    }

    /// An entry rewritten with a payload maintledger never writes and a hash to match: its shape
    /// is refused (found by the thread that checked its batch) before the next entry, whose hash
    /// no longer follows (found by a later batch).
    @Test func aPayloadOfAnotherShapeIsReportedBeforeTheLinkItBreaks() throws {
        let (_, late) = try earlyAndLate()
        let entry = try #require(try fixture.database.read { db in try db.one(TrailEntry.self, TrailEntry.selectSQL("WHERE t.seq = ?"), [late]) })
        let forged = TrailEntry(seq: late, recordedAt: entry.recordedAt, actor: entry.actor, action: entry.action, subject: entry.subject,
                                format: .compact, payload: [0xFF], prevHash: entry.prevHash)
        try tamper("UPDATE audit_trail SET payload = X'FF', hash = X'\(forged.hash)' WHERE seq = \(late)")
        #expect(verdicts() == failure("verification failed at seq \(late): its payload is not one maintledger writes (byte 0 is not a change's code)"))
    }

    /// One entry may record a row twice (inserted, then updated by another of its commands): the
    /// second record is the row as stored. The last entry (the fleet's last engine tick) is
    /// rewritten with its tick's row recorded again, hash and all: stored image last, it must
    /// verify; with another image last it must not.
    @Test(arguments: [true, false])
    func ofTwoRecordsOfARowInOneEntryTheSecondCounts(storedImageLast: Bool) throws {
        let last = try #require(try fixture.database.read { db in try db.one(TrailEntry.self, TrailEntry.selectSQL("ORDER BY t.seq DESC LIMIT 1")) })
        let tickID = try fixture.database.inspect { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM engine_ticks")! }
        #expect(try recordings().last.map { [$0.table, $0.op] } == ["engine_ticks", "insert"], "the fleet's last entry should end with its last tick")
        // The tick's insert as format 2 encodes it: ticked_until and recorded_at are the entry's
        // time (tag 6), seed 11 and 10,000 failures per million zigzag varints (tag 1).
        func tick(seed: UInt8) -> [UInt8] { [0x18, UInt8(tickID), 4, 0x06, 0x01, seed << 1, 0x01, 0xA0, 0x9C, 0x01, 0x06] }
        #expect(tickID < 128 && Array(last.payload.suffix(11)) == tick(seed: 11), "the recipe should reproduce the stored insert")
        let payload = last.payload + (storedImageLast ? tick(seed: 12) + tick(seed: 11) : tick(seed: 11) + tick(seed: 12))
        let forged = TrailEntry(seq: last.seq, recordedAt: last.recordedAt, actor: last.actor, action: last.action, subject: last.subject,
                                format: .compact, payload: payload, prevHash: last.prevHash)
        try tamper("UPDATE audit_trail SET payload = X'\(Hex.string(payload))', hash = X'\(forged.hash)' WHERE seq = \(last.seq)")
        // The Merkle tree over the last entry, rewritten to match (a forger with the file can).
        try fixture.database.queue.write { db in
            let guardTrigger = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'trail_tree_append_only_delete'")!
            try db.execute(sql: "DROP TRIGGER trail_tree_append_only_delete; DELETE FROM trail_tree WHERE last_seq = \(last.seq); \(guardTrigger)")
            var readBack: Merkle.Edge? // no edge at hand: it is read from the table
            try TrailTree(db).grow(seq: last.seq, entryHash: forged.hash, edge: &readBack)
        }
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
        let recordedBy = try seqsRecording("maintenances", 3)
        #expect(recordedBy.count >= 3, "maintenance 3 should have moved through its lifecycle: \(recordedBy)")
        try fixture.database.queue.write { db in try db.execute(sql: "UPDATE maintenances SET method = 'rolling_restart' WHERE id = 3") }
        #expect(verdicts() == failure("verification failed at seq \(recordedBy.last!): maintenances row 3 differs from what the trail recorded"))
    }

    /// `require` records a maintenance and its notice in one entry: with both rows changed, the
    /// one a single pass meets first (table order) is named, whichever batch came back first.
    @Test func ofTwoChangedRowsOfOneEntryTheFirstInTableOrderIsReported() throws {
        // The newest entry that created a maintenance and its notice and was the last to record it (still pending).
        let recordings = try recordings()
        func createdWithItsNotice(_ created: (seq: Int64, table: String, id: Int64, op: String)) -> (Int64, Int64, Int64)? {
            guard created.table == "maintenances", created.op == "insert",
                  recordings.last(where: { $0.table == "maintenances" && $0.id == created.id })?.seq == created.seq,
                  let notice = recordings.first(where: { $0.seq == created.seq && $0.table == "notices" && $0.op == "insert" }) else { return nil }
            return (created.seq, created.id, notice.id)
        }
        let found: (Int64, Int64, Int64)? = recordings.reversed().lazy.compactMap(createdWithItsNotice).first
        let (seq, maintenanceID, noticeID) = try #require(found, "the fleet should end with a pending maintenance")
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
        let (apps, windows) = (try #require(try seqsRecording("apps", 7).last), try #require(try seqsRecording("windows", 2).last))
        try fixture.database.queue.write { db in
            try db.execute(sql: "UPDATE apps SET maintenance_mode = 1 - maintenance_mode WHERE id = 7; UPDATE windows SET set_by = 'mallory' WHERE id = 2")
        }
        let first = apps <= windows ? "apps row 7" : "windows row 2"
        #expect(verdicts() == failure("verification failed at seq \(min(apps, windows)): \(first) differs from what the trail recorded"))
    }
}

/// The tables are read on a second connection, on a thread of its own, while the trail is read
/// on the first (`SecondReader`): without SQLite's snapshot API, the second proves it sees the
/// state the first does, or the tables are read on the first connection after all.
@Suite struct SecondConnectionTests {
    let fixture: LedgerFixture

    init() throws {
        fixture = try LedgerFixture(now: "2022-12-31T00:00:00Z")
        let settings = FleetSimulator.Settings(apps: 5, days: 60, start: Timestamp(iso: "2022-01-01T00:00:00Z")!, engine: EngineSettings(seed: 3))
        _ = try FleetSimulator(database: fixture.database, settings: settings, now: fixture.now).run()
    }

    /// Commits on a connection of its own, as another process would (sqlite3, or maintledger).
    func commit(_ sql: String) throws {
        try DatabaseQueue(path: fixture.path).write { db in try db.execute(sql: sql) }
    }

    /// What each connection sees: the trail's length and head, a maintenance's method.
    static let state = "SELECT (SELECT max(seq) FROM audit_trail) || ' ' || (SELECT lower(hex(hash)) FROM audit_trail ORDER BY seq DESC LIMIT 1) || ' ' || (SELECT method FROM maintenances WHERE id = 1)"

    @Test func withNoCommitBetweenBothConnectionsReadTheSameState() throws {
        let (first, second) = try fixture.database.readWithSecondConnection { db, second in
            (try db.value(String.self, Self.state), try #require(second).read { try $0.value(String.self, Self.state) })
        }
        #expect(first != nil)
        #expect(second == first)
    }

    /// A command's commit (a trail entry more), and a tamperer's (a row edited, no entry: the
    /// trail's length and head stay as they were): either way the second connection reads nothing.
    @Test(arguments: ["INSERT INTO audit_trail SELECT seq + 1, recorded_at, actor, action, subject, payload, prev_hash, hash FROM audit_trail ORDER BY seq DESC LIMIT 1",
                      "UPDATE maintenances SET method = 'rolling_restart' WHERE id = 1"])
    func aCommitBetweenTheTwoTransactionsLeavesTheSecondUnread(sql: String) throws {
        let (before, second) = try fixture.database.readWithSecondConnection { db, second in
            try commit(sql)
            return (try db.value(String.self, Self.state), try #require(second).read { try $0.value(String.self, Self.state) })
        }
        #expect(second == nil)
        let after = try fixture.database.read { db in try db.value(String.self, Self.state) }
        #expect(after != before, "the commit was made")
    }

    /// The case a check of the trail's length and head would miss: the first connection sees
    /// an edited row; a tamperer then puts the row back and alters an entry (the head as it was).
    /// Read on two connections regardless, neither state would be checked whole and the row
    /// would pass; verification must name it, from the first connection's state alone.
    @Test func verificationChecksOneCommittedStateWhateverIsCommittedMeanwhile() throws {
        let method = try #require(try fixture.database.read { db in try db.value(String.self, "SELECT method FROM maintenances WHERE id = 1") })
        try commit("UPDATE maintenances SET method = '\(method == "failover" ? "changeover" : "failover")' WHERE id = 1")
        let edited = verdict { try fixture.ledger().verify() }
        #expect(edited.contains("maintenances row 1 differs from what the trail recorded"), "\(edited)")
        var rowByRow = false
        let raced = verdict {
            try fixture.ledger().verify(sqliteChecks: false, batchBytes: 1 << 20, comparedRowByRow: &rowByRow) {
                try commit("""
                    UPDATE maintenances SET method = '\(method)' WHERE id = 1;
                    DROP TRIGGER audit_trail_append_only_update;
                    UPDATE audit_trail SET actor = 'mallory' WHERE seq = 2;
                    """)
            }
        }
        #expect(raced == edited)
        #expect(rowByRow, "the tables were read again on the first connection")
    }

    /// A writer commits command after command while verification runs again and again: each
    /// verdict is ok, for one of the states committed (its head is that entry's hash).
    @Test func verifyingBesideAWriterSaysOkForACommittedState() async throws {
        let (path, context) = (fixture.path, LedgerContext(now: fixture.now, actor: "alice"))
        let before = try fixture.ledger().verify().entryCount
        let verifying = Verifying()
        let reports = try await withThrowingTaskGroup(of: [VerificationReport].self) { group in
            group.addTask {
                let ledger = Ledger(database: try LedgerDatabase.open(at: path, mode: .mustExist), context: context)
                var index = 0
                while verifying.running || index < 5 {
                    try ledger.createApp(named: "racing-app-\(index)")
                    index += 1
                }
                return []
            }
            group.addTask {
                defer { verifying.running = false }
                // Opened as `audit:verify` opens it, to read: opening to record takes the write
                // lock, which a writer committing back to back can keep past the busy timeout
                // (SQLite's busy handler sleeps and retries; the writer retakes the lock at once).
                let ledger = LedgerQueries(reader: try LedgerReader.open(at: path), context: context)
                return try (0..<20).map { _ in try ledger.verify(sqliteChecks: false, batchBytes: 3_000) }
            }
            return try await group.reduce([], +)
        }
        let after = try fixture.ledger().verify().entryCount
        let heads = try fixture.database.read { db in
            Dictionary(uniqueKeysWithValues: try db.values(String.self, "SELECT seq || ' ' || lower(hex(hash)) FROM audit_trail").map { line in
                (Int64(line.split(separator: " ")[0])!, String(line.split(separator: " ")[1]))
            })
        }
        #expect(reports.count == 20)
        #expect(Set(reports.map(\.entryCount)).count > 1, "the writer committed while verification ran")
        for report in reports {
            #expect(report.entryCount >= before && report.entryCount <= after)
            #expect(heads[report.entryCount] == report.headHash)
        }
    }

    /// Whether the verifications still run, for the writer beside them.
    final class Verifying: @unchecked Sendable {
        private let lock = NSLock()
        private var value = true
        var running: Bool {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    func verdict(_ verify: () throws -> VerificationReport) -> String {
        do {
            let report = try verify()
            return "ok \(report.entryCount) \(report.headHash)"
        } catch {
            return "\(error)"
        }
    }
}
