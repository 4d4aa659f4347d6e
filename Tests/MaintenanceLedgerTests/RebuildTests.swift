import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

// `rebuild` through the library, with batches and a memory of rows small enough that rows cross
// batches, leave the memory and are read back from the file being written: the paths a real
// ledger takes only at the scale of thousands of apps. (The command's round trips, refusals and
// output are MaintLedgerCLITests/RebuildCommandTests.)

private func ts(_ text: String) -> Timestamp { Timestamp(iso: text)! }

@Suite struct RebuildTests {
    /// Every table of a ledger (the trail's tree and `schema_migrations` included), each row as
    /// SQLite's `quote()` of every column: equal when, and only when, the values and their types are.
    static func tables(_ path: String) throws -> [String: [String]] {
        try DatabaseQueue(path: path).read { db in
            var tables: [String: [String]] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
                let columns = try db.columns(in: table).map { "quote(\($0.name))" }.joined(separator: " || ',' || ")
                let order = table == "trail_tree" ? "last_seq, level" : "rowid"
                tables[table] = try String.fetchAll(db, sql: "SELECT \(columns) FROM \(table) ORDER BY \(order)")
            }
            return tables
        }
    }

    /// Exports `fixture`'s trail (one file) and rebuilds it beside, with `batchRows` and `cacheRows`.
    static func rebuild(_ fixture: LedgerFixture, batchRows: Int, cacheRows: Int) throws -> (RebuildReport, String) {
        let folder = fixture.folder.appendingPathComponent("export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = try fixture.ledger().export(to: folder, entity: .trail, format: .ndjson)
        let rebuilt = fixture.folder.appendingPathComponent("rebuilt-\(UUID().uuidString).sqlite").path
        let report = try LedgerRebuild.rebuild(from: folder, to: rebuilt, replacing: false, batchRows: batchRows, cacheRows: cacheRows)
        return (report, rebuilt)
    }

    static func expectSame(_ fixture: LedgerFixture, _ report: RebuildReport, _ rebuilt: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let original = try fixture.ledger().verify()
        #expect(report.entryCount == original.entryCount && report.headHash == original.headHash, sourceLocation: sourceLocation)
        let verified = try LedgerQueries(reader: try LedgerReader.open(at: rebuilt), context: LedgerContext(now: fixture.now, actor: "alice")).verify()
        #expect(verified == original, sourceLocation: sourceLocation)
        let (before, after) = (try tables(fixture.path), try tables(rebuilt))
        #expect(before.keys.sorted() == after.keys.sorted(), sourceLocation: sourceLocation)
        for (table, rows) in before {
            #expect(after[table] == rows, "\(table) differs", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [(1, 1), (7, 3), (64, 1000), (TrailReplay.batchRows, RowCache.generation)])
    func aSimulatedFleetRebuildsWhateverTheBatches(batchRows: Int, cacheRows: Int) throws {
        let fixture = try LedgerFixture(now: "2022-12-31T00:00:00Z")
        let settings = FleetSimulator.Settings(apps: 6, days: 150, start: ts("2022-01-01T00:00:00Z"), engine: EngineSettings(seed: 3, failureRate: 0.1))
        _ = try FleetSimulator(database: fixture.database, settings: settings, now: fixture.now).run()
        let (report, rebuilt) = try Self.rebuild(fixture, batchRows: batchRows, cacheRows: cacheRows)
        try Self.expectSame(fixture, report, rebuilt)
    }

    /// Format 1 entries (full row images, read back and compared) followed by format 2 ones
    /// that update the rows they wrote.
    @Test(arguments: [(1, 1), (5, 2), (TrailReplay.batchRows, RowCache.generation)])
    func aFormat1LedgerTickedSinceRebuildsWhateverTheBatches(batchRows: Int, cacheRows: Int) throws {
        let fixture = try LedgerFixture(format1: "fleet", now: "2022-12-31T00:00:00Z")
        _ = try MaintenanceEngine(database: fixture.database, settings: EngineSettings(seed: 7, failureRate: 0.1))
            .tick(until: ts("2023-03-01T00:00:00Z"), now: ts("2023-03-01T00:00:00Z"))
        let (report, rebuilt) = try Self.rebuild(fixture, batchRows: batchRows, cacheRows: cacheRows)
        try Self.expectSame(fixture, report, rebuilt)
        let formats = try DatabaseQueue(path: rebuilt).read { try String.fetchAll($0, sql: "SELECT DISTINCT typeof(hash) FROM audit_trail ORDER BY 1") }
        #expect(formats == ["blob", "text"])
    }
}
