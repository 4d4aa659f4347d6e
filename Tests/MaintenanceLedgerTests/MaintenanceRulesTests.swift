import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerSimulation
@testable import LedgerStore
@testable import MaintenanceLedger

private func time(_ text: String) -> Timestamp { Timestamp(iso: text)! }

@Suite struct SchedulingTests {
    let friday = WeeklyWindow(dayOfWeek: 5, startMinute: 18 * 60)

    @Test func takesTheFirstWindowStartBeforeTheDeadline() {
        let slot = MaintenanceSlot(window: friday, from: time("2023-04-24T09:00:00Z"), requiredBy: time("2023-05-03T08:54:02.518Z"))
        #expect(slot == MaintenanceSlot(window: friday, from: time("2023-04-28T18:00:00Z"), requiredBy: time("2023-05-03T08:54:02.518Z")))
        #expect(slot.scheduledFor == time("2023-04-28T18:00:00Z") && !slot.outsideWindow)
    }

    @Test func withNoWindowBeforeTheDeadlineTakesTheLatestSlotThatEndsInTimeFlagged() {
        let slot = MaintenanceSlot(window: friday, from: time("2023-04-29T09:00:00Z"), requiredBy: time("2023-05-03T08:54:02.518Z"))
        #expect(slot.scheduledFor == time("2023-05-03T04:54:02.518Z") && slot.outsideWindow)
        let urgent = MaintenanceSlot(window: friday, from: time("2023-05-03T07:00:00Z"), requiredBy: time("2023-05-03T08:54:02.518Z"))
        #expect(urgent.scheduledFor == time("2023-05-03T07:00:00Z") && urgent.outsideWindow)
    }

    @Test func plansWithoutWindowsLeaveTheTimeToThePlatform() {
        let slot = MaintenanceSlot(window: nil, from: time("2023-04-29T09:00:00Z"), requiredBy: time("2023-05-03T00:00:00Z"))
        #expect(slot.scheduledFor == nil && !slot.outsideWindow)
    }
}

@Suite struct MaintenanceCommandTests {
    let fixture: LedgerFixture
    let addon: AddonSelector
    let deadline = time("2023-05-03T08:54:02.518Z")

    init() throws {
        fixture = try LedgerFixture(now: "2022-12-26T08:30:37.872Z")
        addon = try fixture.premiumRedis()
    }

    private func require(at: String = "2023-04-24T09:00:00Z") throws -> MaintenanceRecord {
        try #require(try fixture.ledger(at: at).requireMaintenance(addon, requiredBy: deadline).maintenance)
    }

    private func statuses() throws -> [String] {
        try fixture.database.inspect { db in
            try String.fetchAll(db, sql: "SELECT coalesce(from_status, '-') || '>' || to_status FROM maintenance_status_changes ORDER BY id")
        }
    }

    @Test func followsTheLifecycleAndRecordsEveryStatusWithItsTime() throws {
        #expect(try require().scheduledFor == time("2023-04-28T18:00:00Z"))
        let ledger = fixture.ledger(at: "2023-04-28T18:10:00Z")
        for (change, at) in [(StatusChange.prepare, "2023-04-28T17:55:00Z"), (.ready, "2023-04-28T17:59:00Z"),
                             (.start, "2023-04-28T18:01:14.191Z"), (.complete, "2023-04-28T18:04:21.141Z")] {
            _ = try ledger.changeStatus(addon, change, at: time(at))
        }
        let info = try ledger.maintenanceInfo(addon)
        #expect(info.maintenance?.status == .completed)
        #expect(info.maintenance?.durationSeconds == 186)
        #expect(try statuses() == ["->pending", "pending>preparing", "preparing>ready", "ready>running", "running>completed"])
        #expect(try ledger.verify().entryCount == 8) // app, add-on, window, require and four status changes
    }

    @Test(arguments: [
        ([StatusChange](), StatusChange.complete, "pending"), ([], .fail, "pending"), ([], .ready, "pending"),
        ([.prepare], .prepare, "preparing"), ([.start], .prepare, "running"), ([.start], .cancel, "running"),
        ([.start], .start, "running"),
    ])
    func refusesTransitionsTheLifecycleForbids(before: [StatusChange], change: StatusChange, current: String) throws {
        _ = try require()
        let ledger = fixture.ledger(at: "2023-04-28T18:00:00Z")
        for step in before { _ = try ledger.changeStatus(addon, step) }
        let allowed = Ledger.listing(change.allowedFrom.map(\.rawValue))
        try fixture.expectRefusal(.refused("cannot \(change.rawValue) the maintenance of redis-lively-12345: it is \(current)",
                                           hint: "\(change.rawValue) applies to a maintenance that is \(allowed).")) {
            _ = try ledger.changeStatus(addon, change)
        }
    }

    @Test func refusesChangesWithNothingOpenAndEventsOutOfOrder() throws {
        let ledger = fixture.ledger(at: "2023-04-28T18:00:00Z")
        try fixture.expectRefusal(.refused("redis-lively-12345 has no open maintenance to start",
                                           hint: "Record one with `maintledger platform:maintenances:require redis-lively-12345 --required-by TIME`.")) {
            _ = try ledger.changeStatus(addon, .start)
        }
        _ = try require()
        try fixture.expectRefusal(.refused("--at 2023-04-20T00:00:00.000+00:00 is before its last status change at 2023-04-24T09:00:00.000+00:00",
                                           hint: "Events are recorded in time order.")) {
            _ = try ledger.changeStatus(addon, .start, at: time("2023-04-20T00:00:00Z"))
        }
        try fixture.expectRefusal(.refused("--at 2023-04-29T00:00:00.000+00:00 is in the future (now is 2023-04-28T18:00:00.000+00:00)",
                                                hint: "Record events once they have happened.")) {
            _ = try ledger.changeStatus(addon, .start, at: time("2023-04-29T00:00:00Z"))
        }
        try fixture.expectRefusal(.refused("redis-lively-12345 already has a pending maintenance (required by 2023-05-03 08:54:02 +0000)",
                                           hint: "Complete, fail or cancel it first; an add-on has one open maintenance at a time.")) {
            _ = try require(at: "2023-04-25T00:00:00Z")
        }
    }

    @Test func aFailedMaintenanceMakesRoomForANewOne() throws {
        _ = try require()
        let ledger = fixture.ledger(at: "2023-04-28T18:30:00Z")
        _ = try ledger.changeStatus(addon, .start, at: time("2023-04-28T18:00:00Z"))
        _ = try ledger.changeStatus(addon, .fail)
        let next = try #require(try ledger.requireMaintenance(addon, requiredBy: deadline).maintenance)
        // The Friday window is gone for this deadline: the latest slot ending by it, flagged.
        #expect(next.scheduledFor == time("2023-05-03T04:54:02.518Z") && next.outsideWindow)
    }

    @Test func emergenciesAreScheduledAtOnceAndFlaggedOutsideTheWindow() throws {
        let record = try #require(try fixture.ledger(at: "2023-04-24T09:00:00Z")
            .requireMaintenance(addon, requiredBy: deadline, reason: .hardwareIssue, emergency: true).maintenance)
        #expect(record.scheduledFor == time("2023-04-24T09:00:00Z") && record.outsideWindow && record.emergency)
    }

    @Test func movingTheWindowMovesThePendingMaintenanceAndKeepsTheOldTime() throws {
        _ = try require()
        let change = try fixture.ledger(at: "2023-04-25T00:00:00Z").updateWindow(addon, day: "Sundays", time: "2:30PM")
        #expect(change.json.compactText == #"{"previous_window":"Fridays 18:00 to 22:00 UTC","previously_scheduled_at":"2023-04-28T18:00:00.000+00:00","scheduled_at":"2023-04-30T14:30:00.000+00:00","window":"Sundays 14:30 to 18:30 UTC"}"#)
        let info = try fixture.ledger().maintenanceInfo(addon)
        #expect(info.infoFields.first { $0.0 == "previously_scheduled_for" }?.1 == "2023-04-28T18:00:00.000+00:00")
        #expect(info.maintenance?.window == "Sundays 14:30 to 18:30 UTC")
        let windows = try fixture.count("windows")
        #expect(windows == 3, "the default, the Friday and the Sunday windows are all kept")
    }

    @Test func schedulingMovesByWholeWeeksOnTheWindowAndNeverPastTheDeadline() throws {
        let ledger = fixture.ledger(at: "2023-04-10T00:00:00Z")
        _ = try ledger.requireMaintenance(addon, requiredBy: deadline)
        #expect(try ledger.maintenanceInfo(addon).maintenance?.scheduledFor == time("2023-04-14T18:00:00Z"))
        let moved = try ledger.scheduleMaintenance(addon, to: .weeks(2))
        #expect(moved.previous == time("2023-04-14T18:00:00Z") && moved.scheduledFor == time("2023-04-28T18:00:00Z"))
        #expect(try ledger.scheduleMaintenance(addon, to: .weeks(-1)).scheduledFor == time("2023-04-21T18:00:00Z"))
        #expect(try ledger.scheduleMaintenance(addon, to: .week(time("2023-04-24"))).scheduledFor == time("2023-04-28T18:00:00Z"))
        try fixture.expectRefusal(.refused("2023-05-05 18:00:00 +0000 is not before the maintenance's required-by time 2023-05-03 08:54:02 +0000",
                                           hint: "Choose an earlier week.")) {
            _ = try ledger.scheduleMaintenance(addon, to: .weeks(1))
        }
        try fixture.expectRefusal(.refused("2023-04-07 18:00:00 +0000 is in the past", hint: "Choose a later week.")) {
            _ = try ledger.scheduleMaintenance(addon, to: .weeks(-3))
        }
    }

    @Test func manualRunsNeedMaintenanceModeOrConfirmation() throws {
        let ledger = fixture.ledger(at: "2023-04-20T12:00:00Z")
        try fixture.expectRefusal(.unconfirmedRun(app: "example-app")) { _ = try ledger.runMaintenance(addon, confirm: nil) }
        try fixture.expectRefusal(.unconfirmedRun(app: "example-app")) { _ = try ledger.runMaintenance(addon, confirm: "other-app") }
        let run = try ledger.runMaintenance(addon, confirm: "example-app")
        #expect(run.maintenance?.reason == .customerRequest && run.maintenance?.status == .running)
        #expect(run.maintenance?.startedAt == time("2023-04-20T12:00:00Z") && run.maintenance?.customerRequested == true)
        _ = try fixture.ledger(at: "2023-04-20T12:03:00Z").changeStatus(addon, .complete)

        // In maintenance mode no confirmation is needed, and the pending maintenance is the one started.
        let pending = try require(at: "2023-04-24T09:00:00Z")
        try fixture.ledger().setMaintenanceMode(app: "example-app", on: true)
        let started = try fixture.ledger(at: "2023-04-25T08:00:00Z").runMaintenance(AddonSelector("REDIS_URL", app: "example-app"), confirm: nil)
        #expect(started.maintenance?.uuid == pending.uuid && started.maintenance?.reason == .routineMaintenance)
        #expect(started.maintenance?.status == .running && started.maintenance?.outsideWindow == false)
    }

    @Test(arguments: [("heroku-redis:mini", "heroku-redis"), ("heroku-postgresql:essential-0", "heroku-postgresql"), ("heroku-kafka:standard-0", "heroku-kafka")])
    func plansWithoutWindowsRefuseCustomerControls(servicePlan: String, service: String) throws {
        let ledger = fixture.ledger()
        let created = try ledger.createAddon(servicePlan: servicePlan, app: "example-app", name: "small-one")
        #expect(created.window == nil)
        let plan = servicePlan.split(separator: ":")[1]
        let hint = service == "heroku-kafka"
            ? "Kafka plans have no maintenance windows; the platform schedules their maintenance."
            : "Windows and manual runs exist on Premium, Private and Shield plans (and Postgres Standard)."
        let selector = AddonSelector("small-one", app: nil)
        try fixture.expectRefusal(.refused("cannot set a maintenance window on small-one: its \(service):\(plan) plan has no maintenance window", hint: hint)) {
            _ = try ledger.updateWindow(selector, day: "sunday", time: "10:00")
        }
        try fixture.expectRefusal(.refused("cannot run maintenance manually on small-one: its \(service):\(plan) plan has no maintenance window", hint: hint)) {
            _ = try ledger.runMaintenance(selector, confirm: "example-app")
        }
        // The platform still records maintenance for them; the time is its own to pick.
        let required = try ledger.requireMaintenance(selector, requiredBy: time("2023-01-30T00:00:00Z"))
        #expect(required.status == "pending" && required.maintenance?.scheduledFor == nil)
    }
}

@Suite struct InventoryTests {
    @Test func defaultWindowsAreWeekdayEveningsOnTheHalfHour() throws {
        let fixture = try LedgerFixture()
        let ledger = fixture.ledger()
        for index in 0..<40 {
            if index % 10 == 0 { try ledger.createApp(named: "fleet-\(index)") }
            let window = try #require(try ledger.createAddon(servicePlan: "heroku-redis:premium-0", app: "fleet-\(index / 10 * 10)").window)
            #expect((1...5).contains(window.dayOfWeek))
            #expect((18 * 60...23 * 60).contains(window.startMinute) && window.startMinute % 30 == 0)
        }
    }

    @Test func namesAttachmentsLikeHeroku() throws {
        let fixture = try LedgerFixture()
        let ledger = fixture.ledger()
        try ledger.createApp(named: "example-app")
        let first = try ledger.createAddon(servicePlan: "heroku-redis:premium-0", app: "example-app")
        let second = try ledger.createAddon(servicePlan: "heroku-redis:premium-0", app: "example-app")
        let database = try ledger.createAddon(servicePlan: "heroku-postgresql:standard-0", app: "example-app", attachmentName: nil)
        #expect([first.attachment, second.attachment, database.attachment] == ["REDIS_URL", "HEROKU_REDIS_AMBER_URL", "DATABASE_URL"])
        #expect(first.name.hasPrefix("redis-") && database.name.hasPrefix("postgresql-"))
        try ledger.createApp(named: "other-app")
        #expect(try ledger.attachAddon(first.name, to: "other-app", as: "CACHE") == "CACHE_URL")
        #expect(try ledger.maintenanceInfo(AddonSelector("CACHE", app: "other-app")).addon.name == first.name)
    }

    @Test func destroyingKeepsHistoryAndCancelsWhatHasNotStarted() throws {
        let fixture = try LedgerFixture()
        let addon = try fixture.premiumRedis()
        let ledger = fixture.ledger()
        _ = try ledger.requireMaintenance(addon, requiredBy: time("2023-02-01T00:00:00Z"))
        try fixture.expectRefusal(.refused("This destroys redis-lively-12345 on example-app; to proceed, re-run with --confirm example-app", hint: nil)) {
            _ = try ledger.destroyAddon(AddonSelector("REDIS_URL", app: "example-app"), confirm: "nope")
        }
        _ = try ledger.destroyAddon(AddonSelector("REDIS_URL", app: "example-app"), confirm: "example-app")
        let info = try ledger.maintenanceInfo(addon)
        #expect(info.maintenance?.status == .cancelled && !info.addon.isLive && info.attachments.isEmpty)
        try fixture.expectRefusal(.refused("redis-lively-12345 was destroyed at 2023-01-02 10:00:00 +0000",
                                           hint: "Its history stays readable; nothing new can be recorded for it.")) {
            _ = try ledger.requireMaintenance(addon, requiredBy: time("2023-03-01T00:00:00Z"))
        }
        #expect(try ledger.verify().entryCount == 5)
    }

    @Test func settingTheModeItAlreadyHasRecordsNothing() throws {
        let fixture = try LedgerFixture()
        let ledger = fixture.ledger()
        try ledger.createApp(named: "example-app")
        try ledger.setMaintenanceMode(app: "example-app", on: false)
        #expect(try fixture.count("audit_trail") == 1)
        try ledger.setMaintenanceMode(app: "example-app", on: true)
        #expect(try fixture.count("audit_trail") == 2 && ledger.maintenanceMode(app: "example-app"))
    }
}
