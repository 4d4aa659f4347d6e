import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

private func ts(_ text: String) -> Timestamp { Timestamp(iso: text)! }

/// `Ledger.history` and `Moment` through the library: what the CLI hands them, checked on a real
/// SQLite file against plain SQL.
@Suite struct HistoryFilterTests {
    @Test func kindsReadInShortAndFullForm() {
        let kinds: [(String, Service?)] = [
            ("redis", .redis), ("heroku-redis", .redis), ("postgresql", .postgres), ("heroku-postgresql", .postgres),
            ("kafka", .kafka), ("heroku-kafka", .kafka), ("postgres", nil), ("Redis", nil), ("", nil), ("heroku", nil),
        ]
        for (text, service) in kinds {
            #expect(Service(kind: text) == service, "\(text)")
        }
    }

    @Test func aNewFilterSelectsEverythingNewestScheduledFirst() {
        let filter = HistoryFilter()
        #expect(filter.app == nil && filter.addon == nil && filter.kind == nil && filter.plan == nil)
        #expect(filter.status == nil && filter.reason == nil && filter.method == nil && filter.since == nil && filter.until == nil)
        #expect(filter.time == .scheduled && !filter.outsideWindow && !filter.emergency && !filter.overdue)
        #expect(filter.limit == nil && !filter.ascending)
        #expect(HistoryTime.allCases.map(\.rawValue) == ["scheduled", "started", "completed"])
    }

    @Test func sinceAfterUntilIsInvalidInputAndReadsNothing() throws {
        let fixture = try LedgerFixture()
        try fixture.premiumRedis()
        var filter = HistoryFilter()
        (filter.since, filter.until) = (ts("2023-03-01T00:00:00.001Z"), ts("2023-03-01T00:00:00Z"))
        try fixture.expectRefusal(.invalidInput("--since 2023-03-01T00:00:00.001+00:00 is after --until 2023-03-01T00:00:00.000+00:00",
                                                hint: "Swap them.")) {
            try fixture.ledger().history(filter, at: .now) { _ in Issue.record("a refused history listed something") }
        }
        // Equal bounds are a range of one millisecond, not a refusal.
        filter.since = filter.until
        var listed = 0
        try fixture.ledger().history(filter, at: .now) { _ in listed += 1 }
        #expect(listed == 0)
    }

    @Test func aMomentIsNowOrAPastTime() throws {
        let fixture = try LedgerFixture(now: "2023-04-24T09:00:00Z")
        let ledger = fixture.ledger()
        #expect(try ledger.moment(asOf: nil) == .now)
        #expect(try ledger.moment(asOf: ts("2023-04-24T09:00:00Z")) == Moment(asOf: ts("2023-04-24T09:00:00Z")))
        #expect(throws: LedgerError.refused("--as-of 2023-04-24T09:00:00.001+00:00 is in the future (now is 2023-04-24T09:00:00.000+00:00)",
                                            hint: "--as-of asks what the ledger held at a past moment.")) {
            try ledger.moment(asOf: ts("2023-04-24T09:00:00.001Z"))
        }
        #expect(Moment.now.maintenancesSource == "maintenances" && Moment.now.windowsSource == "windows")
        #expect(Moment.now.clock(ts("2023-01-01")) == ts("2023-01-01"))
        #expect(Moment(asOf: ts("2022-01-01")).clock(ts("2023-01-01")) == ts("2022-01-01"))
    }

    /// The rebuilt `maintenances` of a past moment has the table's columns, in the table's order
    /// (records decode by position), and as of now holds exactly the table's rows.
    @Test func theRebuiltTableHasTheTablesColumnsAndRows() throws {
        let fixture = try LedgerFixture(now: "2023-04-24T09:00:00Z")
        let addon = try fixture.premiumRedis()
        _ = try fixture.ledger().requireMaintenance(addon, requiredBy: ts("2023-05-03T08:54:02.518Z"))
        _ = try fixture.ledger(at: "2023-04-25T12:00:00Z").updateWindow(addon, day: "wednesday", time: "20:00")
        _ = try fixture.ledger(at: "2023-04-26T20:01:00Z").changeStatus(addon, .start)
        _ = try fixture.ledger(at: "2023-04-26T20:05:00Z").changeStatus(addon, .complete)
        let now = Moment(asOf: ts("2023-04-26T20:05:00Z"))
        let (table, rebuilt, before, beforeAny) = try fixture.database.inspect { db -> ([Row], [Row], [Row], [Row]) in
            (try Row.fetchAll(db, sql: "SELECT * FROM maintenances ORDER BY id"),
             try Row.fetchAll(db, sql: "SELECT * FROM \(now.maintenancesSource) ORDER BY id"),
             try Row.fetchAll(db, sql: "SELECT status, scheduled_for, previously_scheduled_for, \"window\", started_at FROM "
                                     + Moment(asOf: ts("2023-04-25T00:00:00Z")).maintenancesSource),
             try Row.fetchAll(db, sql: "SELECT * FROM " + Moment(asOf: ts("2023-04-24T08:59:59.999Z")).maintenancesSource))
        }
        #expect(rebuilt == table)
        let (rebuiltColumns, tableColumns): ([String], [String]) = (rebuilt.first.map { Array($0.columnNames) } ?? [],
                                                                    table.first.map { Array($0.columnNames) } ?? [])
        #expect(rebuiltColumns == tableColumns && tableColumns.count == 18)
        #expect(before.map(\.description) == [
            #"[status:"pending" scheduled_for:"2023-04-28T18:00:00.000Z" previously_scheduled_for:NULL window:"Fridays 18:00 to 22:00 UTC" started_at:NULL]"#,
        ])
        #expect(beforeAny.isEmpty)
    }

    /// `history` through the library, every view as of the moment asked about.
    @Test func historyHandsOutViewsOfTheMoment() throws {
        let fixture = try LedgerFixture(now: "2023-04-24T09:00:00Z")
        let addon = try fixture.premiumRedis()
        _ = try fixture.ledger().requireMaintenance(addon, requiredBy: ts("2023-05-03T08:54:02.518Z"))
        _ = try fixture.ledger(at: "2023-04-25T12:00:00Z").updateWindow(addon, day: "wednesday", time: "20:00")
        _ = try fixture.ledger(at: "2023-04-26T20:01:00Z").changeStatus(addon, .start)
        _ = try fixture.ledger(at: "2023-04-26T20:05:00Z").changeStatus(addon, .complete)
        let ledger = fixture.ledger(at: "2023-04-27T00:00:00Z")
        func list(_ filter: HistoryFilter, _ moment: Moment) throws -> [String] {
            var lines: [String] = []
            try ledger.history(filter, at: moment) { view in
                let m = view.maintenance!
                lines.append("\(m.status.rawValue) \(m.scheduledFor?.storageText ?? "-") \(m.window ?? "-") \(view.addonWindow?.text ?? "-")")
            }
            return lines
        }
        #expect(try list(HistoryFilter(), .now) == ["completed 2023-04-26T20:00:00.000Z Wednesdays 20:00 to Thursdays 00:00 UTC Wednesdays 20:00 to Thursdays 00:00 UTC"])
        #expect(try list(HistoryFilter(), Moment(asOf: ts("2023-04-25T00:00:00Z")))
                == ["pending 2023-04-28T18:00:00.000Z Fridays 18:00 to 22:00 UTC Fridays 18:00 to 22:00 UTC"])
        var running = HistoryFilter()
        running.status = .running
        #expect(try list(running, Moment(asOf: ts("2023-04-26T20:03:00Z"))).count == 1)
        #expect(try list(running, .now).isEmpty)
    }
}
