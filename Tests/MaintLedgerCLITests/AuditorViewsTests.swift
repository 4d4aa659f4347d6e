import Foundation
import Testing

/// The views migrations 0008 and 0009 give auditors (README "Views for auditors"), read through `sql`
/// as any SQLite tool would read them.
@Suite struct AuditorViewsTests {
    private static func csv(_ sandbox: LedgerSandbox, _ query: String) throws -> String {
        try sandbox.ok(["sql", query, "--csv"]).stdout
    }

    /// The seed example: one maintenance, started and completed in its window by alice before
    /// its deadline; two windows, the default one crossing midnight.
    @Test func theSeedExampleReadsAsAnAuditorWouldWriteIt() throws {
        let sandbox = try Fixture.seedExample()
        let uuid = try #require(try sandbox.infoJSON(Fixture.addon)["uuid"] as? String)
        #expect(try Self.csv(sandbox, "SELECT * FROM maintenance_audit") == """
            maintenance_id,uuid,app,addon,kind,plan,status,reason,method,emergency,customer_requested,created_at,required_by,has_deadline,scheduled_for,previously_scheduled_for,scheduled_window,outside_window,started_at,started_in_window,completed_at,duration_seconds,ended_at,ended_by,deadline_met,server_created_at,last_moved_by,last_moved_at,times_moved\r
            1,\(uuid),example-app,redis-lively-12345,heroku-redis,premium-0,completed,routine_maintenance,failover,0,0,2023-04-24T09:00:00.000Z,2023-05-03T08:54:02.518Z,1,2023-04-28T18:00:00.000Z,,Fridays 18:00 to 22:00 UTC,0,2023-04-28T18:01:14.191Z,1,2023-04-28T18:04:21.141Z,186,2023-04-28T18:04:21.141Z,alice,1,2022-12-26T08:30:37.872Z,,,0\r

            """)
        #expect(try Self.csv(sandbox, "SELECT * FROM current_windows") == """
            app,addon,kind,plan,window_text,day_of_week,day_name,start_minute,start_time,end_time,source,set_at,set_by,deprovisioned_at\r
            example-app,redis-lively-12345,heroku-redis,premium-0,Fridays 18:00 to 22:00 UTC,5,Friday,1080,18:00,22:00,customer,2023-01-02T10:00:00.000Z,alice,\r

            """)
    }

    /// Every window change with the one it replaced, decoded, and written as the commands write
    /// windows (here one that crosses midnight, and the add-on's first, chosen at random).
    @Test func windowChangesAreDecodedAsTheCommandsWriteThem() throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "Thursdays", "10:30PM", "-a", "example-app"], now: "2023-05-01T10:00:00Z")
        #expect(try Self.csv(sandbox, "SELECT * FROM window_changes WHERE window_id = 3") == """
            window_id,app,addon,kind,plan,set_at,set_by,source,previous_window_text,previous_day_of_week,previous_day_name,previous_start_minute,previous_start_time,window_text,day_of_week,day_name,start_minute,start_time,end_time\r
            3,example-app,redis-lively-12345,heroku-redis,premium-0,2023-05-01T10:00:00.000Z,alice,customer,Fridays 18:00 to 22:00 UTC,5,Friday,1080,18:00,Thursdays 22:30 to Fridays 02:30 UTC,4,Thursday,1350,22:30,02:30\r

            """)
        let reported = try #require(try JSONSerialization.jsonObject(with: Data(sandbox.ok(["audit:windows", "--json"]).stdout.utf8)) as? [[String: Any]])
        let expected = reported.map { "\($0["previous_window"] as? String ?? ""),\($0["window"]!),\($0["set_by"]!),\($0["source"]!)\r\n" }
        #expect(try Self.csv(sandbox, "SELECT previous_window_text, window_text, set_by, source FROM window_changes ORDER BY window_id")
                == "previous_window_text,window_text,set_by,source\r\n" + expected.joined())
        #expect(reported.count == 3)
    }

    /// A failed and a cancelled maintenance: when they ended and who moved them there, which
    /// the table itself does not hold (it is in their status changes); neither met its deadline.
    @Test func failedAndCancelledMaintenancesHaveTheirEndAndWhoEndedThem() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.ok(["platform:maintenances:start", Fixture.addon], now: "2023-04-28T18:01:00Z")
        sandbox.actor = "bob"
        try sandbox.ok(["platform:maintenances:fail", Fixture.addon], now: "2023-04-28T18:30:00Z")
        try sandbox.ok(["platform:maintenances:require", Fixture.addon, "--required-by", "2023-05-20T00:00:00Z"], now: "2023-04-29T09:00:00Z")
        sandbox.actor = "carol"
        try sandbox.ok(["platform:maintenances:cancel", Fixture.addon], now: "2023-04-30T09:00:00Z")
        #expect(try Self.csv(sandbox, """
            SELECT status, started_at, started_in_window, completed_at, ended_at, ended_by, has_deadline, deadline_met
            FROM maintenance_audit ORDER BY maintenance_id
            """) == """
            status,started_at,started_in_window,completed_at,ended_at,ended_by,has_deadline,deadline_met\r
            failed,2023-04-28T18:01:00.000Z,1,,2023-04-28T18:30:00.000Z,bob,1,0\r
            cancelled,,,,2023-04-30T09:00:00.000Z,carol,1,0\r

            """)
    }

    /// Who moved a maintenance (issue 16): bob reschedules it by a week, carol moves it into the
    /// window she sets; a refused move records none. The view names the last mover, and
    /// maintenance_moves holds every move, each in the trail with the command that made it.
    @Test func whoMovedAMaintenanceIsItsLastMoverAndEveryMoveIsKept() throws {
        let sandbox = try Fixture.pendingMaintenance(requiredBy: "2023-06-01T00:00:00Z") // scheduled for 2023-04-28 18:00
        let moved = "SELECT scheduled_for, previously_scheduled_for, last_moved_by, last_moved_at, times_moved FROM maintenance_audit"
        #expect(try Self.csv(sandbox, moved) == """
            scheduled_for,previously_scheduled_for,last_moved_by,last_moved_at,times_moved\r
            2023-04-28T18:00:00.000Z,,,,0\r

            """)
        sandbox.actor = "bob"
        try sandbox.ok(["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--weeks", "1"], now: "2023-04-24T10:00:00Z")
        try sandbox.expectRefusal(["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--weeks", "5"], stderr: """
            Error: 2023-06-09 18:00:00 +0000 is not before the maintenance's required-by time 2023-06-01 00:00:00 +0000
            Choose an earlier week.

            """, now: "2023-04-24T11:00:00Z")
        sandbox.actor = "carol"
        try sandbox.ok(["data:maintenances:window:update", "REDIS_URL", "Tuesdays", "10:00", "-a", "example-app"], now: "2023-04-25T08:00:00Z")
        #expect(try Self.csv(sandbox, moved) == """
            scheduled_for,previously_scheduled_for,last_moved_by,last_moved_at,times_moved\r
            2023-04-25T10:00:00.000Z,2023-05-05T18:00:00.000Z,carol,2023-04-25T08:00:00.000Z,2\r

            """)
        #expect(try Self.csv(sandbox, "SELECT * FROM maintenance_moves") == """
            id,maintenance_id,moved_from,moved_to,moved_at,moved_by,cause\r
            1,1,2023-04-28T18:00:00.000Z,2023-05-05T18:00:00.000Z,2023-04-24T10:00:00.000Z,bob,schedule\r
            2,1,2023-05-05T18:00:00.000Z,2023-04-25T10:00:00.000Z,2023-04-25T08:00:00.000Z,carol,window\r

            """)
        let moves = try sandbox.trailEntries().filter { entry in
            (entry["payload"] as? [String: Any])?["changes"].map { "\($0)".contains("maintenance_moves") } == true
        }
        #expect(moves.map { "\($0["actor"]!) \($0["action"]!)" } == ["bob data:maintenances:schedule", "carol data:maintenances:window:update"])
        #expect(try sandbox.expectVerifies() == 6)
    }

    /// The platform giving a maintenance on a plan without windows its time moves it too, from
    /// no time to the one it picked, by the engine's actor at the time of that step (09:00, when
    /// it was required; not the tick's 10:00). The maintenance the engine required of the redis
    /// add-on on the way, scheduled into its window as it was made, was never moved.
    @Test func thePlatformPickingATimeIsAMoveByTheEngine() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        try sandbox.ok(["platform:maintenances:require", "KAFKA_URL", "-a", "example-app", "--required-by", "2023-05-26T12:00:00Z"])
        try sandbox.ok(["platform:tick"], now: "2023-04-24T10:00:00Z")
        #expect(try Self.csv(sandbox, """
            SELECT addon, scheduled_for = (SELECT moved_to FROM maintenance_moves v WHERE v.maintenance_id = a.maintenance_id) AS moved_to_it,
                   last_moved_by, last_moved_at, times_moved
            FROM maintenance_audit a ORDER BY maintenance_id
            """) == """
            addon,moved_to_it,last_moved_by,last_moved_at,times_moved\r
            kafka-basic-33333,1,platform,2023-04-24T09:00:00.000Z,1\r
            redis-lively-12345,,,,0\r

            """)
        #expect(try Self.csv(sandbox, "SELECT maintenance_id, moved_from, moved_by, cause FROM maintenance_moves") == """
            maintenance_id,moved_from,moved_by,cause\r
            1,,platform,platform\r

            """)
        try sandbox.expectVerifies()
    }

    /// An import that sees a recorded maintenance's schedule changed (a daily import of
    /// Heroku's history, after someone moved it there) records the move, by whoever imports.
    @Test func anImportThatSeesAMaintenanceMovedRecordsTheMove() throws {
        let sandbox = try Fixture.pendingMaintenance() // scheduled for 2023-04-28 18:00
        let line = try sandbox.ok(["history", "--ndjson"]).stdout
        let moved = line.replacing(#""previously_scheduled_for":null"#, with: #""previously_scheduled_for":"2023-04-28T18:00:00.000+00:00""#)
            .replacing(#""scheduled_for":"2023-04-28T18:00:00.000+00:00""#, with: #""scheduled_for":"2023-05-05T18:00:00.000+00:00""#)
        #expect(moved != line)
        let file = sandbox.folder.appendingPathComponent("moved.ndjson").path
        try moved.write(toFile: file, atomically: true, encoding: .utf8)
        sandbox.actor = "importer"
        try sandbox.ok(["import", file], now: "2023-04-25T09:00:00Z")
        #expect(try Self.csv(sandbox, "SELECT * FROM maintenance_moves") == """
            id,maintenance_id,moved_from,moved_to,moved_at,moved_by,cause\r
            1,1,2023-04-28T18:00:00.000Z,2023-05-05T18:00:00.000Z,2023-04-25T09:00:00.000Z,importer,import\r

            """)
        #expect(try Self.csv(sandbox, "SELECT scheduled_for, last_moved_by, times_moved FROM maintenance_audit") == """
            scheduled_for,last_moved_by,times_moved\r
            2023-05-05T18:00:00.000Z,importer,1\r

            """)
        try sandbox.expectVerifies()
    }

    /// A ledger of schema 0008 whose maintenance bob and carol moved is upgraded in place: it
    /// verifies, the moves before the upgrade are in its trail only (the view shows no mover and
    /// 0 moves for them), and a move after it is shown.
    @Test func aLedgerMovedBeforeTheMovesTableIsUpgradedAndVerifies() throws {
        let sandbox = try Fixture.schema8Moved()
        #expect(try sandbox.run(["audit:verify"]).exitCode == 1) // needs an upgrade first
        #expect(try sandbox.run(["migrate"]) == RunResult(stdout: "upgraded: applied 0009_maintenance_moves; schema 0009_maintenance_moves\n",
                                                         stderr: "", exitCode: 0))
        #expect(try sandbox.expectVerifies() == 6)
        let moved = "SELECT scheduled_for, previously_scheduled_for, last_moved_by, last_moved_at, times_moved FROM maintenance_audit"
        #expect(try Self.csv(sandbox, moved) == """
            scheduled_for,previously_scheduled_for,last_moved_by,last_moved_at,times_moved\r
            2023-04-25T10:00:00.000Z,2023-05-05T18:00:00.000Z,,,0\r

            """)
        sandbox.actor = "dave"
        try sandbox.ok(["data:maintenances:schedule", "REDIS_URL", "-a", "example-app", "--weeks", "1"])
        #expect(try Self.csv(sandbox, moved) == """
            scheduled_for,previously_scheduled_for,last_moved_by,last_moved_at,times_moved\r
            2023-05-02T10:00:00.000Z,2023-04-25T10:00:00.000Z,dave,2023-04-25T08:00:00.000Z,1\r

            """)
        #expect(try sandbox.expectVerifies() == 7)
    }

    /// A ledger at the schema before the views (0007) is upgraded in place by `migrate`, verifies,
    /// and answers through them.
    @Test func aLedgerOfTheSchemaBeforeIsUpgradedInPlaceAndVerifies() throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper("""
            DROP VIEW maintenance_audit; DROP VIEW current_windows; DROP VIEW window_changes; DROP VIEW windows_decoded;
            DROP TABLE maintenance_moves;
            DELETE FROM schema_migrations WHERE identifier = '0008_auditor_views' OR identifier = '0009_maintenance_moves';
            """)
        #expect(try sandbox.run(["audit:verify"]).exitCode == 1) // needs an upgrade first
        #expect(try sandbox.run(["migrate"]) == RunResult(stdout: "upgraded: applied 0008_auditor_views, 0009_maintenance_moves; schema 0009_maintenance_moves\n",
                                                         stderr: "", exitCode: 0))
        #expect(try sandbox.expectVerifies() == 6)
        #expect(try Self.csv(sandbox, "SELECT status, ended_by, deadline_met FROM maintenance_audit") == "status,ended_by,deadline_met\r\ncompleted,alice,1\r\n")
    }
}
