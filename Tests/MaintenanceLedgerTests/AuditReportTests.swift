import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintLedgerCLI
@testable import MaintenanceLedger

// The auditors' reports (`audit:overdue`, `audit:compliance`, `audit:windows`) and the read-only
// `sql` connection, on real ledger files built through the command layer with known answers.

private func ts(_ text: String) -> Timestamp { Timestamp(iso: text)! }

private extension LedgerFixture {
    /// Runs one command as it happens: the clock at `time`, the event recorded at `time`.
    func at(_ time: String, actor: String = "alice", _ body: (Ledger, Timestamp) throws -> Void) throws {
        try body(ledger(at: time, actor: actor), ts(time))
    }

    /// Requires, starts and ends a maintenance of `addon` at the given times.
    func maintenance(_ addon: AddonSelector, required: String, by requiredBy: String, started: String, ended: String,
                     _ end: StatusChange = .complete, serverCreatedAt: String? = nil) throws {
        try at(required) { ledger, time in _ = try ledger.requireMaintenance(addon, requiredBy: ts(requiredBy), at: time) }
        try at(started) { ledger, time in _ = try ledger.changeStatus(addon, .start, at: time) }
        try at(ended) { ledger, time in _ = try ledger.changeStatus(addon, end, at: time, serverCreatedAt: serverCreatedAt.map(ts)) }
    }

    func overdue(asOf: String? = nil) throws -> [OverdueRow] {
        var rows: [OverdueRow] = []
        let ledger = ledger()
        try ledger.overdue(at: try ledger.moment(asOf: asOf.map(ts))) { rows.append($0) }
        return rows
    }

    func compliance(_ filter: ComplianceFilter = ComplianceFilter(), asOf: String? = nil) throws -> [ComplianceRow] {
        let ledger = ledger()
        return try ledger.compliance(filter, at: try ledger.moment(asOf: asOf.map(ts)))
    }

    func windowChanges(_ filter: WindowChangeFilter = WindowChangeFilter(), asOf: String? = nil) throws -> [WindowChange] {
        var rows: [WindowChange] = []
        let ledger = ledger()
        try ledger.windowChanges(filter, at: try ledger.moment(asOf: asOf.map(ts))) { rows.append($0) }
        return rows
    }
}

private func overdue(_ addon: String, _ uuid: String, _ status: MaintenanceStatus, requiredBy: String) -> OverdueRow {
    OverdueRow(kind: .overdue, app: "example-app", addon: addon, maintenance: uuid, status: status, requiredBy: ts(requiredBy),
               gapFrom: nil, gapTo: nil)
}

private func gap(_ addon: String, _ uuid: String?, from: String, to: String) -> OverdueRow {
    OverdueRow(kind: .gap, app: "example-app", addon: addon, maintenance: uuid, status: nil, requiredBy: nil, gapFrom: ts(from), gapTo: ts(to))
}

private let friday = WeeklyWindow(dayOfWeek: 5, startMinute: 18 * 60)

@Suite struct AuditReportTests {
    /// `example-app` holds redis-lively-12345 (premium-0, Fridays 18:00 since 2023-01-02 10:00),
    /// postgresql-plain-22222 (essential-0), kafka-gone-33333 (basic-0, destroyed 2023-02-05)
    /// and redis-old-44444 (mini, first server 2022-09-01, replaced at its one maintenance).
    let fixture: LedgerFixture
    let redis = AddonSelector("redis-lively-12345", app: nil)
    let postgres = AddonSelector("postgresql-plain-22222", app: nil)
    let kafka = AddonSelector("kafka-gone-33333", app: nil)
    let old = AddonSelector("redis-old-44444", app: nil)

    init() throws {
        fixture = try LedgerFixture(now: "2023-01-02T10:00:00Z")
        try fixture.premiumRedis()
        let ledger = fixture.ledger()
        _ = try ledger.createAddon(servicePlan: "heroku-postgresql:essential-0", app: "example-app", name: postgres.name)
        _ = try ledger.createAddon(servicePlan: "heroku-kafka:basic-0", app: "example-app", name: kafka.name)
        _ = try ledger.createAddon(servicePlan: "heroku-redis:mini", app: "example-app", name: old.name, serverCreatedAt: ts("2022-09-01T00:00:00Z"))
    }

    private func uuids() throws -> [String] {
        try fixture.database.inspect { db in try String.fetchAll(db, sql: "SELECT uuid FROM maintenances ORDER BY id") }
    }

    @Test func overdueListsUnmetDeadlinesAndGapsOverNinetyDays() throws {
        // 0: failed, then 1 completed: the requirement was met, late or not.
        try fixture.maintenance(redis, required: "2023-01-09T09:00:00Z", by: "2023-01-20T00:00:00Z",
                                started: "2023-01-13T18:00:00Z", ended: "2023-01-13T18:05:00Z", .fail)
        try fixture.maintenance(redis, required: "2023-01-14T00:00:00Z", by: "2023-01-27T00:00:00Z",
                                started: "2023-01-20T18:00:00Z", ended: "2023-01-20T18:10:00Z")
        // 2: failed with nothing completed after it; 3: still pending past its deadline.
        try fixture.maintenance(postgres, required: "2023-01-10T00:00:00Z", by: "2023-01-15T00:00:00Z",
                                started: "2023-01-16T00:00:00Z", ended: "2023-01-16T00:10:00Z", .fail)
        try fixture.at("2023-01-17T00:00:00Z") { ledger, time in _ = try ledger.requireMaintenance(postgres, requiredBy: ts("2023-02-01T00:00:00Z"), at: time) }
        // 4: cancelled past its deadline, but the add-on is destroyed by now.
        try fixture.at("2023-01-05T00:00:00Z") { ledger, time in _ = try ledger.requireMaintenance(kafka, requiredBy: ts("2023-01-12T00:00:00Z"), at: time) }
        try fixture.at("2023-01-06T00:00:00Z") { ledger, time in _ = try ledger.changeStatus(kafka, .cancel, at: time) }
        try fixture.at("2023-02-05T00:00:00Z") { ledger, _ in _ = try ledger.destroyAddon(kafka, confirm: "example-app") }
        // 5: the first server was created 2022-09-01; the maintenance names its replacement.
        try fixture.maintenance(old, required: "2023-01-19T00:00:00Z", by: "2023-01-25T00:00:00Z", started: "2023-01-20T00:00:00Z",
                                ended: "2023-01-20T00:05:00Z", serverCreatedAt: "2023-01-20T00:04:00Z")
        // 6: a customer's own run, running long after the "required by" it carries: no deadline.
        try fixture.at("2023-02-01T12:00:00Z") { ledger, _ in _ = try ledger.runMaintenance(redis, confirm: "example-app") }
        let uuid = try uuids()

        fixture.now = ts("2023-02-10T00:00:00Z")
        #expect(try fixture.overdue() == [
            overdue(postgres.name, uuid[2], .failed, requiredBy: "2023-01-15T00:00:00Z"),
            overdue(postgres.name, uuid[3], .pending, requiredBy: "2023-02-01T00:00:00Z"),
            gap(old.name, uuid[5], from: "2022-09-01T00:00:00Z", to: "2023-01-20T00:05:00Z"),
        ])
        #expect(try fixture.overdue()[2].gapDays == 141.0)
        // Before the destruction the cancelled maintenance was overdue; the pending one was due
        // exactly then, which is not yet past; the destroyed add-on's gap ran until then.
        #expect(try fixture.overdue(asOf: "2023-02-01T00:00:00Z") == [
            overdue(kafka.name, uuid[4], .cancelled, requiredBy: "2023-01-12T00:00:00Z"),
            overdue(postgres.name, uuid[2], .failed, requiredBy: "2023-01-15T00:00:00Z"),
            gap(old.name, uuid[5], from: "2022-09-01T00:00:00Z", to: "2023-01-20T00:05:00Z"),
        ])
        // Later, gaps have grown past 90 days: to now for live add-ons, to its destruction for
        // kafka-gone-33333 (34 days: none). The customer's own run is still running.
        fixture.now = ts("2023-05-10T00:00:00Z")
        #expect(try fixture.overdue() == [
            overdue(postgres.name, uuid[2], .failed, requiredBy: "2023-01-15T00:00:00Z"),
            overdue(postgres.name, uuid[3], .pending, requiredBy: "2023-02-01T00:00:00Z"),
            gap(postgres.name, nil, from: "2023-01-02T10:00:00Z", to: "2023-05-10T00:00:00Z"),
            gap(redis.name, nil, from: "2023-01-20T18:10:00Z", to: "2023-05-10T00:00:00Z"),
            gap(old.name, uuid[5], from: "2022-09-01T00:00:00Z", to: "2023-01-20T00:05:00Z"),
            gap(old.name, nil, from: "2023-01-20T00:05:00Z", to: "2023-05-10T00:00:00Z"),
        ])
    }

    @Test func complianceTakesNearestRankPercentilesOfWhatEndedInThePeriod() throws {
        // Twenty Fridays: maintenance i starts at 18:00 and runs i minutes.
        for week in 1...20 {
            let start = ts("2023-01-06T18:00:00Z").adding(weeks: Int64(week - 1))
            try fixture.maintenance(redis, required: start.adding(days: -3).isoText, by: start.adding(days: 3).isoText,
                                    started: start.isoText, ended: start.adding(minutes: Int64(week)).isoText)
        }
        fixture.now = ts("2023-06-01T00:00:00Z")
        let all = try fixture.compliance()
        #expect(all == [ComplianceRow(group: nil, completed: 20, failed: 0, cancelled: 0, emergency: 0, inWindowShare: 1, deadlineMetShare: 1,
                                      durationP50: 600, durationP95: 1140, durationMax: 1200,
                                      longestGapMilliseconds: 7 * Timestamp.millisecondsPerDay + 60_000)])
        // [since, until): the 5th completion is in, the 10th is not.
        let since = ts("2023-02-03T18:05:00Z"), until = ts("2023-03-10T18:10:00Z")
        let period = try fixture.compliance(ComplianceFilter(since: since, until: until, by: .plan))
        #expect(period.map(\.group) == ["heroku-redis:premium-0"])
        #expect(period.map(\.completed) == [5])
        #expect(period.map(\.durationP50) == [420] && period.map(\.durationP95) == [540])
        // Plans without windows, and kinds with nothing ended, get no row of their own.
        #expect(try fixture.compliance(ComplianceFilter(by: .kind)).map(\.group) == ["heroku-redis"])
        #expect(try fixture.compliance(ComplianceFilter(since: ts("2024-01-01T00:00:00Z"), by: .app)) == [])
    }

    @Test func aStartCountsInsideTheWindowUntilItsLastMillisecondAcrossMidnight() throws {
        try fixture.at("2023-01-02T11:00:00Z") { ledger, _ in _ = try ledger.updateWindow(redis, day: "thursday", time: "22:00") }
        try fixture.maintenance(redis, required: "2023-01-09T00:00:00Z", by: "2023-01-20T00:00:00Z",
                                started: "2023-01-13T01:59:59.999Z", ended: "2023-01-13T02:10:00Z")
        try fixture.maintenance(redis, required: "2023-01-16T00:00:00Z", by: "2023-01-27T00:00:00Z",
                                started: "2023-01-20T02:00:00Z", ended: "2023-01-20T02:10:00Z")
        fixture.now = ts("2023-02-01T00:00:00Z")
        #expect(try fixture.compliance().map(\.inWindowShare) == [0.5])
    }

    @Test func asOfAnswersFromBeforeTheWindowMovedAndTheMaintenanceCompleted() throws {
        // Required by Monday noon, scheduled Friday 18:00; bob moves the window to Mondays 08:00,
        // which moves it to Monday 08:00; it starts at 11:00 and completes late, at 12:30.
        try fixture.at("2023-01-09T09:00:00Z") { ledger, time in _ = try ledger.requireMaintenance(redis, requiredBy: ts("2023-01-16T12:00:00Z"), at: time) }
        try fixture.at("2023-01-10T12:00:00Z", actor: "bob") { ledger, _ in _ = try ledger.updateWindow(redis, day: "monday", time: "08:00") }
        try fixture.at("2023-01-16T11:00:00Z") { ledger, time in _ = try ledger.changeStatus(redis, .start, at: time) }
        try fixture.at("2023-01-16T12:30:00Z") { ledger, time in _ = try ledger.changeStatus(redis, .complete, at: time) }
        fixture.now = ts("2023-02-01T00:00:00Z")
        let uuid = try uuids()[0]

        let monday = WeeklyWindow(dayOfWeek: 1, startMinute: 8 * 60)
        let changes = try fixture.windowChanges(WindowChangeFilter(app: "example-app", addon: "REDIS"))
        #expect(changes.map(\.window) == [changes[0].window, friday, monday])
        #expect(changes.map(\.previousWindow) == [nil, changes[0].window, friday])
        #expect(changes.map(\.setBy) == ["alice", "alice", "bob"] && changes.map(\.source) == ["default", "customer", "customer"])
        #expect(try fixture.windowChanges(asOf: "2023-01-10T00:00:00Z").map(\.window) == [changes[0].window, friday])
        // --since keeps what the first change listed replaced.
        #expect(try fixture.windowChanges(WindowChangeFilter(since: ts("2023-01-10T12:00:00Z"))) == [changes[2]])

        // Before the move and while it ran, nothing had ended; while it ran past its deadline it
        // was overdue. Now it has completed, inside the window it was moved into, but late.
        let nothing = ComplianceRow(group: nil, completed: 0, failed: 0, cancelled: 0, emergency: 0, inWindowShare: nil,
                                    deadlineMetShare: nil, durationP50: nil, durationP95: nil, durationMax: nil, longestGapMilliseconds: nil)
        #expect(try fixture.compliance(asOf: "2023-01-10T00:00:00Z") == [nothing])
        #expect(try fixture.compliance(asOf: "2023-01-16T12:15:00Z") == [nothing])
        // (redis-old-44444 has gone unmaintained since its server's creation on 2022-09-01.)
        let unmaintained = { (time: String) in gap(old.name, nil, from: "2022-09-01T00:00:00Z", to: time) }
        #expect(try fixture.overdue(asOf: "2023-01-10T00:00:00Z") == [unmaintained("2023-01-10T00:00:00Z")])
        #expect(try fixture.overdue(asOf: "2023-01-16T12:15:00Z")
                == [overdue(redis.name, uuid, .running, requiredBy: "2023-01-16T12:00:00Z"), unmaintained("2023-01-16T12:15:00Z")])
        #expect(try fixture.overdue() == [unmaintained("2023-02-01T00:00:00Z")])
        let now = try #require(try fixture.compliance().first)
        #expect(now.completed == 1 && now.inWindowShare == 1 && now.deadlineMetShare == 0 && now.durationMax == 5400)
    }

    @Test func refusesAFutureMomentAnEmptyPeriodAndUnknownNamesChangingNothing() throws {
        let ledger = fixture.ledger(at: "2023-02-01T00:00:00Z")
        try fixture.expectRefusal(.refused("--as-of 2023-02-01T00:00:00.001+00:00 is in the future (now is 2023-02-01T00:00:00.000+00:00)",
                                           hint: "--as-of asks what the ledger held at a past moment.")) {
            _ = try ledger.moment(asOf: ts("2023-02-01T00:00:00.001Z"))
        }
        try fixture.expectRefusal(.invalidInput("--since 2023-01-10T00:00:00.000+00:00 is not before --until 2023-01-10T00:00:00.000+00:00",
                                                hint: "Give a period that starts before it ends.")) {
            _ = try ledger.compliance(ComplianceFilter(since: ts("2023-01-10T00:00:00Z"), until: ts("2023-01-10T00:00:00Z")), at: .now)
        }
        try fixture.expectRefusal(.notFound("Couldn't find that app: nope-app", hint: "Create it with `maintledger apps:create nope-app`.")) {
            try ledger.windowChanges(WindowChangeFilter(app: "nope-app"), at: .now) { _ in }
        }
        try fixture.expectRefusal(.notFound("Couldn't find that add-on: redis-nope-1", hint: "If redis-nope-1 is an attachment, name its app with -a APP.")) {
            try ledger.windowChanges(WindowChangeFilter(addon: "redis-nope-1"), at: .now) { _ in }
        }
    }
}

@Suite struct AuditReportSQLTests {
    let fixture: LedgerFixture

    init() throws {
        fixture = try LedgerFixture()
        try fixture.premiumRedis()
    }

    private func query(_ sql: String) throws -> (columns: [String], rows: [[JSONValue]]) {
        var result: (columns: [String], rows: [[JSONValue]]) = ([], [])
        try ReadOnlyLedger.open(at: fixture.path).query(sql) { columns, rows in
            result.columns = columns
            while let row = try rows.next() { result.rows.append(row) }
        }
        return result
    }

    /// The ledger file and its WAL, byte for byte.
    private func bytes() throws -> [Data?] {
        [try Data(contentsOf: URL(fileURLWithPath: fixture.path)), try? Data(contentsOf: URL(fileURLWithPath: fixture.path + "-wal"))]
    }

    @Test func valuesKeepSQLiteTypesAndColumnsTheirPositions() throws {
        let result = try query("SELECT 1 AS i, 2.5 AS r, 'x;y' AS t, NULL AS n, x'00ff' AS b")
        #expect(result.columns == ["i", "r", "t", "n", "b"])
        #expect(result.rows == [[.int(1), .double(2.5), .string("x;y"), .null, .string("00ff")]])
        let layout = QueryRows.layout(columns: result.columns)
        #expect(layout.json(result.rows[0]).compactText == #"{"i":1,"r":2.5,"t":"x;y","n":null,"b":"00ff"}"#)
        #expect(layout.cells(result.rows[0]) == ["1", "2.5", "x;y", "", "00ff"])
        // Two columns of one name keep their own values.
        #expect(try query("SELECT 1 AS id, 2 AS id").rows == [[.int(1), .int(2)]])
    }

    @Test(arguments: [
        ("INSERT INTO apps (uuid, name, created_at) VALUES ('x', 'y', 'z')", "sql runs read-only queries; INSERT statements are refused and nothing was run"),
        ("update maintenances set status = 'completed'", "sql runs read-only queries; UPDATE statements are refused and nothing was run"),
        ("DELETE FROM audit_trail", "sql runs read-only queries; DELETE statements are refused and nothing was run"),
        ("DROP TABLE apps", "sql runs read-only queries; DROP statements are refused and nothing was run"),
        ("CREATE TABLE t (x)", "sql runs read-only queries; CREATE statements are refused and nothing was run"),
        ("ATTACH DATABASE ':memory:' AS other", "sql runs read-only queries; ATTACH statements are refused and nothing was run"),
        ("PRAGMA query_only = 0", "sql runs read-only queries; PRAGMA statements are refused and nothing was run"),
        ("PRAGMA user_version = 7", "sql runs read-only queries; PRAGMA statements are refused and nothing was run"),
        ("VACUUM INTO '/tmp/maintledger-copy.sqlite'", "sql runs read-only queries; VACUUM statements are refused and nothing was run"),
        ("BEGIN IMMEDIATE", "sql runs read-only queries; BEGIN statements are refused and nothing was run"),
        ("WITH doomed AS (SELECT id FROM apps) DELETE FROM apps WHERE id IN doomed", "sql runs read-only queries; this statement writes and was not run"),
    ])
    func writesAreRefusedAndChangeNothing(sql: String, message: String) throws {
        let before = try bytes()
        try fixture.expectRefusal(.refused(message, hint: ReadOnlyLedger.refusalHint)) { _ = try query(sql) }
        #expect(try bytes() == before)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/maintledger-copy.sqlite"))
    }

    @Test(arguments: [
        "SELECT 1; DELETE FROM apps", "SELECT 1;;DELETE FROM apps", "SELECT 1 /* ; */ ; -- note\n UPDATE apps SET name = 'x'",
        "SELECT ';' ; DROP TABLE apps",
    ])
    func aSecondStatementIsRefusedAndNothingRuns(sql: String) throws {
        let before = try bytes()
        try fixture.expectRefusal(.refused("sql runs one statement at a time; nothing was run", hint: "Remove what follows the first `;`.")) {
            _ = try query(sql)
        }
        #expect(try bytes() == before)
    }

    @Test func oneStatementMayEndInSemicolonsAndComments() throws {
        #expect(try query("-- count\nSELECT count(*) AS n FROM apps; ; /* done */").rows == [[.int(1)]])
        #expect(try query("SELECT [a;b], \"c;d\" FROM (SELECT 1 AS [a;b], 2 AS \"c;d\") -- ;").rows == [[.int(1), .int(2)]])
    }

    @Test func queriesSQLiteCannotRunAreUsageErrors() throws {
        try fixture.expectRefusal(.invalidInput("the query does not compile: near \"SELEC\": syntax error", hint: nil)) { _ = try query("SELEC 1") }
        try fixture.expectRefusal(.invalidInput("the query does not compile: no such table: nope", hint: nil)) { _ = try query("SELECT * FROM nope") }
        try fixture.expectRefusal(.invalidInput("the query is empty", hint: ReadOnlyLedger.refusalHint)) { _ = try query(" -- nothing\n") }
        try fixture.expectRefusal(.invalidInput("the query has parameters (? or :name), and sql binds none", hint: "Write the values into the query.")) {
            _ = try query("SELECT * FROM apps WHERE name = ?")
        }
        try fixture.expectRefusal(.refused("the query failed: malformed JSON", hint: nil)) { _ = try query("SELECT json('{')") }
    }

    @Test func refusesWhatIsNotALedger() throws {
        let missing = fixture.folder.appendingPathComponent("missing.sqlite").path
        #expect(throws: LedgerError.notFound("no ledger at \(missing)", hint: "Point --db or MAINTLEDGER_DB at an existing ledger.")) {
            _ = try ReadOnlyLedger.open(at: missing)
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        let text = fixture.folder.appendingPathComponent("notes.txt").path
        try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: LedgerError.unusableDatabase("\(text) is not a SQLite database", hint: "Point --db at a ledger file.")) {
            _ = try ReadOnlyLedger.open(at: text)
        }
        let other = fixture.folder.appendingPathComponent("other.sqlite").path
        try DatabaseQueue(path: other).write { db in try db.execute(sql: "CREATE TABLE t (x)") }
        #expect(throws: LedgerError.unusableDatabase("\(other) is not a maintledger ledger", hint: "Point --db at a ledger file.")) {
            _ = try ReadOnlyLedger.open(at: other)
        }
    }
}
