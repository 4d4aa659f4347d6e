import Foundation
import GRDB
import Testing

/// The file's schema is trusted no more than its rows: `audit:verify` compares every table,
/// index, view and trigger, with its SQL, with what the applied migrations define, and a command
/// that records refuses a ledger whose schema or last trail entry is not what it should be.
/// (Before, each of these passed verification, and the planted trigger's work was recorded as
/// the command's.)
@Suite struct SchemaTamperingTests {
    static func verificationFailure(_ message: String) -> RunResult {
        RunResult(stdout: "", stderr: "Error: verification failed: \(message)\n", exitCode: 3)
    }

    static func writeRefusal(_ difference: String) -> String {
        "Error: the ledger was altered outside maintledger (\(difference)), so nothing was recorded; `maintledger audit:verify` checks the whole file\n"
    }

    /// The red team's trigger: it would rewrite every maintenance a command moves on.
    @Test func aPlantedTriggerIsRefusedByWritersAndNamedByVerification() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.tamper("""
            CREATE TRIGGER zz AFTER UPDATE OF status ON maintenances BEGIN
                UPDATE maintenances SET reason = 'customer_request', customer_requested = 1 WHERE id = NEW.id;
            END;
            """)
        try sandbox.expectRefusal(["platform:maintenances:prepare", Fixture.addon], stderr: Self.writeRefusal("trigger zz is defined by no migration"),
                                  exitCode: 3)
        let info = try sandbox.infoJSON(Fixture.addon)
        #expect(info["status"] as? String == "pending" && info["reason"] as? String == "routine_maintenance")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("trigger zz is defined by no migration"))
    }

    @Test(arguments: ["audit_trail_chained", "audit_trail_append_only_update", "audit_trail_append_only_delete", "engine_ticks_forward_only"])
    func aTriggerReplacedByANoOpOfTheSameNameIsNamed(trigger: String) throws {
        let sandbox = try Fixture.seedExample()
        let table = trigger.hasPrefix("engine") ? "engine_ticks" : "audit_trail"
        try sandbox.tamper("DROP TRIGGER \(trigger); CREATE TRIGGER \(trigger) BEFORE INSERT ON \(table) BEGIN SELECT 1; END;")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("trigger \(trigger) differs from its migration's"))
        try sandbox.expectRefusal(["apps:create", "other-app"], stderr: Self.writeRefusal("trigger \(trigger) differs from its migration's"),
                                  exitCode: 3)
    }

    @Test func aDroppedEngineTriggerIsNamed() throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper("DROP TRIGGER engine_ticks_forward_only")
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("trigger engine_ticks_forward_only is missing"))
    }

    @Test(arguments: [
        ("CREATE TABLE notes (body TEXT)", "table notes is defined by no migration"),
        ("CREATE INDEX sneaky ON apps (created_at)", "index sneaky is defined by no migration"),
        ("CREATE VIEW recent AS SELECT * FROM maintenances", "view recent is defined by no migration"),
        ("DROP INDEX maintenances_one_open", "index maintenances_one_open is missing"),
    ])
    func anAddedOrDroppedObjectIsNamed(sql: String, difference: String) throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper(sql)
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure(difference))
    }

    /// An auditor's view (0008) answers for the ledger: one redefined to hide the failures, or
    /// dropped, is named by verification and refused by writers, like a trigger.
    @Test(arguments: [
        ("""
         DROP VIEW maintenance_audit;
         CREATE VIEW maintenance_audit AS SELECT id AS maintenance_id, uuid, status FROM maintenances WHERE status <> 'failed';
         """, "view maintenance_audit differs from its migration's"),
        ("DROP VIEW current_windows", "view current_windows is missing"),
    ])
    func aRedefinedOrDroppedAuditorViewIsNamed(sql: String, difference: String) throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper(sql)
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure(difference))
        try sandbox.expectRefusal(["apps:create", "other-app"], stderr: Self.writeRefusal(difference), exitCode: 3)
    }

    /// The query planner's statistics change no answer, and any SQLite tool may write them.
    @Test func plannerStatisticsAreNoAlteration() throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper("ANALYZE")
        #expect(try sandbox.expectVerifies() == 6)
        try sandbox.ok(["apps:create", "other-app"])
    }

    /// Litestream adds these two tables to every database it replicates (its own statements,
    /// db.go of 0.5.17): a replicated or restored ledger still records and verifies.
    @Test func litestreamsTablesAreNoAlteration() throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper("""
            CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER);
            CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER);
            INSERT INTO _litestream_seq (id, seq) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET seq = seq + 1;
            """)
        #expect(try sandbox.expectVerifies() == 6)
        try sandbox.ok(["apps:create", "other-app"])
        #expect(try sandbox.expectVerifies() == 7)
    }

    /// Only Litestream's tables as it defines them are passed over: another table of the same
    /// name, or a trigger on one of them, is named.
    @Test(arguments: [
        ("CREATE TABLE _litestream_lock (id INTEGER, note TEXT)", "table _litestream_lock is defined by no migration"),
        ("""
         CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER);
         CREATE TRIGGER _litestream_zz AFTER INSERT ON _litestream_seq BEGIN DELETE FROM apps; END;
         """, "trigger _litestream_zz is defined by no migration"),
    ])
    func aTableNamedLikeLitestreamsIsNamed(sql: String, difference: String) throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper(sql)
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure(difference))
        try sandbox.expectRefusal(["apps:create", "other-app"], stderr: Self.writeRefusal(difference), exitCode: 3)
    }

    /// A page SQLite cannot read (here the index of apps' uuids) fails `--integrity` with exit 3,
    /// like any other alteration; it was an error of the tool (exit 1).
    @Test func aDamagedPageFailsVerificationWithExit3() throws {
        let sandbox = try Fixture.seedExample()
        let (page, pageSize) = try DatabaseQueue(path: sandbox.dbPath).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return (try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_apps_1'")!,
                    try Int.fetchOne(db, sql: "PRAGMA page_size")!)
        }
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: sandbox.dbPath))
        try file.seek(toOffset: UInt64((page - 1) * pageSize))
        try file.write(contentsOf: Data(repeating: 0xFF, count: 64))
        try file.close()
        let result = try sandbox.run(["audit:verify", "--integrity"])
        #expect(result.exitCode == 3 && result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("Error: verification failed: "), "\(result.stderr)")
    }

    /// A writer checks the trail's last entry before it extends the chain past it.
    @Test func aWriterRefusesALedgerWhoseLastEntryWasEdited() throws {
        let sandbox = try Fixture.seedExample()
        // Put back exactly as it was, so that only the entry differs.
        let trigger = try #require(try DatabaseQueue(path: sandbox.dbPath).read { db in
            try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'audit_trail_append_only_update'")
        })
        try sandbox.tamper("""
            DROP TRIGGER audit_trail_append_only_update;
            UPDATE audit_trail SET actor = 'mallory' WHERE seq = 6;
            \(trigger);
            """)
        try sandbox.expectRefusal(["apps:create", "other-app"], stderr: Self.writeRefusal("the trail's last entry, seq 6, does not match its hash"),
                                  exitCode: 3)
    }

    /// Only the planner's statistics tables are passed over, by their exact names: a trigger
    /// named like them (possible with `writable_schema`) is compared like any other object.
    @Test func aTriggerNamedLikeThePlannersStatisticsIsNamed() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try DatabaseQueue(path: sandbox.dbPath).writeWithoutTransaction { db in
            try db.execute(sql: """
                PRAGMA writable_schema = ON;
                INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('trigger', 'sqlite_stat_zz', 'maintenances', 0,
                    'CREATE TRIGGER sqlite_stat_zz AFTER UPDATE OF status ON maintenances BEGIN UPDATE maintenances SET reason = ''customer_request'' WHERE id = NEW.id; END');
                PRAGMA writable_schema = OFF;
                """)
        }
        try sandbox.expectRefusal(["platform:maintenances:prepare", Fixture.addon],
                                  stderr: Self.writeRefusal("trigger sqlite_stat_zz is defined by no migration"), exitCode: 3)
        #expect(try sandbox.run(["audit:verify"]) == Self.verificationFailure("trigger sqlite_stat_zz is defined by no migration"))
    }

    /// An upgrade writes, so it checks first: with its record of migration 0004 deleted and a
    /// trigger planted, a ledger is refused rather than upgraded (which would drop the trigger
    /// and erase the evidence), by any command.
    @Test func aLedgerAlteredBeforeAnUpgradeIsNotUpgraded() throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper("""
            DELETE FROM schema_migrations WHERE identifier = '0004_cheaper_constraints';
            CREATE TRIGGER zz AFTER UPDATE OF status ON maintenances BEGIN UPDATE maintenances SET reason = 'customer_request' WHERE id = NEW.id; END;
            """)
        let before = try LedgerSandbox.bytes(sandbox.dbPath)
        for command in [["audit:verify"], ["apps:create", "other-app"]] {
            let result = try sandbox.run(command)
            #expect(result.exitCode == 3 && result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.hasPrefix("Error: the ledger was altered outside maintledger ("), "\(result)")
            #expect(result.stderr.hasSuffix("), so nothing was upgraded; `maintledger audit:verify` checks the whole file\n"), "\(result)")
        }
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == before)
    }

    /// Damage SQLite meets while opening the file is an alteration too (exit 3), not an error
    /// of the tool (exit 1).
    @Test func damageMetWhileOpeningIsExit3() throws {
        let sandbox = try Fixture.seedExample()
        let pageSize = try DatabaseQueue(path: sandbox.dbPath).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return try Int.fetchOne(db, sql: "PRAGMA page_size")!
        }
        // Page 2 holds the first table the migrations make, which every open reads.
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: sandbox.dbPath))
        try file.seek(toOffset: UInt64(pageSize))
        try file.write(contentsOf: Data(repeating: 0xFF, count: 64))
        try file.close()
        let result = try sandbox.run(["audit:verify", "--integrity"])
        #expect(result.exitCode == 3 && result.stdout.isEmpty, "\(result)")
    }
}
