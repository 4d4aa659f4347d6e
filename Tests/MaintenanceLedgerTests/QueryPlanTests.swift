import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

// The queries that read `maintenances`, each held to the index it needs (migrations 0003–0007),
// by SQLite's own EXPLAIN QUERY PLAN. The SQL is the code's own: `history`'s statements are
// caught as the library runs them (SQLite's statement trace), the engine's lookups are the
// constants it prepares. Without ANALYZE statistics SQLite plans a statement the same whatever
// the table holds, so a small fleet shows the plans 10M maintenances get.

private func ts(_ text: String) -> Timestamp { Timestamp(iso: text)! }

/// What a query must do with `maintenances` (under whatever alias it gives the table).
private struct PlanExpectation: CustomStringConvertible {
    let name: String
    let sql: String
    /// The plan's line for `maintenances`, e.g. "SEARCH m USING INDEX maintenances_by_addon (addon_id=?)".
    let line: String
    /// Whether the rows come out in the index's order (no "USE TEMP B-TREE FOR ORDER BY").
    var inIndexOrder = true

    var description: String { name }
}

/// A small simulated fleet, and the statements its queries run.
private final class PlanFleet {
    let fixture: LedgerFixture
    let addon: String
    let app: String

    init() throws {
        fixture = try LedgerFixture(now: "2022-12-31T00:00:00Z")
        let settings = FleetSimulator.Settings(apps: 3, days: 120, start: ts("2022-01-01T00:00:00Z"), engine: EngineSettings(seed: 3))
        _ = try FleetSimulator(database: fixture.database, settings: settings, now: fixture.now).run()
        (addon, app) = try fixture.database.inspect { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT addons.name, apps.name FROM addons JOIN apps ON apps.id = addons.app_id
                WHERE addons.id IN (SELECT addon_id FROM maintenances) ORDER BY addons.id LIMIT 1
                """)!
            return (row[0], row[1])
        }
    }

    /// Every statement `body` started on the ledger's connection, in order, each once (the
    /// statements of triggers left out).
    func statements(_ body: () throws -> Void) throws -> [String] {
        final class Caught { var sql: [String] = [] }
        let caught = Caught()
        fixture.database.queue.inDatabase { db in
            db.trace { event in
                guard case .statement(let statement) = event else { return }
                let sql = statement.sql
                if !sql.hasPrefix("--"), !caught.sql.contains(sql) { caught.sql.append(sql) }
            }
        }
        defer { fixture.database.queue.inDatabase { db in db.trace(options: []) } }
        try body()
        return caught.sql
    }

    /// The statement `history` lists with (the others look up the add-ons, apps and windows of
    /// the rows it lists).
    func historySQL(_ filter: HistoryFilter) throws -> String {
        let listing = try statements { try fixture.ledger().history(filter, at: .now) { _ in } }
            .filter { $0.hasPrefix("SELECT m.* FROM maintenances AS m") }
        try #require(listing.count == 1, "history ran \(listing)")
        return listing[0]
    }

    func history(_ name: String, line: String, inIndexOrder: Bool = true, _ change: (inout HistoryFilter) -> Void) throws -> PlanExpectation {
        var filter = HistoryFilter()
        filter.limit = 20
        change(&filter)
        return PlanExpectation(name: "history " + name, sql: try historySQL(filter), line: line, inIndexOrder: inIndexOrder)
    }

    /// Every query of `history` and of the engine that has an index to use, with that index.
    func expectations() throws -> [PlanExpectation] {
        let addonIndex = "SEARCH m USING INDEX maintenances_by_addon (addon_id=?)"
        let notCompleted = "SEARCH m USING INDEX maintenances_by_status_not_completed (status=?)"
        var expectations = [
            // Newest (or oldest) first by each time: n entries of its index, no sort.
            try history("", line: "SCAN m USING INDEX maintenances_by_scheduled") { _ in },
            try history("--time started", line: "SCAN m USING INDEX maintenances_by_started") { $0.time = .started },
            try history("--time completed --ascending", line: "SCAN m USING INDEX maintenances_by_completed") {
                $0.time = .completed
                $0.ascending = true
            },
            try history("--since --until", line: "SEARCH m USING INDEX maintenances_by_scheduled (scheduled_for>? AND scheduled_for<?)") {
                ($0.since, $0.until) = (ts("2022-02-01T00:00:00Z"), ts("2022-03-01T00:00:00Z"))
            },
            try history("--time started --since", line: "SEARCH m USING INDEX maintenances_by_started (started_at>?)") {
                $0.time = .started
                $0.since = ts("2022-02-01T00:00:00Z")
            },
            try history("--time completed --until", line: "SEARCH m USING INDEX maintenances_by_completed (completed_at<?)") {
                $0.time = .completed
                $0.until = ts("2022-02-01T00:00:00Z")
            },
            // Completed is nearly every row: newest first by the time index finds n at once.
            try history("--status completed", line: "SCAN m USING INDEX maintenances_by_scheduled") { $0.status = .completed },
            // One add-on's (or one app's) maintenances, a few dozen, sorted.
            try history("--addon", line: addonIndex, inIndexOrder: false) { $0.addon = addon },
            try history("--app", line: addonIndex, inIndexOrder: false) { $0.app = app },
            try history("--kind", line: addonIndex, inIndexOrder: false) { $0.kind = .redis },
            // With a status too: not the fleet's failed ones, searched for the add-on's.
            try history("--addon --status failed", line: addonIndex, inIndexOrder: false) {
                $0.addon = addon
                $0.status = .failed
            },
            try history("--app --status cancelled", line: addonIndex, inIndexOrder: false) {
                $0.app = app
                $0.status = .cancelled
            },
        ]
        for status in MaintenanceStatus.allCases where status != .completed {
            expectations.append(try history("--status \(status.rawValue)", line: notCompleted) { $0.status = status })
        }
        expectations.append(try history("--status failed --since",
                                        line: "SEARCH m USING INDEX maintenances_by_status_not_completed (status=? AND scheduled_for>?)") {
            $0.status = .failed
            $0.since = ts("2022-02-01T00:00:00Z")
        })
        // The engine's and the commands' lookups of an add-on's maintenances.
        expectations += [
            PlanExpectation(name: "open maintenance", sql: AddonRecord.openMaintenanceSQL,
                            line: "SEARCH maintenances USING INDEX maintenances_one_open (addon_id=?)"),
            PlanExpectation(name: "newest maintenance", sql: AddonRecord.latestMaintenanceSQL,
                            line: "SEARCH maintenances USING INDEX maintenances_by_addon (addon_id=?)"),
            PlanExpectation(name: "last completion", sql: AddonRecord.lastCompletionSQL,
                            line: "SEARCH maintenances USING INDEX maintenances_by_addon (addon_id=?)"),
            PlanExpectation(name: "first server (reports, as-of)", sql: "SELECT \(ReportSQL.origin) FROM addons a WHERE a.id = ?",
                            line: "SEARCH f USING INDEX maintenances_by_addon (addon_id=?)"),
        ]
        return expectations
    }

    /// SQLite's plan of `sql`, one line per step; unbound parameters are NULL, as when it is prepared.
    static func plan(_ sql: String, _ db: Database) throws -> [String] {
        let statement = try db.makeStatement(sql: "EXPLAIN QUERY PLAN " + sql)
        statement.setUncheckedArguments([])
        return try Row.fetchAll(statement).map { $0["detail"] }
    }

    /// How the plans differ from what is expected of them: empty when each query uses its index.
    static func problems(_ expectations: [PlanExpectation], _ db: Database) -> [String] {
        expectations.compactMap { expected in
            let plan: [String]
            do { plan = try Self.plan(expected.sql, db) } catch { return "\(expected.name): \(error)" }
            let sorts = plan.contains("USE TEMP B-TREE FOR ORDER BY")
            guard plan.contains(expected.line), sorts == !expected.inIndexOrder else {
                return "\(expected.name): expected \(expected.line)\(expected.inIndexOrder ? " in index order" : ", sorted"); planned \(plan)"
            }
            return nil
        }
    }
}

@Suite struct QueryPlanTests {
    @Test func eachQueryUsesItsIndex() throws {
        let fleet = try PlanFleet()
        let expectations = try fleet.expectations()
        let problems = try fleet.fixture.database.inspect { db in PlanFleet.problems(expectations, db) }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// The checks above can fail: without any one of the indexes, some query plans otherwise
    /// (a scan of the fleet, or a sort of it). It also shows that each index is needed.
    @Test(arguments: ["maintenances_by_addon", "maintenances_by_scheduled", "maintenances_by_started", "maintenances_by_completed",
                      "maintenances_by_status_not_completed", "maintenances_one_open"])
    func withoutAnIndexSomeQueryPlansOtherwise(index: String) throws {
        let fleet = try PlanFleet()
        let expectations = try fleet.expectations()
        var problems: [String] = []
        try fleet.fixture.database.queue.inTransaction { db in
            try db.execute(sql: "DROP INDEX \(index)")
            problems = PlanFleet.problems(expectations, db)
            return .rollback
        }
        #expect(!problems.isEmpty)
        #expect(problems.allSatisfy { $0.contains(index) }, "\(problems.joined(separator: "\n"))")
    }

    /// The auditors' views (0008, 0009) read their driving table once and everything else by
    /// key: the rows a maintenance or window joins (its add-on, app, last status change, its
    /// moves, previous window) are searched, never scanned per row, so a view reads a 1M ledger
    /// in one pass. A condition on the view reaches the table's index (an auditor's `WHERE uuid = …`).
    @Test(arguments: [
        ("SELECT * FROM maintenance_audit", "SCAN m", ["SEARCH a ", "SEARCH apps ",
                                                       "SEARCH s USING INDEX maintenance_status_changes_by_maintenance (maintenance_id=?)",
                                                       "SEARCH mv USING INTEGER PRIMARY KEY (rowid=?)",
                                                       "SEARCH l USING COVERING INDEX maintenance_moves_by_maintenance (maintenance_id=?)",
                                                       "SEARCH n USING COVERING INDEX maintenance_moves_by_maintenance (maintenance_id=?)"]),
        ("SELECT * FROM maintenance_audit WHERE uuid = ?", "SEARCH m USING INDEX sqlite_autoindex_maintenances_1 (uuid=?)", []),
        ("SELECT * FROM window_changes", "SCAN w", ["SEARCH q USING COVERING INDEX windows_by_addon (addon_id=? AND id<?)"]),
        ("SELECT * FROM current_windows", "SCAN a", ["SEARCH q USING COVERING INDEX windows_by_addon (addon_id=?)"]),
    ])
    func theAuditorViewsReadByKey(sql: String, driver: String, searches: [String]) throws {
        let fleet = try PlanFleet()
        let plan = try fleet.fixture.database.inspect { db in try PlanFleet.plan(sql, db) }
        #expect(plan.contains(driver) && plan.filter { $0.hasPrefix("SCAN") }.allSatisfy { $0 == driver }, "\(plan)")
        for search in searches { #expect(plan.contains { $0.hasPrefix(search) }, "\(search): \(plan)") }
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }

    /// The reports read the maintenances table in place when they answer for now: none of their
    /// statements copies it whole first (SQLite materializes a CTE used twice, which made
    /// `audit:overdue` read 1M maintenances into a temporary table: 5.5 s against 0.7 s).
    @Test func theReportsReadMaintenancesInPlace() throws {
        let fleet = try PlanFleet()
        let ledger = fleet.fixture.ledger()
        let statements = try fleet.statements {
            try ledger.overdue(at: .now) { _ in }
            _ = try ledger.compliance(ComplianceFilter(), at: .now)
        }
        let reading = statements.filter { $0.contains("FROM maintenances") }
        #expect(reading.count >= 3, "\(statements)")
        try fleet.fixture.database.inspect { db in
            for sql in reading {
                let plan = try PlanFleet.plan(sql, db)
                #expect(!plan.contains("MATERIALIZE m"), "\(sql): \(plan)")
            }
        }
    }

    /// Whatever else it reads, the engine finds each add-on's maintenances through an index:
    /// no statement of a simulated fleet's run scans them, or sorts them.
    @Test func theEngineNeverScansMaintenances() throws {
        let fleet = try PlanFleet()
        let engine = EngineSettings(seed: 3)
        let statements = try fleet.statements {
            let clock = ts("2022-08-01T00:00:00Z")
            _ = try MaintenanceEngine(database: fleet.fixture.database, settings: engine).tick(until: clock, now: clock)
        }
        let reading = statements.filter { $0.contains("FROM maintenances") }
        #expect(reading.count >= 3, "\(reading)")
        try fleet.fixture.database.inspect { db in
            for sql in reading {
                let plan = try PlanFleet.plan(sql, db)
                #expect(plan.allSatisfy { $0.hasPrefix("SEARCH maintenances USING ") }, "\(sql): \(plan)")
            }
        }
    }
}
