import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

// The automatic maintenance engine (`platform:tick`) on its own: cadence, scheduling and
// idempotence, checked against the ledger's tables after ticking a small fleet for months.

private func ts(_ text: String) -> Timestamp { Timestamp(iso: text)! }

/// Every notice the ledger holds, oldest first.
private func noticeList(_ ledger: Ledger) throws -> [Notice] {
    var notices: [Notice] = []
    try ledger.notices(sinceSeq: 0) { notices.append($0) }
    return notices
}

private let day = Timestamp.millisecondsPerDay

/// A few add-ons of different plans whose servers were created at different times, all
/// provisioned on Monday 2022-01-03 10:00 (each server at most 76 days old then, so the engine
/// has its full 14 days of notice before the first 90-day deadline). redis-premium-one's first
/// maintenance is required on Saturday 2022-01-29 12:00, so "at least 7 days ahead" skips the
/// Friday window 6¼ days out and takes the one of 2022-02-11.
private struct EngineFleet {
    static let provisioned = "2022-01-03T10:00:00Z"

    struct Member {
        let app: String
        let name: String
        let servicePlan: String
        let serverCreatedAt: String?
        /// `(day, time)` set by the customer right after creation; nil keeps the default.
        let window: (String, String)?
    }

    static let members: [Member] = [
        Member(app: "cadence-app", name: "redis-premium-one", servicePlan: "heroku-redis:premium-0",
               serverCreatedAt: "2021-11-14T12:00:00.000Z", window: ("Fridays", "18:00")),
        // A window across midnight: Sundays 23:30 to Mondays 03:30.
        Member(app: "cadence-app", name: "postgresql-premium-two", servicePlan: "heroku-postgresql:premium-2",
               serverCreatedAt: "2021-12-20T13:00:00Z", window: ("sunday", "11:30PM")),
        Member(app: "cadence-app", name: "postgresql-standard-three", servicePlan: "heroku-postgresql:standard-0",
               serverCreatedAt: "2021-10-25T00:00:00Z", window: nil),
        Member(app: "cadence-app", name: "redis-mini-four", servicePlan: "heroku-redis:mini",
               serverCreatedAt: nil, window: nil),
        Member(app: "other-app", name: "kafka-basic-five", servicePlan: "heroku-kafka:basic-0",
               serverCreatedAt: "2021-12-01T06:00:00Z", window: nil),
        Member(app: "other-app", name: "postgresql-essential-six", servicePlan: "heroku-postgresql:essential-0",
               serverCreatedAt: "2021-11-30T21:15:00Z", window: nil),
    ]

    static var names: [String] { members.map(\.name) + ["redis-shield-late"] }

    let fixture: LedgerFixture

    init() throws {
        fixture = try LedgerFixture(now: Self.provisioned)
        let ledger = fixture.ledger()
        for app in ["cadence-app", "other-app"] { try ledger.createApp(named: app) }
        for member in Self.members {
            _ = try ledger.createAddon(servicePlan: member.servicePlan, app: member.app, name: member.name,
                                       serverCreatedAt: member.serverCreatedAt.map(ts))
            if let (day, time) = member.window {
                _ = try ledger.updateWindow(AddonSelector(member.name, app: nil), day: day, time: time)
            }
        }
        // Shared with the other app: notices list both attachments.
        _ = try ledger.attachAddon("redis-premium-one", to: "other-app", as: "CACHE")
    }

    /// A shield add-on that arrives later, on 2022-06-01, with a new server.
    func addLateAddon() throws {
        _ = try fixture.ledger(at: "2022-06-01T12:00:00Z").createAddon(servicePlan: "heroku-redis:shield-3", app: "other-app",
                                                                       name: "redis-shield-late")
    }

    /// Ticks like `platform:tick` does: a new engine for every tick, from the ledger's state.
    @discardableResult
    func tick(to until: String, _ settings: EngineSettings) throws -> TickSummary {
        try MaintenanceEngine(database: fixture.database, settings: settings).tick(until: ts(until), now: ts(until))
    }

    /// Two years of the engine alone, with the late add-on joining on the way.
    func runTwoYears(_ settings: EngineSettings, between: (String) throws -> Void = { _ in }) throws {
        for stop in ["2022-02-01T00:00:00Z", "2022-02-20T00:00:00Z", "2022-06-01T12:00:00Z", "2023-01-01T00:00:00Z"] {
            try tick(to: stop, settings)
            if stop == "2022-06-01T12:00:00Z" { try addLateAddon() }
            try between(stop)
        }
        try tick(to: Self.end, settings)
    }

    static let end = "2024-01-03T00:00:00Z"

    func addon(_ name: String) throws -> AddonRecord {
        try fixture.database.read { db in try db.one(AddonRecord.self, "SELECT * FROM addons WHERE name = ?", [name])! }
    }

    func maintenances(of name: String) throws -> [MaintenanceRecord] {
        try fixture.database.read { db in
            try db.all(MaintenanceRecord.self, """
                SELECT maintenances.* FROM maintenances JOIN addons ON addons.id = maintenances.addon_id
                WHERE addons.name = ? ORDER BY maintenances.id
                """, [name])
        }
    }

    /// Each status a maintenance entered, with its time and actor.
    func statusChanges(of maintenance: MaintenanceRecord) throws -> [(status: String, at: Timestamp, actor: String)] {
        try fixture.database.inspect { db in
            try Row.fetchAll(db, sql: "SELECT to_status, changed_at, actor FROM maintenance_status_changes WHERE maintenance_id = ? ORDER BY id",
                             arguments: [maintenance.id]).map { ($0["to_status"], Timestamp(iso: $0["changed_at"] as String)!, $0["actor"]) }
        }
    }

    func notices(of maintenance: MaintenanceRecord) throws -> [Row] {
        try fixture.database.inspect { db in
            try Row.fetchAll(db, sql: "SELECT * FROM notices WHERE maintenance_id = ? ORDER BY id", arguments: [maintenance.id])
        }
    }
}

extension WeeklyWindow {
    /// Reads back the text a maintenance records (`Sundays 23:30 to Mondays 03:30 UTC`).
    init?(recorded text: String) {
        let words = text.split(separator: " ").map(String.init)
        guard words.count >= 2, let day = WeeklyWindow.parseDay(words[0]), let minute = WeeklyWindow.parseTime(words[1]) else { return nil }
        self.init(dayOfWeek: day, startMinute: minute)
        guard self.text == text else { return nil }
    }
}

extension Timestamp {
    var daysText: String { String(format: "%.2f days", Double(millisecondsSinceEpoch) / Double(day)) }
}

// MARK: - Cadence

@Suite struct EngineCadenceTests {
    /// Without failures, no add-on goes more than 90 days without a completed maintenance:
    /// from its server's creation to the first completion, between completions, and from the
    /// last completion to the end of the run.
    @Test func withoutFailuresNoAddonGoesMoreThan90DaysUnmaintained() throws {
        let fleet = try EngineFleet()
        try fleet.runTwoYears(EngineSettings(seed: 3, failureRate: 0))
        let end = ts(EngineFleet.end)
        for name in EngineFleet.names {
            let addon = try fleet.addon(name)
            let maintenances = try fleet.maintenances(of: name)
            #expect(maintenances.dropLast().allSatisfy { $0.status == .completed } && maintenances.last?.status != .failed,
                    "\(name): \(maintenances.map(\.status))")
            let completions = maintenances.compactMap(\.completedAt)
            #expect(completions == completions.sorted())
            // Two years at most 90 days apart: at least 8 completions (the late add-on, 7 months: 2).
            #expect(completions.count >= (name == "redis-shield-late" ? 6 : 8), "\(name) completed only \(completions.count)")
            let points = [addon.serverCreatedAt] + completions + [end]
            for (from, to) in zip(points, points.dropFirst()) {
                #expect(from.milliseconds(until: to) <= 90 * day,
                        "\(name) went \(Timestamp(millisecondsSinceEpoch: from.milliseconds(until: to)).daysText) without maintenance, \(from) to \(to)")
            }
        }
        // Each of the five ticks is one trail entry, however many steps it took.
        let ticks = try fleet.fixture.database.inspect { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail WHERE action = 'platform:tick'") }
        #expect(ticks == 5)
        _ = try fleet.fixture.ledger().verify()
    }

    /// With failures (and one cancellation), the only gaps over 90 days are those that contain a
    /// failed or cancelled maintenance; after one, the next is required at once.
    @Test func withFailuresOnlyGapsHoldingAFailedOrCancelledMaintenanceExceed90Days() throws {
        let fleet = try EngineFleet()
        let settings = EngineSettings(seed: 11, failureRate: 0.25)
        try fleet.runTwoYears(settings) { stop in
            // kafka-basic-five's first maintenance (required 2022-02-15) is pending now: cancel it.
            guard stop == "2022-02-20T00:00:00Z" else { return }
            let kafka = AddonSelector("kafka-basic-five", app: nil)
            #expect(try fleet.fixture.ledger(at: stop).maintenanceInfo(kafka).maintenance?.status == .pending)
            _ = try fleet.fixture.ledger(at: stop, actor: MaintenanceEngine.actor).changeStatus(kafka, .cancel)
        }
        let end = ts(EngineFleet.end)
        var failed = 0, cancelled = 0, longGaps = 0
        for name in EngineFleet.names {
            let addon = try fleet.addon(name)
            let maintenances = try fleet.maintenances(of: name)
            let ends = try maintenances.filter { $0.status == .failed || $0.status == .cancelled }
                .map { try fleet.statusChanges(of: $0).last!.at }
            failed += maintenances.filter { $0.status == .failed }.count
            cancelled += maintenances.filter { $0.status == .cancelled }.count
            // After a failure or cancellation the next maintenance is required at that very time.
            for (previous, next) in zip(maintenances, maintenances.dropFirst()) where previous.status == .failed || previous.status == .cancelled {
                let ended = try fleet.statusChanges(of: previous).last!.at
                #expect(next.createdAt == ended, "\(name): no maintenance required when \(previous.uuid) ended")
            }
            let points = [addon.serverCreatedAt] + maintenances.compactMap(\.completedAt) + [end]
            for (from, to) in zip(points, points.dropFirst()) where from.milliseconds(until: to) > 90 * day {
                longGaps += 1
                #expect(ends.contains { $0 > from && $0 < to }, "\(name) went more than 90 days without maintenance, \(from) to \(to), with no failure")
            }
        }
        // Retries are required by the original deadline while it is ahead, so long gaps are rare.
        #expect(failed > 0 && cancelled == 1, "the run must exercise the exception: \(failed) failed, \(cancelled) cancelled, \(longGaps) long gaps")
        _ = try fleet.fixture.ledger().verify()
    }

    /// An add-on whose server is already 85 days old when it joins the ledger still has 5 days
    /// before its 90-day deadline: the engine requires it by that deadline, not two weeks out.
    @Test func anAddonJoiningCloseToItsDeadlineIsStillMaintainedWithin90Days() throws {
        let fixture = try LedgerFixture(now: "2022-01-03T10:00:00Z")
        let ledger = fixture.ledger()
        try ledger.createApp(named: "late-app")
        _ = try ledger.createAddon(servicePlan: "heroku-redis:premium-0", app: "late-app", name: "redis-old-server",
                                   serverCreatedAt: ts("2021-10-10T10:00:00Z"))
        _ = try MaintenanceEngine(database: fixture.database, settings: EngineSettings(seed: 1, failureRate: 0))
            .tick(until: ts("2022-03-01T00:00:00Z"), now: ts("2022-03-01T00:00:00Z"))
        let first = try #require(try ledger.maintenanceHistory(AddonSelector("redis-old-server", app: nil), limit: nil).maintenances.last?.maintenance)
        #expect(first.status == .completed)
        #expect(first.requiredBy == ts("2022-01-08T10:00:00Z"))
        #expect(first.completedAt! <= ts("2022-01-08T10:00:00Z"))
    }

    /// The first window start at least 7 days ahead may lie a minute before the deadline (window
    /// Mondays 23:00, deadline Monday 2022-02-14 23:01): a window counts only when it ends by the
    /// deadline, so the engine takes the Monday before, a minute short of a week's notice.
    @Test func aWindowStartingJustBeforeTheDeadlineStillLeavesTimeToComplete() throws {
        let fixture = try LedgerFixture(now: "2022-01-03T10:00:00Z")
        let ledger = fixture.ledger()
        try ledger.createApp(named: "edge-app")
        let addon = AddonSelector("redis-edge", app: nil)
        _ = try ledger.createAddon(servicePlan: "heroku-redis:premium-0", app: "edge-app", name: "redis-edge",
                                   serverCreatedAt: ts("2021-11-16T23:01:00Z"))
        _ = try ledger.updateWindow(addon, day: "mondays", time: "23:00")
        _ = try MaintenanceEngine(database: fixture.database, settings: EngineSettings(seed: 1, failureRate: 0))
            .tick(until: ts("2022-03-01T00:00:00Z"), now: ts("2022-03-01T00:00:00Z"))
        let first = try #require(try ledger.maintenanceHistory(addon, limit: nil).maintenances.last?.maintenance)
        #expect(first.requiredBy == ts("2022-02-14T23:01:00Z") && first.scheduledFor == ts("2022-02-07T23:00:00Z"))
        #expect(first.status == .completed)
        #expect(first.completedAt! <= first.requiredBy)
    }
}

// MARK: - Scheduling

@Suite struct EngineSchedulingTests {
    /// Engine-created maintenances: required 14 days before the 90-day deadline, scheduled at the
    /// first window start at least 7 days ahead (before the deadline), prepared there, started
    /// inside the window recorded on the maintenance, each with its notice; plans without
    /// windows get a time the engine picks, a week out. Everything by actor `platform`.
    @Test func engineMaintenancesAreRequiredScheduledAndStartedByTheRules() throws {
        let fleet = try EngineFleet()
        var moved: Timestamp?
        try fleet.runTwoYears(EngineSettings(seed: 5, failureRate: 0)) { stop in
            // The customer moves redis-premium-one's window while its first maintenance is pending.
            guard stop == "2022-02-01T00:00:00Z" else { return }
            let info = try fleet.fixture.ledger(at: stop).updateWindow(AddonSelector("redis-premium-one", app: nil), day: "tuesdays", time: "6:00")
            #expect(info.previouslyScheduledAt == ts("2022-02-11T18:00:00Z"))
            #expect(info.scheduledAt == ts("2022-02-01T06:00:00Z"))
            moved = ts(stop)
        }
        #expect(moved != nil)
        var checked = 0, withoutWindows = 0
        for name in EngineFleet.names {
            let addon = try fleet.addon(name)
            var base = addon.serverCreatedAt
            for maintenance in try fleet.maintenances(of: name) {
                let what = "\(name) \(maintenance.uuid)"
                let changes = try fleet.statusChanges(of: maintenance)
                #expect(changes.allSatisfy { $0.actor == MaintenanceEngine.actor }, "\(what): \(changes)")
                #expect(maintenance.reason == .routineMaintenance && !maintenance.emergency && !maintenance.customerRequested)
                // Required 14 days before the deadline: 90 days after the last completion.
                #expect(maintenance.requiredBy == base.adding(days: 90), "\(what) required by \(maintenance.requiredBy), base \(base)")
                #expect(maintenance.createdAt == maintenance.requiredBy.adding(days: -14), "\(what) created \(maintenance.createdAt)")
                let scheduled = try #require(maintenance.scheduledFor, "\(what) has no time")
                #expect(scheduled < maintenance.requiredBy && !maintenance.outsideWindow, "\(what)")
                let notices = try fleet.notices(of: maintenance)
                if let text = maintenance.window {
                    let window = try #require(WeeklyWindow(recorded: text), "\(what): \(text)")
                    if let previous = maintenance.previouslyScheduledFor {
                        // Moved by the window update: the first start of the new window after it.
                        #expect(name == "redis-premium-one" && previous == WeeklyWindow(recorded: "Fridays 18:00 to 22:00 UTC")!.start(onOrAfter: maintenance.createdAt.adding(days: 7)))
                        #expect(scheduled == window.start(onOrAfter: moved!))
                        #expect(notices.map { $0["kind"] as String } == ["scheduled", "rescheduled"])
                    } else {
                        #expect(scheduled == window.start(onOrAfter: maintenance.createdAt.adding(days: 7)), "\(what) scheduled \(scheduled)")
                        #expect(notices.map { $0["kind"] as String } == ["scheduled"])
                    }
                    if let started = maintenance.startedAt {
                        #expect(window.contains(started), "\(what) started at \(started), outside \(text)")
                    }
                } else {
                    withoutWindows += 1
                    #expect(!addon.plan.hasWindows)
                    // A time the engine picked: some moment of the day a week after it was required.
                    #expect(scheduled >= maintenance.createdAt.adding(days: 7) && scheduled < maintenance.createdAt.adding(days: 8), "\(what) scheduled \(scheduled)")
                    #expect(notices.map { $0["kind"] as String } == ["scheduled"])
                }
                // The notice carries what the maintenance says now.
                let notice = try #require(notices.last)
                #expect(Timestamp(iso: notice["scheduled_for"] as String) == scheduled && Timestamp(iso: notice["required_by"] as String) == maintenance.requiredBy)
                #expect(notice["window"] as String? == maintenance.window && notice["addon"] as String == name)
                // Prepared at its time, ready 20–60 s later, started 10–90 s after that, then completed;
                // only the last one may still be under way when the run ends.
                let lifecycle = ["pending", "preparing", "ready", "running", "completed"]
                if maintenance.status.isOpen {
                    #expect(maintenance.id == (try fleet.maintenances(of: name).last?.id) && lifecycle.starts(with: changes.map(\.status)), "\(what): \(changes)")
                } else {
                    #expect(changes.map(\.status) == lifecycle, "\(what): \(changes)")
                }
                if changes.count == 5 {
                    #expect(changes[0].at == maintenance.createdAt && changes[1].at == scheduled)
                    #expect((20_000...60_000).contains(changes[1].at.milliseconds(until: changes[2].at)))
                    #expect((10_000...90_000).contains(changes[2].at.milliseconds(until: changes[3].at)))
                    #expect(maintenance.startedAt == changes[3].at && maintenance.completedAt == changes[4].at)
                    #expect(maintenance.durationSeconds! >= 30)
                }
                base = maintenance.completedAt ?? base
                checked += 1
            }
        }
        #expect(checked > 40 && withoutWindows > 10, "\(checked) maintenances, \(withoutWindows) without windows")
        // The engine adds no side door: every trail entry it made is a tick's, by `platform`.
        let engineActions = try fleet.fixture.database.inspect { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT action FROM audit_trail WHERE actor = 'platform' ORDER BY action")
        }
        #expect(engineActions == ["platform:tick"])
        _ = try fleet.fixture.ledger().verify()
    }

    /// A maintenance required by hand on a plan without a window has no time; the engine's next
    /// tick picks one (a week out, before the deadline) and records the notice.
    /// The engine changes a maintenance as it holds it; if a customer changed it since (here,
    /// moved it a week), the change is refused and nothing is recorded, where recording it would
    /// have given the trail a digest of a row that is not the one stored.
    @Test func aStatusChangeFromAStaleHoldIsRefusedAndChangesNothing() throws {
        let fixture = try LedgerFixture(now: "2023-04-24T09:00:00Z")
        let redis = try fixture.premiumRedis()
        let ledger = fixture.ledger()
        _ = try ledger.requireMaintenance(redis, requiredBy: ts("2023-06-20T00:00:00Z"))
        let addon = try #require(try fixture.database.read { db in try AddonRecord.find(named: redis.name, db) })
        let held = try #require(try fixture.database.read { db in try addon.openMaintenance(db) })
        _ = try ledger.scheduleMaintenance(redis, to: .weeks(1))
        try fixture.expectRefusal(.refused("maintenances row \(held.id) changed while this command was recorded",
                                           hint: "Another command changed it since it was read; run this one again.")) {
            _ = try fixture.ledger(at: "2023-04-24T10:00:00Z").changeStatus(of: held, lastChangedAt: held.createdAt, addon: addon, .prepare)
        }
        // Held as it now stands, the same change is recorded, and the trail still verifies.
        let current = try #require(try fixture.database.read { db in try addon.openMaintenance(db) })
        let prepared = try fixture.ledger(at: "2023-04-24T10:00:00Z").changeStatus(of: current, lastChangedAt: current.createdAt, addon: addon, .prepare)
        #expect(prepared.status == .preparing && prepared.scheduledFor == current.scheduledFor && prepared.scheduledFor != held.scheduledFor)
        #expect(try fixture.database.read { db in try addon.openMaintenance(db) }?.status == .preparing)
        #expect(try fixture.ledger().verify().entryCount == 6)
    }

    @Test func theEngineGivesATimeToAMaintenanceRequiredWithoutOne() throws {
        let fixture = try LedgerFixture(now: "2023-04-24T09:00:00Z")
        let ledger = fixture.ledger()
        try ledger.createApp(named: "example-app")
        _ = try ledger.createAddon(servicePlan: "heroku-kafka:standard-1", app: "example-app", name: "kafka-standard-one")
        let kafka = AddonSelector("kafka-standard-one", app: nil)
        let required = try #require(try ledger.requireMaintenance(kafka, requiredBy: ts("2023-05-20T00:00:00Z"), reason: .hardwareIssue).maintenance)
        #expect(required.scheduledFor == nil && required.method == .rollingRestart)
        #expect(try noticeList(ledger).isEmpty)
        let summary = try MaintenanceEngine(database: fixture.database, settings: EngineSettings(seed: 9, failureRate: 0))
            .tick(until: ts("2023-04-24T12:00:00Z"), now: ts("2023-04-24T12:00:00Z"))
        #expect(summary == TickSummary(scheduled: 1))
        let scheduled = try #require(try ledger.maintenanceInfo(kafka).maintenance)
        let time = try #require(scheduled.scheduledFor)
        #expect(time >= ts("2023-05-01T09:00:00Z") && time < ts("2023-05-02T09:00:00Z") && !scheduled.outsideWindow)
        let notices = try noticeList(ledger)
        #expect(notices.map(\.kind) == ["scheduled"])
        #expect(notices.first?.scheduledFor == time && notices.first?.requiredBy == ts("2023-05-20T00:00:00Z") && notices.first?.window == nil)
        #expect(notices.first?.createdAt == ts("2023-04-24T09:00:00Z") && notices.first?.attachments == #"["KAFKA_URL"]"#)
        // The tick is one entry: the maintenance's new time, who moved it there (the platform,
        // from no time), its notice and the tick itself.
        var last: TrailEntry?
        try ledger.trail(sinceSeq: 0) { last = $0 }
        let entry = try #require(last)
        #expect(entry.actor == "platform" && entry.action == "platform:tick" && entry.recordedAt == "2023-04-24T12:00:00.000Z")
        guard case .array(let changes)? = entry.parsedPayload?["changes"] else {
            Issue.record("the tick's payload should decode")
            return
        }
        #expect(changes.map { [$0["op"], $0["table"]] } == [[.string("update"), .string("maintenances")], [.string("insert"), .string("maintenance_moves")],
                                                          [.string("insert"), .string("notices")], [.string("insert"), .string("engine_ticks")]])
        let moves = try fixture.database.inspect { db in try Row.fetchAll(db, sql: "SELECT moved_from, moved_to, moved_by, cause FROM maintenance_moves") }
        #expect(moves.map { [$0[0] as String?, $0[1], $0[2], $0[3]] } == [[nil, time.storageText, "platform", "platform"]])
    }
}

// MARK: - Idempotence

@Suite struct EngineIdempotenceTests {
    /// A second tick with the same clock changes nothing: no table, no notice, no tick, no entry.
    @Test func aSecondTickWithTheSameClockChangesNothing() throws {
        let fleet = try EngineFleet()
        let settings = EngineSettings(seed: 2, failureRate: 0.1)
        let first = try fleet.tick(to: "2022-04-01T00:00:00Z", settings)
        #expect(first.events > 20 && first.completed > 0)
        let before = try fleet.fixture.snapshot()
        #expect(try fleet.tick(to: "2022-04-01T00:00:00Z", settings) == TickSummary())
        // The same engine again, and a later clock with the same --until: still nothing.
        let engine = try MaintenanceEngine(database: fleet.fixture.database, settings: settings)
        #expect(try engine.tick(until: ts("2022-04-01T00:00:00Z"), now: ts("2022-04-01T00:00:00Z")) == TickSummary())
        #expect(try engine.tick(until: ts("2022-04-01T00:00:00Z"), now: ts("2022-05-01T00:00:00Z")) == TickSummary())
        #expect(try fleet.fixture.snapshot() == before)
        #expect(try engine.lastTick() == ts("2022-04-01T00:00:00Z"))
        // A tick that moves on records itself; once more to the same time, nothing.
        #expect(try engine.tick(until: ts("2022-04-01T00:00:00.001Z"), now: ts("2022-05-01T00:00:00Z")) == TickSummary())
        #expect(try fleet.fixture.count("engine_ticks") == 2)
        let after = try fleet.fixture.snapshot()
        #expect(try fleet.tick(to: "2022-04-01T00:00:00.001Z", settings) == TickSummary())
        #expect(try fleet.fixture.snapshot() == after)
    }

    @Test func ticksIntoTheFutureOrThePastAreRefusedAndChangeNothing() throws {
        let fleet = try EngineFleet()
        try fleet.tick(to: "2022-03-01T00:00:00Z", EngineSettings(seed: 2))
        let engine = try MaintenanceEngine(database: fleet.fixture.database, settings: EngineSettings(seed: 2))
        try fleet.fixture.expectRefusal(.refused("--until 2022-03-02T00:00:00.000+00:00 is in the future (now is 2022-03-01T12:00:00.000+00:00)",
                                                 hint: "The engine records what has happened; tick up to now at the latest.")) {
            _ = try engine.tick(until: ts("2022-03-02T00:00:00Z"), now: ts("2022-03-01T12:00:00Z"))
        }
        try fleet.fixture.expectRefusal(.refused("the engine has already ticked to 2022-03-01T00:00:00.000+00:00; --until 2022-02-28T23:59:59.999+00:00 is in its past",
                                                 hint: "Ticks only move forward.")) {
            _ = try engine.tick(until: ts("2022-02-28T23:59:59.999Z"), now: ts("2022-03-01T12:00:00Z"))
        }
    }

    /// What each add-on's maintenances were: (status, required_by, scheduled_for, started_at, completed_at).
    private static func history(_ fleet: EngineFleet) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for name in EngineFleet.names.dropLast() {
            result[name] = try fleet.maintenances(of: name).map { m in
                [m.status.rawValue, m.requiredBy.storageText, m.scheduledFor?.storageText ?? "-", m.startedAt?.storageText ?? "-",
                 m.completedAt?.storageText ?? "-"].joined(separator: " ")
            }
        }
        return result
    }

    /// Ticking in many small steps or in one big step performs the same maintenances at the same
    /// times: durations and outcomes are seeded per maintenance, not by how the ticks are cut.
    @Test func smallStepsAndOneBigStepGiveTheSameMaintenances() throws {
        let settings = EngineSettings(seed: 4, failureRate: 0.05)
        let whole = try EngineFleet(), steps = try EngineFleet()
        try whole.tick(to: "2023-01-01T00:00:00Z", settings)
        var day = ts("2022-01-03T10:00:00Z")
        while day < ts("2023-01-01T00:00:00Z") {
            day = min(day.adding(days: 9).adding(minutes: 17), ts("2023-01-01T00:00:00Z"))
            try steps.tick(to: day.storageText, settings)
        }
        let one = try Self.history(whole), many = try Self.history(steps)
        #expect(one.values.allSatisfy { $0.count >= 4 })
        for name in one.keys.sorted() {
            #expect(one[name] == many[name], "\(name)")
        }
    }
}
