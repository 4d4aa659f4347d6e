import Testing

/// Refusals of the customer and platform maintenance commands: exact stderr, exit code, empty
/// stdout, and tables and trail exactly as before.
@Suite struct MaintenanceRefusalTests {
    static let noWindowHint = "Windows and manual runs exist on Premium, Private and Shield plans (and Postgres Standard).\n"
    static let kafkaHint = "Kafka plans have no maintenance windows; the platform schedules their maintenance.\n"
    static let plans = ["heroku-redis:mini", "heroku-postgresql:essential-0", "heroku-kafka:basic-0"]

    // MARK: data:maintenances:window:update

    @Test func windowUpdateRefusesWhatIsNotADay() throws {
        let sandbox = try Fixture.exampleApp()
        for day in ["funday", "s", "18:00"] {
            try sandbox.expectRefusal(["data:maintenances:window:update", "REDIS_URL", day, "18:00", "-a", "example-app"],
                                      stderr: "Error: '\(day)' is not a day of the week\nWrite a day like Sunday or sundays.\n", exitCode: 64)
        }
    }

    @Test func windowUpdateRefusesWhatIsNotAWindowStart() throws {
        let sandbox = try Fixture.exampleApp()
        for time in ["14:15", "25:00", "13:00PM", "0:30AM", "1800", "18:00:00"] {
            try sandbox.expectRefusal(["data:maintenances:window:update", "REDIS_URL", "sunday", time, "-a", "example-app"],
                                      stderr: "Error: '\(time)' is not a window start time\nWrite the time in UTC as HH:MM or H:MMAM/PM, where MM is 00 or 30 (14:30, 2:30PM).\n",
                                      exitCode: 64)
        }
    }

    /// Windows, manual runs and rescheduling exist only on plans with windows.
    @Test func plansWithoutWindowsRefuseWindowsRunsAndScheduling() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        for (addon, plan) in zip(Fixture.addonsWithoutWindows, Self.plans) {
            let commands: [(String, [String])] = [
                ("set a maintenance window", ["data:maintenances:window:update", addon, "sunday", "14:00"]),
                ("run maintenance manually", ["data:maintenances:run", addon, "--confirm", "example-app"]),
                ("schedule maintenance", ["data:maintenances:schedule", addon, "--weeks", "1"]),
                ("show a maintenance window", ["data:maintenances:window", addon]),
            ]
            let hint = plan.hasPrefix("heroku-kafka") ? Self.kafkaHint : Self.noWindowHint
            for (what, arguments) in commands {
                let error = "Error: cannot \(what) on \(addon): its \(plan) plan has no maintenance window\n"
                try sandbox.expectRefusal(arguments, stderr: error + hint)
            }
        }
    }

    // MARK: data:maintenances:run

    static let unconfirmedRun = "Warning: Application is not in maintenance mode.\nError: To proceed, put the application into maintenance mode or re-run the command with --confirm example-app\n"

    @Test func runOutsideMaintenanceModeNeedsConfirmation() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.expectRefusal(["data:maintenances:run", "REDIS_URL", "-a", "example-app"], stderr: Self.unconfirmedRun)
        try sandbox.expectRefusal(["data:maintenances:run", "REDIS_URL", "-a", "example-app", "--confirm", "other-app"], stderr: Self.unconfirmedRun)
        try sandbox.expectRefusal(["data:maintenances:run", "redis-lively-12345", "-c", "Example-App"], stderr: Self.unconfirmedRun)
        // Leaving maintenance mode again takes the permission away.
        try sandbox.ok(["maintenance:on", "-a", "example-app"])
        try sandbox.ok(["maintenance:off", "-a", "example-app"])
        try sandbox.expectRefusal(["data:maintenances:run", "REDIS_URL", "-a", "example-app"], stderr: Self.unconfirmedRun)
    }

    @Test func runRefusesWhileAMaintenanceIsRunning() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["data:maintenances:run", "REDIS_URL", "-a", "example-app", "--confirm", "example-app"])
        try sandbox.expectRefusal(["data:maintenances:run", "REDIS_URL", "-a", "example-app", "--confirm", "example-app"],
                                  stderr: "Error: the maintenance of redis-lively-12345 is already running\nWait for it with `maintledger data:maintenances:wait redis-lively-12345`.\n")
    }

    // MARK: data:maintenances:schedule

    @Test func scheduleNeverMovesPastRequiredByNorIntoThePast() throws {
        let sandbox = try Fixture.pendingMaintenance() // scheduled for Friday 2023-04-28 18:00, required by 2023-05-03
        let schedule = ["data:maintenances:schedule", "REDIS_URL", "-a", "example-app"]
        try sandbox.expectRefusal(schedule,
                                  stderr: "Error: 2023-05-12 18:00:00 +0000 is not before the maintenance's required-by time 2023-05-03 08:54:02 +0000\nChoose an earlier week.\n")
        try sandbox.expectRefusal(schedule + ["--weeks", "1"],
                                  stderr: "Error: 2023-05-05 18:00:00 +0000 is not before the maintenance's required-by time 2023-05-03 08:54:02 +0000\nChoose an earlier week.\n")
        try sandbox.expectRefusal(schedule + ["--week", "2023-05-01"],
                                  stderr: "Error: 2023-05-05 18:00:00 +0000 is not before the maintenance's required-by time 2023-05-03 08:54:02 +0000\nChoose an earlier week.\n")
        try sandbox.expectRefusal(schedule + ["--weeks", "-1"], stderr: "Error: 2023-04-21 18:00:00 +0000 is in the past\nChoose a later week.\n")
        try sandbox.expectRefusal(schedule + ["--week", "2023-04-01"], stderr: "Error: 2023-04-07 18:00:00 +0000 is in the past\nChoose a later week.\n")
    }

    @Test func scheduleNeedsAPendingMaintenance() throws {
        let sandbox = try Fixture.exampleApp()
        let schedule = ["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--weeks", "1"]
        try sandbox.expectRefusal(schedule, stderr: "Error: redis-lively-12345 has no pending maintenance to schedule\n")
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-06-01T00:00:00Z"])
        try sandbox.ok(["platform:maintenances:prepare", "REDIS_URL", "-a", "example-app"])
        try sandbox.expectRefusal(schedule, stderr: "Error: cannot reschedule the maintenance of redis-lively-12345: it is preparing\n")
    }

    @Test func scheduleByZeroWeeksIsAUsageError() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.expectRefusal(["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--weeks", "0"],
                                  stderr: "Error: --weeks 0 moves nothing\nGive a non-zero number of weeks, negative to move earlier.\n", exitCode: 64)
    }

    @Test func scheduleTakesWeeksOrWeekNotBoth() throws {
        let sandbox = try Fixture.pendingMaintenance()
        let schedule = ["data:maintenances:schedule", "REDIS_URL", "-a", "example-app"]
        try sandbox.expectUsageError(schedule + ["--weeks", "1", "--week", "2023-05-01"])
        try sandbox.expectUsageError(schedule + ["--week", "2023-5-1"])
        try sandbox.expectUsageError(schedule + ["--week", "next week"])
    }

    // MARK: platform:maintenances:require

    @Test func requireRefusesASecondOpenMaintenance() throws {
        let sandbox = try Fixture.pendingMaintenance()
        let require = ["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-06-01T00:00:00Z"]
        try sandbox.expectRefusal(require,
                                  stderr: "Error: redis-lively-12345 already has a pending maintenance (required by 2023-05-03 08:54:02 +0000)\nComplete, fail or cancel it first; an add-on has one open maintenance at a time.\n")
        try sandbox.ok(["platform:maintenances:start", "REDIS_URL", "-a", "example-app"])
        try sandbox.expectRefusal(require,
                                  stderr: "Error: redis-lively-12345 already has a running maintenance (required by 2023-05-03 08:54:02 +0000)\nComplete, fail or cancel it first; an add-on has one open maintenance at a time.\n")
    }

    @Test func requireRefusesADeadlineNotAfterTheRequirement() throws {
        let sandbox = try Fixture.exampleApp()
        let require = ["platform:maintenances:require", "REDIS_URL", "-a", "example-app"]
        try sandbox.expectRefusal(require + ["--required-by", "2023-04-20T00:00:00Z", "--at", "2023-04-21T00:00:00Z"],
                                   stderr: "Error: --required-by 2023-04-20T00:00:00.000+00:00 is not after 2023-04-21T00:00:00.000+00:00\nA maintenance is required by a time still ahead.\n")
        try sandbox.expectRefusal(require + ["--required-by", "2023-04-24T09:00:00Z"],
                                   stderr: "Error: --required-by 2023-04-24T09:00:00.000+00:00 is not after 2023-04-24T09:00:00.000+00:00\nA maintenance is required by a time still ahead.\n")
    }

    @Test func requireRefusesATimeInTheFuture() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-06-01T00:00:00Z",
                                    "--at", "2023-04-25T00:00:00Z"],
                                   stderr: "Error: --at 2023-04-25T00:00:00.000+00:00 is in the future (now is 2023-04-24T09:00:00.000+00:00)\nRecord events once they have happened.\n")
    }

    // MARK: platform status changes

    static let changes = ["prepare", "ready", "start", "complete", "fail", "cancel"]
    /// The rules: pending → preparing → ready → running → completed | failed; start from
    /// pending, preparing or ready; cancel from any state before running.
    static let allowedFrom: [String: String] = [
        "prepare": "pending", "ready": "preparing", "start": "pending, preparing or ready",
        "complete": "running", "fail": "running", "cancel": "pending, preparing or ready",
    ]

    static func change(_ change: String, at: String? = nil) -> [String] {
        ["platform:maintenances:\(change)", "REDIS_URL", "-a", "example-app"] + (at.map { ["--at", $0] } ?? [])
    }

    /// Walks one maintenance through every open status and tries every change that status
    /// does not allow: each is refused naming the current status.
    @Test func everyInvalidStatusTransitionIsRefusedNamingTheCurrentStatus() throws {
        let sandbox = try Fixture.exampleApp()
        func expectNoOpenMaintenance(latest: String?) throws {
            for change in Self.changes {
                try sandbox.expectRefusal(Self.change(change),
                                          stderr: "Error: redis-lively-12345 has no open maintenance to \(change)" + (latest.map { " (the latest is \($0))" } ?? "")
                                              + "\nRecord one with `maintledger platform:maintenances:require redis-lively-12345 --required-by TIME`.\n")
            }
        }
        func expectOnly(_ allowed: Set<String>, whileStatusIs status: String) throws {
            for change in Self.changes where !allowed.contains(change) {
                try sandbox.expectRefusal(Self.change(change),
                                          stderr: "Error: cannot \(change) the maintenance of redis-lively-12345: it is \(status)\n\(change) applies to a maintenance that is \(Self.allowedFrom[change]!).\n")
            }
        }
        try expectNoOpenMaintenance(latest: nil)
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", Fixture.requiredBy])
        try expectOnly(["prepare", "start", "cancel"], whileStatusIs: "pending")
        try sandbox.ok(Self.change("prepare"))
        try expectOnly(["ready", "start", "cancel"], whileStatusIs: "preparing")
        try sandbox.ok(Self.change("ready"))
        try expectOnly(["start", "cancel"], whileStatusIs: "ready")
        try sandbox.ok(Self.change("start"))
        try expectOnly(["complete", "fail"], whileStatusIs: "running")
        try sandbox.ok(Self.change("complete"))
        try expectNoOpenMaintenance(latest: "completed")
        try sandbox.expectVerifies()
    }

    @Test func cancelledAndFailedMaintenancesTakeNoFurtherChange() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.ok(Self.change("cancel"))
        try sandbox.expectRefusal(Self.change("start"),
                                  stderr: "Error: redis-lively-12345 has no open maintenance to start (the latest is cancelled)\nRecord one with `maintledger platform:maintenances:require redis-lively-12345 --required-by TIME`.\n")
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", Fixture.requiredBy])
        try sandbox.ok(Self.change("start"))
        try sandbox.ok(Self.change("fail"))
        try sandbox.expectRefusal(Self.change("complete"),
                                  stderr: "Error: redis-lively-12345 has no open maintenance to complete (the latest is failed)\nRecord one with `maintledger platform:maintenances:require redis-lively-12345 --required-by TIME`.\n")
    }

    @Test func statusChangesAreRecordedInTimeOrderAndNotAhead() throws {
        let sandbox = try Fixture.pendingMaintenance() // required at 2023-04-24 09:00
        sandbox.now = "2023-04-24T12:00:00Z"
        try sandbox.expectRefusal(Self.change("prepare", at: "2023-04-24T08:59:59.999Z"),
                                  stderr: "Error: --at 2023-04-24T08:59:59.999+00:00 is before its last status change at 2023-04-24T09:00:00.000+00:00\nEvents are recorded in time order.\n")
        try sandbox.ok(Self.change("start", at: "2023-04-24T10:00:00Z"))
        try sandbox.expectRefusal(Self.change("complete", at: "2023-04-24T09:30:00Z"),
                                  stderr: "Error: --at 2023-04-24T09:30:00.000+00:00 is before its last status change at 2023-04-24T10:00:00.000+00:00\nEvents are recorded in time order.\n")
        try sandbox.expectRefusal(Self.change("complete", at: "2023-04-24T12:00:00.001Z"),
                                   stderr: "Error: --at 2023-04-24T12:00:00.001+00:00 is in the future (now is 2023-04-24T12:00:00.000+00:00)\nRecord events once they have happened.\n")
        try sandbox.ok(Self.change("complete", at: "2023-04-24T10:03:06.999Z"))
        let info = try sandbox.infoJSON("redis-lively-12345")
        #expect(info["started_at"] as? String == "2023-04-24T10:00:00.000+00:00")
        #expect(info["completed_at"] as? String == "2023-04-24T10:03:06.999+00:00")
        #expect(info["duration_seconds"] as? Int == 186)
    }
}
