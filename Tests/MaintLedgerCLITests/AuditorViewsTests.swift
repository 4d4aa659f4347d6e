import Foundation
import Testing

/// The views migration 0008 gives auditors (README "Views for auditors"), read through `sql`
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
            maintenance_id,uuid,app,addon,kind,plan,status,reason,method,emergency,customer_requested,created_at,required_by,has_deadline,scheduled_for,previously_scheduled_for,scheduled_window,outside_window,started_at,started_in_window,completed_at,duration_seconds,ended_at,ended_by,deadline_met,server_created_at\r
            1,\(uuid),example-app,redis-lively-12345,heroku-redis,premium-0,completed,routine_maintenance,failover,0,0,2023-04-24T09:00:00.000Z,2023-05-03T08:54:02.518Z,1,2023-04-28T18:00:00.000Z,,Fridays 18:00 to 22:00 UTC,0,2023-04-28T18:01:14.191Z,1,2023-04-28T18:04:21.141Z,186,2023-04-28T18:04:21.141Z,alice,1,2022-12-26T08:30:37.872Z\r

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

    /// A ledger at the schema before the views (0007) is upgraded in place by `migrate`, verifies,
    /// and answers through them.
    @Test func aLedgerOfTheSchemaBeforeIsUpgradedInPlaceAndVerifies() throws {
        let sandbox = try Fixture.seedExample()
        try sandbox.tamper("""
            DROP VIEW maintenance_audit; DROP VIEW current_windows; DROP VIEW window_changes; DROP VIEW windows_decoded;
            DELETE FROM schema_migrations WHERE identifier = '0008_auditor_views';
            """)
        #expect(try sandbox.run(["audit:verify"]).exitCode == 1) // needs an upgrade first
        #expect(try sandbox.run(["migrate"]) == RunResult(stdout: "upgraded: applied 0008_auditor_views; schema 0008_auditor_views\n",
                                                         stderr: "", exitCode: 0))
        #expect(try sandbox.expectVerifies() == 6)
        #expect(try Self.csv(sandbox, "SELECT status, ended_by, deadline_met FROM maintenance_audit") == "status,ended_by,deadline_met\r\ncompleted,alice,1\r\n")
    }
}
