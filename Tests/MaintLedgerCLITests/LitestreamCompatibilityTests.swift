import Foundation
import GRDB
import Testing

/// What Litestream does to a ledger that maintledger must bear (docs/litestream.md); its own
/// tables are SchemaTamperingTests', the real thing is bench/litestream_trials.py's.
@Suite struct LitestreamCompatibilityTests {
    /// Litestream keeps a read transaction open between its checkpoints, which pins the WAL:
    /// a command's passive checkpoint at close cannot get past it. The command gives up within
    /// 20 ms; it retried for 200 ms, which made every write under Litestream about 0.2 s slower.
    @Test func aWriterBesideALongHeldSnapshotDoesNotWaitAtItsClose() throws {
        let sandbox = try Fixture.seedExample()
        let reader = try DatabaseQueue(path: sandbox.dbPath)
        func medianSeconds(_ prefix: String) throws -> Double {
            try (1...5).map { number in
                let started = Date()
                try sandbox.ok(["apps:create", "\(prefix)-\(number)"])
                return Date().timeIntervalSince(started)
            }.sorted()[2]
        }
        try reader.writeWithoutTransaction { db in
            let free = try medianSeconds("free")
            try db.execute(sql: "BEGIN")
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM apps")
            let pinned = try medianSeconds("pinned")
            try db.execute(sql: "COMMIT")
            #expect(pinned - free < 0.1, "a write took \(pinned) s beside a held snapshot, \(free) s without")
        }
        #expect(try sandbox.expectVerifies() == 16)
    }

    /// Litestream waits for a missing database and initializes it as soon as it appears: its
    /// tables may be in the new file before maintledger's first migration. It still becomes a
    /// ledger; until then readers say it holds none.
    @Test func aNewFileHoldingOnlyLitestreamsTablesBecomesALedger() throws {
        let sandbox = try LedgerSandbox()
        try sandbox.tamper("""
            CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER);
            CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER);
            """)
        #expect(try sandbox.run(["history"]) == RunResult(stdout: "", stderr: """
            Error: \(sandbox.dbPath) holds no ledger yet
            Record something first, for example `maintledger apps:create APP`.

            """, exitCode: 1))
        try sandbox.ok(["apps:create", "first-app"])
        #expect(try sandbox.expectVerifies() == 1)
    }
}
