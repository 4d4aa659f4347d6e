import Foundation
import Testing

/// The maintenance commands users know, succeeding, with their exact output.
@Suite struct MaintenanceFlowTests {
    static let app = LedgerSandbox.exampleApp

    /// The info block of the fixture's redis-lively-12345 with these maintenance values: keys
    /// sorted, values one column after the longest key and its colon, as in the seed's block.
    static func infoBlock(_ fields: [(String, String)]) -> String {
        let all = [("addon_attachments", "REDIS_URL"), ("addon_description", "premium HA"), ("addon_kind", "heroku-redis"),
                   ("addon_name", "redis-lively-12345"), ("addon_plan", "premium-0"), ("addon_window", "Fridays 18:00 to 22:00 UTC"),
                   ("app_name", "example-app"), ("method", "failover"), ("server_created_at", "2022-12-26T08:30:37.872+00:00"),
                   ("window", "Fridays 18:00 to 22:00 UTC")].filter { key, _ in !fields.contains { $0.0 == key } } + fields
        let width = all.map(\.0.count).max()! + 2
        return all.sorted { $0.0 < $1.0 }
            .map { key, value in (key + ":").padding(toLength: width, withPad: " ", startingAt: 0) + value + "\n" }
            .joined()
    }

    // MARK: data:maintenances:run, as the seed article does it

    @Test func runInMaintenanceModeStartsACustomerRequestedMaintenance() throws {
        let sandbox = try Fixture.exampleApp()
        #expect(try sandbox.run(["maintenance:on"] + Self.app)
                == RunResult(stdout: "", stderr: "Enabling maintenance mode for ⬢ example-app... done\n", exitCode: 0))
        #expect(try sandbox.run(["data:maintenances:run", "REDIS_URL"] + Self.app, now: "2023-04-24T09:30:00Z")
                == RunResult(stdout: "", stderr: "Starting maintenance for redis-lively-12345... done\n", exitCode: 0))
        #expect(try sandbox.run(["maintenance:off"] + Self.app)
                == RunResult(stdout: "", stderr: "Disabling maintenance mode for ⬢ example-app... done\n", exitCode: 0))
        #expect(try sandbox.run(["data:maintenances:info", "REDIS_URL"] + Self.app).stdout == Self.infoBlock([
            ("reason", "customer_request"), ("required_by", "2023-04-24T09:30:00.000+00:00"),
            ("scheduled_for", "2023-04-24T09:30:00.000+00:00"), ("started_at", "2023-04-24T09:30:00.000+00:00"), ("status", "running"),
        ]))
        let json = try sandbox.infoJSON("redis-lively-12345")
        #expect(json["customer_requested"] as? Bool == true)
        #expect(try sandbox.trailEntries().suffix(3).map { $0["action"] as? String }
                == ["maintenance:on", "data:maintenances:run", "maintenance:off"])
        try sandbox.expectVerifies()
    }

    @Test func runWithConfirmStartsThePendingMaintenanceInstead() throws {
        let sandbox = try Fixture.pendingMaintenance()
        #expect(try sandbox.run(["data:maintenances:run", "REDIS_URL", "-a", "example-app", "--confirm", "example-app"], now: "2023-04-25T07:30:00Z")
                == RunResult(stdout: "", stderr: "Starting maintenance for redis-lively-12345... done\n", exitCode: 0))
        #expect(try sandbox.run(["data:maintenances:info", "REDIS_URL"] + Self.app).stdout == Self.infoBlock([
            ("reason", "routine_maintenance"), ("required_by", "2023-05-03T08:54:02.518+00:00"),
            ("scheduled_for", "2023-04-28T18:00:00.000+00:00"), ("started_at", "2023-04-25T07:30:00.000+00:00"), ("status", "running"),
        ]))
        // Still one maintenance: the pending one was started, no second one recorded.
        #expect(try sandbox.run(["data:maintenances:history", "REDIS_URL", "--csv"] + Self.app).stdout == """
            Scheduled for,Started at,Completed at,Duration (seconds),Reason,Status,Window\r
            2023-04-28T18:00:00.000+00:00,2023-04-25T07:30:00.000+00:00,,,routine_maintenance,running,Fridays 18:00 to 22:00 UTC\r

            """)
        #expect(try sandbox.infoJSON("redis-lively-12345")["customer_requested"] as? Bool == true)
        // That entry records the maintenance twice (started, then customer-requested): the
        // second image is the row as stored.
        let entries = try sandbox.expectVerifies()
        #expect(entries == 5)
        try sandbox.ok(["platform:maintenances:complete", "REDIS_URL"] + Self.app, now: "2023-04-25T07:34:00.999Z")
        #expect(try sandbox.run(["data:maintenances:info", "REDIS_URL"] + Self.app).stdout == """
            addon_attachments:    REDIS_URL
            addon_description:    premium HA
            addon_kind:           heroku-redis
            addon_name:           redis-lively-12345
            addon_plan:           premium-0
            addon_window:         Fridays 18:00 to 22:00 UTC
            app_name:             example-app
            completed_at:         2023-04-25T07:34:00.999+00:00
            duration_approximate: ~ 4 minutes
            duration_seconds:     240
            method:               failover
            reason:               routine_maintenance
            required_by:          2023-05-03T08:54:02.518+00:00
            scheduled_for:        2023-04-28T18:00:00.000+00:00
            server_created_at:    2022-12-26T08:30:37.872+00:00
            started_at:           2023-04-25T07:30:00.000+00:00
            status:               completed
            window:               Fridays 18:00 to 22:00 UTC

            """)
        try sandbox.expectVerifies()
    }

    @Test func postgresRunsUseChangeover() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["addons:create", "heroku-postgresql:standard-0", "-a", "example-app", "--name", "postgresql-std-44444"])
        try sandbox.ok(["data:maintenances:run", "DATABASE_URL", "-a", "example-app", "--confirm", "example-app"])
        let json = try sandbox.infoJSON("postgresql-std-44444")
        #expect(json["method"] as? String == "changeover")
        #expect(json["reason"] as? String == "customer_request")
        #expect(json["status"] as? String == "running")
    }

    // MARK: window and schedule

    @Test func windowUpdateMovesThePendingMaintenanceIntoTheNewWindow() throws {
        let sandbox = try Fixture.pendingMaintenance() // scheduled for Friday 2023-04-28 18:00; now Monday 09:00
        #expect(try sandbox.run(["data:maintenances:window:update", "REDIS_URL", "mondays", "8:00PM"] + Self.app) == RunResult(stdout: """
            previous_window:         Fridays 18:00 to 22:00 UTC
            previously_scheduled_at: 2023-04-28T18:00:00.000+00:00
            scheduled_at:            2023-04-24T20:00:00.000+00:00
            window:                  Mondays 20:00 to Tuesdays 00:00 UTC

            """, stderr: "", exitCode: 0))
        let info = try sandbox.run(["data:maintenances:info", "REDIS_URL"] + Self.app).stdout
        #expect(info.contains("previously_scheduled_for: 2023-04-28T18:00:00.000+00:00\n"), "\(info)")
        #expect(info.contains("scheduled_for:            2023-04-24T20:00:00.000+00:00\n"), "\(info)")
        #expect(info.contains("window:                   Mondays 20:00 to Tuesdays 00:00 UTC\n"), "\(info)")
        #expect(try sandbox.run(["data:maintenances:window", "REDIS_URL", "--json"] + Self.app).stdout == """
            {
              "previous_window": "Fridays 18:00 to 22:00 UTC",
              "previously_scheduled_at": "2023-04-28T18:00:00.000+00:00",
              "scheduled_at": "2023-04-24T20:00:00.000+00:00",
              "window": "Mondays 20:00 to Tuesdays 00:00 UTC"
            }

            """)
        try sandbox.expectVerifies()
    }

    @Test func windowShowsTheCurrentAndPreviousWindowWithNoMaintenancePending() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "Sunday", "14:30"] + Self.app)
        #expect(try sandbox.run(["data:maintenances:window", "REDIS_URL"] + Self.app) == RunResult(stdout: """
            previous_window: Fridays 18:00 to 22:00 UTC
            window:          Sundays 14:30 to 18:30 UTC

            """, stderr: "", exitCode: 0))
        #expect(try sandbox.run(["data:maintenances:window", "redis-lively-12345", "--json"]).stdout == """
            {
              "previous_window": "Fridays 18:00 to 22:00 UTC",
              "previously_scheduled_at": null,
              "scheduled_at": null,
              "window": "Sundays 14:30 to 18:30 UTC"
            }

            """)
    }

    @Test func windowUpdateAcceptsTheSpellingsCustomersType() throws {
        let sandbox = try Fixture.exampleApp()
        let spellings: [(String, String, String)] = [
            ("Sunday", "14:30", "Sundays 14:30 to 18:30 UTC"), ("sundays", "2:30PM", "Sundays 14:30 to 18:30 UTC"),
            ("SATURDAY", "12:00AM", "Saturdays 00:00 to 04:00 UTC"), ("thursdays", "22:00", "Thursdays 22:00 to Fridays 02:00 UTC"),
            ("Tuesday", "12:30pm", "Tuesdays 12:30 to 16:30 UTC"), ("friday", "18:00", "Fridays 18:00 to 22:00 UTC"),
        ]
        for (day, time, window) in spellings {
            let result = try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", day, time, "--json"] + Self.app)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["window"] as? String == window, "\(day) \(time)")
        }
    }

    @Test func scheduleMovesByWholeWeeksOnTheWindow() throws {
        let sandbox = try Fixture.pendingMaintenance(requiredBy: "2023-06-01T00:00:00Z") // scheduled for 2023-04-28 18:00
        let schedule = ["data:maintenances:schedule", "REDIS_URL"] + Self.app
        let moves: [([String], String)] = [
            (["--weeks", "1"], "2023-04-28 18:00:00 +0000 to 2023-05-05 18:00:00 +0000"),
            (["--weeks", "-1"], "2023-05-05 18:00:00 +0000 to 2023-04-28 18:00:00 +0000"),
            ([], "2023-04-28 18:00:00 +0000 to 2023-05-12 18:00:00 +0000"),
            (["--week", "2023-05-22"], "2023-05-12 18:00:00 +0000 to 2023-05-26 18:00:00 +0000"),
        ]
        for (flags, change) in moves {
            #expect(try sandbox.run(schedule + flags)
                    == RunResult(stdout: "Scheduled maintenance for redis-lively-12345 changed from \(change)\n", stderr: "", exitCode: 0))
        }
        let json = try sandbox.infoJSON("redis-lively-12345")
        #expect(json["scheduled_for"] as? String == "2023-05-26T18:00:00.000+00:00")
        #expect(json["previously_scheduled_for"] as? String == "2023-05-12T18:00:00.000+00:00")
        #expect(try sandbox.trailEntries().filter { $0["action"] as? String == "data:maintenances:schedule" }.count == 4)
        try sandbox.expectVerifies()
    }

    @Test func scheduleToTheWeekItIsAlreadyInRecordsNothing() throws {
        let sandbox = try Fixture.pendingMaintenance() // scheduled for Friday 2023-04-28 18:00
        let before = try sandbox.snapshot()
        #expect(try sandbox.run(["data:maintenances:schedule", "REDIS_URL", "--week", "2023-04-24"] + Self.app) == RunResult(
            stdout: "Maintenance for redis-lively-12345 is already scheduled for 2023-04-28 18:00:00 +0000\n", stderr: "", exitCode: 0))
        #expect(try sandbox.snapshot() == before)
        #expect(try sandbox.infoJSON("redis-lively-12345")["previously_scheduled_for"] is NSNull)
    }

    // MARK: platform scheduling

    @Test func requireSchedulesIntoTheFirstWindowBeforeTheDeadline() throws {
        let sandbox = try Fixture.exampleApp()
        let result = try sandbox.run(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", Fixture.requiredBy])
        #expect(result.exitCode == 0)
        #expect(result.stderr == "Requiring maintenance of redis-lively-12345 by 2023-05-03 08:54:02 +0000... done, scheduled for 2023-04-28 18:00:00 +0000\n")
        #expect(result.stdout.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n/) != nil, "\(result)")
        #expect(try sandbox.infoJSON("redis-lively-12345")["uuid"] as? String == String(result.stdout.dropLast()))
    }

    @Test func requireWithNoWindowBeforeTheDeadlineTakesTheLatestSlotOutsideTheWindow() throws {
        let sandbox = try Fixture.exampleApp()
        #expect(try sandbox.run(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-04-26T12:00:00Z"]).stderr
                == "Requiring maintenance of redis-lively-12345 by 2023-04-26 12:00:00 +0000... done, scheduled for 2023-04-26 08:00:00 +0000 (outside its window)\n")
        let json = try sandbox.infoJSON("redis-lively-12345")
        #expect(json["outside_window"] as? Bool == true)
        #expect(json["scheduled_for"] as? String == "2023-04-26T08:00:00.000+00:00")
    }

    @Test func requireOnAPlanWithoutWindowsLeavesTheTimeToThePlatform() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        let result = try sandbox.run(["platform:maintenances:require", "KAFKA_URL", "-a", "example-app", "--required-by", "2023-04-26T12:00:00Z"])
        #expect(result.exitCode == 0)
        #expect(result.stderr == "Requiring maintenance of kafka-basic-33333 by 2023-04-26 12:00:00 +0000... done, left to the platform to schedule\n")
        #expect(try sandbox.run(["data:maintenances:info", "KAFKA_URL"] + Self.app).stdout == """
            addon_attachments: KAFKA_URL
            addon_kind:        heroku-kafka
            addon_name:        kafka-basic-33333
            addon_plan:        basic-0
            app_name:          example-app
            method:            rolling_restart
            reason:            routine_maintenance
            required_by:       2023-04-26T12:00:00.000+00:00
            server_created_at: 2023-04-24T09:00:00.000+00:00
            status:            pending

            """)
    }

    @Test func theWholeLifecycleIsRecordedWithItsTimes() throws {
        let sandbox = try Fixture.pendingMaintenance()
        let steps: [(String, String, String)] = [
            ("prepare", "2023-04-28T17:00:00Z", "preparing"), ("ready", "2023-04-28T17:30:00Z", "ready"),
            ("start", "2023-04-28T18:01:14.191Z", "running"), ("complete", "2023-04-28T18:04:21.141Z", "completed"),
        ]
        for (change, time, status) in steps {
            #expect(try sandbox.run(["platform:maintenances:\(change)", "REDIS_URL"] + Self.app, now: time)
                    == RunResult(stdout: "", stderr: "Marking the maintenance of redis-lively-12345 \(status)... done\n", exitCode: 0))
            #expect(try sandbox.infoJSON("redis-lively-12345")["status"] as? String == status)
        }
        let info = try sandbox.run(["data:maintenances:info", "REDIS_URL"] + Self.app).stdout
        #expect(info.contains("duration_approximate: ~ 3 minutes\nduration_seconds:     186\n"), "\(info)")
        #expect(try sandbox.trailEntries().map { $0["action"] as? String }.suffix(5) == [
            "platform:maintenances:require", "platform:maintenances:prepare", "platform:maintenances:ready",
            "platform:maintenances:start", "platform:maintenances:complete",
        ])
        try sandbox.expectVerifies()
    }

    @Test func completeWithAReplacementServerRecordsItsCreationTime() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.ok(["platform:maintenances:start", "REDIS_URL"] + Self.app, now: "2023-04-28T18:01:14.191Z")
        try sandbox.ok(["platform:maintenances:complete", "REDIS_URL", "--server-created-at", "2023-04-28T18:02:00Z"] + Self.app,
                       now: "2023-04-28T18:04:21.141Z")
        let addons = try sandbox.ok(["addons", "--json"] + Self.app).stdout
        #expect(addons.contains(#""server_created_at": "2023-04-28T18:02:00.000+00:00""#), "\(addons)")
        // The maintenance keeps the server it was recorded against.
        #expect(try sandbox.infoJSON("redis-lively-12345")["server_created_at"] as? String == "2022-12-26T08:30:37.872+00:00")
        try sandbox.expectVerifies()
    }

    // MARK: listings

    @Test func dataMaintenancesListsTheAppsAddonsInEveryFormat() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.ok(["addons:create", "heroku-redis:mini", "-a", "example-app", "--name", "redis-mini-11111"])
        let list = ["data:maintenances"] + Self.app
        #expect(try sandbox.run(list) == RunResult(stdout: """
             Addon              Attachments            Scheduling Window          Status  Required by               Scheduled for
             ────────────────── ────────────────────── ────────────────────────── ─────── ───────────────────────── ─────────────────────────
             redis-lively-12345 REDIS_URL              Fridays 18:00 to 22:00 UTC pending 2023-05-03 08:54:02 +0000 2023-04-28 18:00:00 +0000
             redis-mini-11111   HEROKU_REDIS_AMBER_URL -                          none    -                         -

            """, stderr: "", exitCode: 0))
        #expect(try sandbox.run(list + ["-x"]).stdout == """
             Addon              Attachments            Scheduling Window          Status  Required by               Scheduled for             Kind         Plan
             ────────────────── ────────────────────── ────────────────────────── ─────── ───────────────────────── ───────────────────────── ──────────── ─────────
             redis-lively-12345 REDIS_URL              Fridays 18:00 to 22:00 UTC pending 2023-05-03 08:54:02 +0000 2023-04-28 18:00:00 +0000 heroku-redis premium-0
             redis-mini-11111   HEROKU_REDIS_AMBER_URL -                          none    -                         -                         heroku-redis mini

            """)
        #expect(try sandbox.run(list + ["--csv"]).stdout == """
            Addon,Attachments,Scheduling Window,Status,Required by,Scheduled for\r
            redis-lively-12345,REDIS_URL,Fridays 18:00 to 22:00 UTC,pending,2023-05-03T08:54:02.518+00:00,2023-04-28T18:00:00.000+00:00\r
            redis-mini-11111,HEROKU_REDIS_AMBER_URL,,none,,\r

            """)
        let json = try JSONSerialization.jsonObject(with: Data(try sandbox.run(list + ["--json"]).stdout.utf8)) as? [[String: Any]]
        let rows = try #require(json)
        #expect(rows.count == 2)
        #expect(rows.map { $0["status"] as? String } == ["pending", "none"])
        #expect((rows[0]["addon"] as? [String: Any])?["name"] as? String == "redis-lively-12345")
        #expect(rows[0]["required_by"] as? String == "2023-05-03T08:54:02.518+00:00")
        #expect(rows[1]["required_by"] is NSNull)
    }

    @Test func dataMaintenancesShowsDashesForAClosedMaintenance() throws {
        let sandbox = try Fixture.seedExample()
        #expect(try sandbox.run(["data:maintenances"] + Self.app).stdout == """
             Addon              Attachments Scheduling Window          Status    Required by Scheduled for
             ────────────────── ─────────── ────────────────────────── ───────── ─────────── ─────────────
             redis-lively-12345 REDIS_URL   Fridays 18:00 to 22:00 UTC completed -           -

            """)
    }

    @Test func dataMaintenancesOfAnAppWithoutDataAddonsSaysSo() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["apps:create", "empty-app"])
        #expect(try sandbox.run(["data:maintenances", "-a", "empty-app"])
                == RunResult(stdout: "", stderr: "No maintenances found for app empty-app\n", exitCode: 0))
        #expect(try sandbox.run(["data:maintenances", "-a", "empty-app", "--json"]) == RunResult(stdout: "[]\n", stderr: "", exitCode: 0))
    }

    @Test func historyListsNewestFirstAndKeepsEverything() throws {
        let sandbox = try Fixture.exampleApp()
        let history = ["data:maintenances:history", "REDIS_URL"] + Self.app
        #expect(try sandbox.run(history) == RunResult(stdout: "", stderr: "redis-lively-12345 does not have any maintenance history\n", exitCode: 0))
        // Seven customer runs of three minutes each, on the first seven days of May.
        for day in 1...7 {
            try sandbox.ok(["data:maintenances:run", "REDIS_URL", "--confirm", "example-app"] + Self.app, now: "2023-05-0\(day)T10:00:00Z")
            try sandbox.ok(["platform:maintenances:complete", "REDIS_URL"] + Self.app, now: "2023-05-0\(day)T10:03:00Z")
        }
        func row(_ day: Int) -> String {
            " 2023-05-0\(day) 10:00:00 +0000 2023-05-0\(day) 10:00:00 +0000 2023-05-0\(day) 10:03:00 +0000 180                customer_request completed Fridays 18:00 to 22:00 UTC\n"
        }
        let header = """
             Scheduled for             Started at                Completed at              Duration (seconds) Reason           Status    Window
             ───────────────────────── ───────────────────────── ───────────────────────── ────────────────── ──────────────── ───────── ──────────────────────────

            """
        #expect(try sandbox.run(history, now: "2023-05-08T00:00:00Z")
                == RunResult(stdout: header + [7, 6, 5, 4, 3].map(row).joined(), stderr: "", exitCode: 0))
        #expect(try sandbox.run(history + ["-n", "2"]).stdout == header + [7, 6].map(row).joined())
        #expect(try sandbox.run(history + ["--all"]).stdout == header + [7, 6, 5, 4, 3, 2, 1].map(row).joined())
        #expect(try sandbox.run(history + ["-n", "1", "--csv"]).stdout == """
            Scheduled for,Started at,Completed at,Duration (seconds),Reason,Status,Window\r
            2023-05-07T10:00:00.000+00:00,2023-05-07T10:00:00.000+00:00,2023-05-07T10:03:00.000+00:00,180,customer_request,completed,Fridays 18:00 to 22:00 UTC\r

            """)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try sandbox.run(history + ["--all", "--json"]).stdout.utf8)) as? [[String: Any]])
        #expect(json.map { $0["started_at"] as? String } == (1...7).reversed().map { "2023-05-0\($0)T10:00:00.000+00:00" })
        #expect(json.allSatisfy { $0["duration_seconds"] as? Int == 180 })
    }

    @Test func redisInfoSaysWhetherMaintenanceIsRequired() throws {
        let sandbox = try Fixture.exampleApp()
        func expected(_ maintenance: String) -> RunResult {
            RunResult(stdout: """
                === redis-lively-12345 (REDIS_URL)
                Plan:               Premium 0
                Status:             available
                Created:            2022-12-26 08:30:37 +0000
                Maintenance window: Fridays 18:00 to 22:00 UTC
                Maintenance:        \(maintenance)

                """, stderr: "", exitCode: 0)
        }
        #expect(try sandbox.run(["redis:info"] + Self.app) == expected("not required"))
        try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", Fixture.requiredBy])
        #expect(try sandbox.run(["redis:info"] + Self.app) == expected("required by 2023-05-03 08:54:02 +0000"))
        #expect(try sandbox.run(["redis:info", "REDIS"] + Self.app) == expected("required by 2023-05-03 08:54:02 +0000"))
        try sandbox.ok(["platform:maintenances:start", "REDIS_URL"] + Self.app)
        try sandbox.ok(["platform:maintenances:complete", "REDIS_URL"] + Self.app)
        #expect(try sandbox.run(["redis:info"] + Self.app) == expected("not required"))
    }

    @Test func redisInfoOfAnAppWithoutKeyValueStoreSaysSo() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        try sandbox.ok(["apps:create", "other-app"])
        #expect(try sandbox.run(["redis:info", "-a", "other-app"])
                == RunResult(stdout: "", stderr: "other-app has no Key-Value Store add-ons.\n", exitCode: 0))
        try sandbox.expectRefusal(["redis:info", "KAFKA_URL", "-a", "example-app"],
                                  stderr: "Error: kafka-basic-33333 is a heroku-kafka add-on, not Key-Value Store\n")
    }

    // MARK: data:maintenances:wait

    @Test func waitWithNothingRunningReturnsAtOnce() throws {
        let sandbox = try Fixture.pendingMaintenance()
        #expect(try sandbox.run(["data:maintenances:wait", "REDIS_URL"] + Self.app)
                == RunResult(stdout: "", stderr: "There currently isn't any maintenance in progress for redis-lively-12345\n", exitCode: 0))
    }

    @Test func waitGivesUpAfterItsTimeout() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["data:maintenances:run", "REDIS_URL", "--confirm", "example-app"] + Self.app)
        let started = Date()
        let result = try sandbox.run(["data:maintenances:wait", "REDIS_URL", "--timeout", "1"] + Self.app)
        #expect(Date().timeIntervalSince(started) >= 1)
        #expect(result.exitCode == 1 && result.stdout.isEmpty, "\(result)")
        #expect(result.stderr == "Error: the maintenance of redis-lively-12345 was still running after the --timeout of 1 s\n", "\(result)")
    }

    /// The waiter reports how another process ended the maintenance: completed is success,
    /// failed is an error.
    @Test(arguments: [
        ("complete", RunResult(stdout: "", stderr: "Waiting for maintenance on redis-lively-12345... completed\n", exitCode: 0)),
        ("fail", RunResult(stdout: "", stderr: "Error: the maintenance of redis-lively-12345 ended failed\n", exitCode: 1)),
    ])
    func waitReportsHowAnotherProcessEndedTheMaintenance(change: String, expected: RunResult) throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["data:maintenances:run", "REDIS_URL", "--confirm", "example-app"] + Self.app)
        let waiter = try sandbox.start(["data:maintenances:wait", "REDIS_URL", "--timeout", "30"] + Self.app)
        Thread.sleep(forTimeInterval: 1)
        try sandbox.ok(["platform:maintenances:\(change)", "REDIS_URL"] + Self.app, now: "2023-04-24T09:03:00Z")
        #expect(try waiter.finish() == expected)
    }

    @Test func runWithWaitReturnsOnceTheMaintenanceCompletes() throws {
        let sandbox = try Fixture.exampleApp()
        let runner = try sandbox.start(["data:maintenances:run", "REDIS_URL", "--confirm", "example-app", "--wait"] + Self.app)
        try sandbox.awaitStatus("running", of: "redis-lively-12345")
        Thread.sleep(forTimeInterval: 0.5) // from starting it to waiting on it
        try sandbox.ok(["platform:maintenances:complete", "REDIS_URL"] + Self.app, now: "2023-04-24T09:03:00Z")
        #expect(try runner.finish() == RunResult(
            stdout: "", stderr: "Starting maintenance for redis-lively-12345... done\nWaiting for maintenance on redis-lively-12345... completed\n", exitCode: 0))
    }
}
