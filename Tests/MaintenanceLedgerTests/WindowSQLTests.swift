import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

/// `--as-of` works out whether an earlier schedule lay outside its window in SQL, from the
/// window's text; it must agree with `WeeklyWindow.contains` everywhere, edges included.
@Suite struct WindowSQLTests {
    @Test func insideAWindowInSQLAgreesWithContains() throws {
        let queue = try DatabaseQueue()
        let sql = "SELECT " + Moment.inside(window: "?1", time: "?2")
        var generator = SplitMix64(seed: 11)
        let base = Timestamp(iso: "2023-04-24T00:00:00Z")!
        for _ in 0..<400 {
            let window = WeeklyWindow(dayOfWeek: Int.random(in: 0...6, using: &generator), startMinute: 30 * Int.random(in: 0..<48, using: &generator))
            let start = window.start(onOrAfter: base.adding(days: Int64.random(in: 0..<60, using: &generator)))
            // Around both edges of an occurrence, and anywhere in the week.
            let offsets: [Int64] = [-1, 0, 1, 240 * 60_000 - 1, 240 * 60_000, 240 * 60_000 + 1,
                                    Int64.random(in: 0..<Timestamp.millisecondsPerWeek, using: &generator)]
            for offset in offsets {
                let time = start.adding(milliseconds: offset)
                let inside = try queue.read { db in try Bool.fetchOne(db, sql: sql, arguments: [window.text, time.storageText]) }
                #expect(inside == window.contains(time), "\(window.text) at \(time.storageText)")
            }
        }
    }
}
