import Foundation
import GRDB
import Testing

// `maintledger history`: every filter against a simulated fleet, with the expected answer worked
// out by plain SQL on the ledger file (never through maintledger's own queries); hand-built
// emergencies and maintenances outside their window; refusals that change nothing.

/// The fleets `history`, `--as-of` and the output formats are checked on. Each is built once per
/// test run by the binary itself; every test gets its own copy of the file.
///
/// `simulated`: `simulate --apps 5 --days 120 --start 2022-01-01 --seed 7` (2022-01-01 to
/// 2022-05-01: 23 routine maintenances, all completed).
///
/// `extended`: the same fleet, ticked on by the engine to 2022-07-01 with `--failure-rate 0.3`
/// (failures, maintenances outside their window, one still pending), then by hand (actor alice):
///
///     2022-07-01 00:00  apps billing-app and reporting-app; on billing-app redis-extra-10001
///                       (premium-0, Fridays 18:00, description `cache, "hot" tier`),
///                       postgresql-extra-10002 (standard-0, Saturdays 02:00) and kafka-extra-10003
///                       (basic-0, no window); on reporting-app redis-extra-10004 (premium-1,
///                       Fridays 18:00); redis-extra-10001 attached to reporting-app as CACHE_URL
///     M1  Fri 07-01 10:00–10:04:10  the customer's run of redis-extra-10001 (outside its window)
///     M2  07-01 12:00  redis-extra-10001 required by 08-01, scheduled Fri 07-01 18:00; at 13:00 the
///                      window moves to Saturdays 02:00 and M2 with it (Sat 07-02 02:00); never run
///     M3  Sat 07-02 03:00  emergency hardware_issue on postgresql-extra-10002, recorded at 04:00
///                      with --at: inside its window; ran 03:10–03:15:30
///     M4  07-03 08:00  kafka-extra-10003 required by 07-20: no window, no time yet; never run
///     M5  Tue 07-05 09:00  emergency on postgresql-extra-10002 (outside its window), recorded at
///                      09:30 with --at: started 09:10, failed 09:20
///     M6  07-05 10:00  redis-extra-10004 required by Wed 07-06 12:00: no Friday fits, so the latest
///                      slot, 07-06 08:00, outside its window; cancelled at 11:00
///         07-06 09:00  CACHE_URL detached from reporting-app; 07-07 09:00 redis-extra-10004 destroyed
///
/// The clock then stands at `now`, 2023-01-01.
enum HistoryFleet {
    static let now = "2023-01-01T00:00:00Z"
    static let simulate = ["simulate", "--apps", "5", "--days", "120", "--start", "2022-01-01", "--seed", "7"]
    static let redis = "redis-extra-10001"
    static let postgres = "postgresql-extra-10002"
    static let kafka = "kafka-extra-10003"
    static let reporting = "redis-extra-10004"
    /// When the hand-recorded history begins (everything before is the simulator's and the engine's).
    static let handRecordedFrom = "2022-07-01T00:00:00.000Z"

    enum Variant: String, CaseIterable, Sendable {
        case simulated, extended
    }

    /// A copy of the fleet's ledger, with the clock at `now`.
    static func sandbox(_ variant: Variant = .extended) throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        try sandbox.install((variant == .simulated ? simulated : extended).get().ledger)
        sandbox.now = now
        return sandbox
    }

    /// The hand-recorded maintenances' uuids: M1 … M6.
    static func uuid(_ name: String) throws -> String { try #require(try extended.get().uuids[name], "no maintenance \(name)") }

    private static let simulated = Result { try build(extended: false) }
    private static let extended = Result { try build(extended: true) }

    private static func build(extended: Bool) throws -> (ledger: Data, uuids: [String: String]) {
        let sandbox = try LedgerSandbox()
        sandbox.now = now
        try sandbox.ok(simulate)
        var uuids: [String: String] = [:]
        if extended {
            try sandbox.ok(["platform:tick", "--seed", "7", "--failure-rate", "0.3"], now: "2022-07-01T00:00:00Z")
            func at(_ time: String, _ arguments: String...) throws {
                try sandbox.ok(arguments, now: time)
            }
            func require(_ name: String, at time: String, _ arguments: String...) throws {
                let result = try sandbox.ok(["platform:maintenances:require"] + arguments, now: time)
                uuids[name] = String(result.stdout.dropLast())
            }
            let start = "2022-07-01T00:00:00Z"
            try at(start, "apps:create", "billing-app")
            try at(start, "apps:create", "reporting-app")
            try at(start, "addons:create", "heroku-redis:premium-0", "-a", "billing-app", "--name", redis, "--description", #"cache, "hot" tier"#)
            try at(start, "data:maintenances:window:update", redis, "fridays", "18:00")
            try at(start, "addons:create", "heroku-postgresql:standard-0", "-a", "billing-app", "--name", postgres)
            try at(start, "data:maintenances:window:update", postgres, "saturdays", "02:00")
            try at(start, "addons:create", "heroku-kafka:basic-0", "-a", "billing-app", "--name", kafka)
            try at(start, "addons:create", "heroku-redis:premium-1", "-a", "reporting-app", "--name", reporting)
            try at(start, "data:maintenances:window:update", reporting, "fridays", "18:00")
            try at(start, "addons:attach", redis, "-a", "reporting-app", "--as", "CACHE")

            try at("2022-07-01T10:00:00Z", "data:maintenances:run", redis, "--confirm", "billing-app")
            uuids["M1"] = try sandbox.infoJSON(redis)["uuid"] as? String
            try at("2022-07-01T10:04:10Z", "platform:maintenances:complete", redis)
            try require("M2", at: "2022-07-01T12:00:00Z", redis, "--required-by", "2022-08-01T00:00:00Z")
            try at("2022-07-01T13:00:00Z", "data:maintenances:window:update", redis, "saturdays", "02:00")
            let recorded = "2022-07-02T04:00:00Z"
            try require("M3", at: recorded, postgres, "--required-by", "2022-07-10T00:00:00Z", "--emergency", "--reason", "hardware_issue",
                        "--at", "2022-07-02T03:00:00Z")
            try at(recorded, "platform:maintenances:start", postgres, "--at", "2022-07-02T03:10:00Z")
            try at(recorded, "platform:maintenances:complete", postgres, "--at", "2022-07-02T03:15:30Z")
            try require("M4", at: "2022-07-03T08:00:00Z", kafka, "--required-by", "2022-07-20T00:00:00Z")
            let later = "2022-07-05T09:30:00Z"
            try require("M5", at: later, postgres, "--required-by", "2022-07-20T00:00:00Z", "--emergency", "--at", "2022-07-05T09:00:00Z")
            try at(later, "platform:maintenances:start", postgres, "--at", "2022-07-05T09:10:00Z")
            try at(later, "platform:maintenances:fail", postgres, "--at", "2022-07-05T09:20:00Z")
            try require("M6", at: "2022-07-05T10:00:00Z", reporting, "--required-by", "2022-07-06T12:00:00Z")
            try at("2022-07-05T11:00:00Z", "platform:maintenances:cancel", reporting)
            try at("2022-07-06T09:00:00Z", "addons:detach", "CACHE", "-a", "reporting-app")
            try at("2022-07-07T09:00:00Z", "addons:destroy", reporting, "-a", "reporting-app", "--confirm", "reporting-app")
        }
        try #require(!FileManager.default.fileExists(atPath: sandbox.dbPath + "-wal"))
        return (try Data(contentsOf: URL(fileURLWithPath: sandbox.dbPath)), uuids)
    }
}

/// Reading the binary's output and the ledger file back.
enum HistoryProbe {
    /// One JSON object per line (`--ndjson`); nothing at all for no rows.
    static func ndjson(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        #expect(text.isEmpty || text.hasSuffix("\n"), "NDJSON must end its last line: \(text)", sourceLocation: sourceLocation)
        return try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)",
                         sourceLocation: sourceLocation)
        }
    }

    /// One JSON array of objects (`--json`).
    static func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "not an array of objects: \(text)",
                     sourceLocation: sourceLocation)
    }

    /// `history --ndjson ARGUMENTS`, which must succeed quietly: its maintenances' uuids in order.
    static func uuids(_ sandbox: LedgerSandbox, _ arguments: [String], now: String? = nil,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        let result = try sandbox.run(["history", "--ndjson"] + arguments, now: now)
        #expect(result.exitCode == 0 && result.stderr.isEmpty, "history \(arguments): \(result)", sourceLocation: sourceLocation)
        return try ndjson(result.stdout, sourceLocation: sourceLocation).map { try #require($0["uuid"] as? String, sourceLocation: sourceLocation) }
    }

    /// The first column of an SQL query on the ledger file, as text.
    static func strings(_ sandbox: LedgerSandbox, _ sql: String, _ arguments: StatementArguments = []) throws -> [String] {
        try DatabaseQueue(path: sandbox.dbPath).read { db in try String.fetchAll(db, sql: sql, arguments: arguments) }
    }

    static func rows(_ sandbox: LedgerSandbox, _ sql: String, _ arguments: StatementArguments = []) throws -> [Row] {
        try DatabaseQueue(path: sandbox.dbPath).read { db in try Row.fetchAll(db, sql: sql, arguments: arguments) }
    }
}

/// One filter combination of `history` and the SQL that answers it independently.
struct HistoryCase: CustomStringConvertible {
    var arguments: [String]
    /// A condition on `m` (maintenances) and `a` (its add-on).
    var predicate: String
    var values: StatementArguments = []
    var timeColumn = "scheduled_for"
    var ascending = false
    var limit: Int?
    var now: String?
    /// On the extended fleet this filter must list something (or the comparison proves little).
    var listsSomething = false

    var description: String { "history " + arguments.joined(separator: " ") }

    var sql: String {
        let direction = ascending ? "ASC" : "DESC"
        return "SELECT m.uuid FROM maintenances m JOIN addons a ON a.id = m.addon_id WHERE \(predicate) "
            + "ORDER BY m.\(timeColumn) \(direction), m.id \(direction)" + (limit.map { " LIMIT \($0)" } ?? "")
    }
}

@Suite struct HistoryCommandTests {
    static let overdue = "(m.completed_at > m.required_by OR (m.completed_at IS NULL AND m.required_by < ?))"

    /// Every filter, alone and combined, on both fleets: the uuids `--ndjson` lists, in order,
    /// are those plain SQL finds.
    static func cases(_ sandbox: LedgerSandbox, _ variant: HistoryFleet.Variant) throws -> [HistoryCase] {
        var cases: [HistoryCase] = [
            HistoryCase(arguments: [], predicate: "1", listsSomething: true),
            HistoryCase(arguments: ["--order", "asc"], predicate: "1", ascending: true, listsSomething: true),
            HistoryCase(arguments: ["--order", "desc"], predicate: "1", listsSomething: true),
            HistoryCase(arguments: ["--limit", "3"], predicate: "1", limit: 3, listsSomething: true),
            HistoryCase(arguments: ["--limit", "5", "--order", "asc"], predicate: "1", ascending: true, limit: 5, listsSomething: true),
            HistoryCase(arguments: ["--limit", "100000"], predicate: "1", listsSomething: true),
            HistoryCase(arguments: ["--time", "started"], predicate: "1", timeColumn: "started_at", listsSomething: true),
            HistoryCase(arguments: ["--time", "completed", "--limit", "7"], predicate: "1", timeColumn: "completed_at", limit: 7, listsSomething: true),
        ]
        // Apps: add-ons they own, and add-ons attached to them (now or before).
        for app in try HistoryProbe.strings(sandbox, "SELECT name FROM apps ORDER BY id") {
            cases.append(HistoryCase(arguments: ["--app", app], predicate: """
                (a.app_id = (SELECT id FROM apps WHERE name = ?)
                 OR a.id IN (SELECT t.addon_id FROM attachments t JOIN apps p ON p.id = t.app_id WHERE p.name = ?))
                """, values: [app, app], listsSomething: true))
        }
        if variant == .extended {
            cases.append(HistoryCase(arguments: ["-a", "reporting-app", "--order", "asc"], predicate: """
                (a.app_id = (SELECT id FROM apps WHERE name = 'reporting-app')
                 OR a.id IN (SELECT t.addon_id FROM attachments t JOIN apps p ON p.id = t.app_id WHERE p.name = 'reporting-app'))
                """, ascending: true, listsSomething: true))
        }
        // Add-ons by name, and by an app's attachment (full and short).
        for addon in try HistoryProbe.strings(sandbox, "SELECT name FROM addons ORDER BY id") {
            cases.append(HistoryCase(arguments: ["--addon", addon], predicate: "a.name = ?", values: [addon]))
        }
        for row in try HistoryProbe.rows(sandbox, """
            SELECT p.name AS app, t.name AS attachment, a.name AS addon FROM attachments t
            JOIN apps p ON p.id = t.app_id JOIN addons a ON a.id = t.addon_id WHERE t.detached_at IS NULL ORDER BY t.id
            """) {
            let (app, attachment, addon): (String, String, String) = (row["app"], row["attachment"], row["addon"])
            cases.append(HistoryCase(arguments: ["--addon", attachment, "-a", app], predicate: "a.name = ?", values: [addon], listsSomething: true))
            cases.append(HistoryCase(arguments: ["-a", app, "--addon", String(attachment.dropLast(4)).lowercased()],
                                     predicate: "a.name = ?", values: [addon], listsSomething: true))
        }
        // Kinds, plans and tiers.
        for (kind, service) in [("redis", "heroku-redis"), ("postgresql", "heroku-postgresql"), ("kafka", "heroku-kafka"),
                                ("heroku-redis", "heroku-redis"), ("heroku-kafka", "heroku-kafka")] {
            cases.append(HistoryCase(arguments: ["--kind", kind], predicate: "a.service = ?", values: [service], listsSomething: true))
        }
        for plan in try HistoryProbe.strings(sandbox, "SELECT DISTINCT plan FROM addons ORDER BY plan") {
            cases.append(HistoryCase(arguments: ["--plan", plan], predicate: "a.plan = ?", values: [plan], listsSomething: true))
        }
        for tier in ["premium", "standard", "essential", "private", "basic", "mini", "shield"] {
            cases.append(HistoryCase(arguments: ["--plan", tier], predicate: "(a.plan = ? OR substr(a.plan, 1, length(?) + 1) = ? || '-')",
                                     values: [tier, tier, tier], listsSomething: tier != "shield"))
        }
        cases.append(HistoryCase(arguments: ["--kind", "postgresql", "--plan", "standard"],
                                 predicate: "a.service = 'heroku-postgresql' AND a.plan LIKE 'standard-%'", listsSomething: true))
        cases.append(HistoryCase(arguments: ["--kind", "redis", "--plan", "standard"], predicate: "0"))
        // Status, reason, method.
        for status in ["pending", "preparing", "ready", "running", "completed", "failed", "cancelled"] {
            cases.append(HistoryCase(arguments: ["--status", status], predicate: "m.status = ?", values: [status],
                                     listsSomething: ["pending", "completed", "failed", "cancelled"].contains(status)))
        }
        for reason in ["routine_maintenance", "customer_request", "hardware_issue"] {
            cases.append(HistoryCase(arguments: ["--reason", reason], predicate: "m.reason = ?", values: [reason], listsSomething: true))
        }
        for method in ["failover", "changeover", "rolling_restart"] {
            cases.append(HistoryCase(arguments: ["--method", method], predicate: "m.method = ?", values: [method], listsSomething: true))
        }
        // Time ranges on each of the three times; bounds are inclusive and read in any zone.
        for (time, column) in [("scheduled", "scheduled_for"), ("started", "started_at"), ("completed", "completed_at")] {
            cases.append(HistoryCase(arguments: ["--since", "2022-02-01", "--until", "2022-04-15T12:00:00Z", "--time", time],
                                     predicate: "m.\(column) >= '2022-02-01T00:00:00.000Z' AND m.\(column) <= '2022-04-15T12:00:00.000Z'",
                                     timeColumn: column, listsSomething: true))
            cases.append(HistoryCase(arguments: ["--time", time, "--since", "2022-03-01T02:00:00+02:00", "--order", "asc"],
                                     predicate: "m.\(column) >= '2022-03-01T00:00:00.000Z'", timeColumn: column, ascending: true,
                                     listsSomething: true))
            cases.append(HistoryCase(arguments: ["--until", "2022-03-01 00:00:00 +0000", "--time", time],
                                     predicate: "m.\(column) <= '2022-03-01T00:00:00.000Z'", timeColumn: column, listsSomething: true))
            // An exact time as both bounds finds the maintenances at that very millisecond.
            if let exact = try HistoryProbe.strings(sandbox, "SELECT \(column) FROM maintenances WHERE \(column) IS NOT NULL ORDER BY id LIMIT 1 OFFSET 4").first {
                cases.append(HistoryCase(arguments: ["--time", time, "--since", exact, "--until", exact], predicate: "m.\(column) = ?",
                                         values: [exact], timeColumn: column, listsSomething: true))
            }
        }
        // Flags.
        cases += [
            HistoryCase(arguments: ["--outside-window"], predicate: "m.outside_window = 1", listsSomething: true),
            HistoryCase(arguments: ["--emergency"], predicate: "m.emergency = 1", listsSomething: true),
            HistoryCase(arguments: ["--emergency", "--outside-window"], predicate: "m.emergency = 1 AND m.outside_window = 1", listsSomething: true),
            HistoryCase(arguments: ["--overdue", "--reason", "routine_maintenance"],
                        predicate: "\(overdue) AND m.reason = 'routine_maintenance'", values: ["2023-01-01T00:00:00.000Z"], listsSomething: true),
            HistoryCase(arguments: ["--overdue", "--status", "pending"], predicate: "\(overdue) AND m.status = 'pending'",
                        values: ["2023-01-01T00:00:00.000Z"], listsSomething: true),
            // Overdue is measured against the clock: in mid-July 2022 M2 and M4 still had time.
            HistoryCase(arguments: ["--overdue", "--status", "pending"], predicate: "\(overdue) AND m.status = 'pending'",
                        values: ["2022-07-15T00:00:00.000Z"], now: "2022-07-15T00:00:00Z", listsSomething: true),
            HistoryCase(arguments: ["--overdue", "--reason", "routine_maintenance", "--time", "completed", "--order", "asc"],
                        predicate: "\(overdue) AND m.reason = 'routine_maintenance'", values: ["2023-01-01T00:00:00.000Z"],
                        timeColumn: "completed_at", ascending: true, listsSomething: true),
        ]
        // Combinations.
        cases += [
            HistoryCase(arguments: ["--kind", "redis", "--status", "completed", "--time", "completed", "--since", "2022-03-01", "--limit", "4"],
                        predicate: "a.service = 'heroku-redis' AND m.status = 'completed' AND m.completed_at >= '2022-03-01T00:00:00.000Z'",
                        timeColumn: "completed_at", limit: 4, listsSomething: true),
            HistoryCase(arguments: ["--plan", "premium", "--status", "failed", "--order", "asc", "--time", "started"],
                        predicate: "a.plan LIKE 'premium-%' AND m.status = 'failed'", timeColumn: "started_at", ascending: true,
                        listsSomething: true),
            HistoryCase(arguments: ["--reason", "customer_request", "--outside-window", "--until", "2022-06-30"],
                        predicate: "m.reason = 'customer_request' AND m.outside_window = 1 AND m.scheduled_for <= '2022-06-30T00:00:00.000Z'"),
        ]
        if variant == .extended {
            cases += [
                HistoryCase(arguments: ["--app", "billing-app", "--emergency", "--method", "changeover"],
                            predicate: "a.app_id = (SELECT id FROM apps WHERE name = 'billing-app') AND m.emergency = 1 AND m.method = 'changeover'",
                            listsSomething: true),
                // With --addon, -a only says where the attachment or name is looked up.
                HistoryCase(arguments: ["--addon", HistoryFleet.redis, "--app", "reporting-app", "--status", "pending"],
                            predicate: "a.name = ? AND m.status = 'pending'", values: [HistoryFleet.redis], listsSomething: true),
            ]
        }
        return cases
    }

    @Test(arguments: HistoryFleet.Variant.allCases)
    func everyFilterListsExactlyWhatPlainSQLFinds(variant: HistoryFleet.Variant) throws {
        let sandbox = try HistoryFleet.sandbox(variant)
        let queue = try DatabaseQueue(path: sandbox.dbPath)
        let cases = try Self.cases(sandbox, variant)
        var listed = 0
        for item in cases {
            let expected = try queue.read { db in try String.fetchAll(db, sql: item.sql, arguments: item.values) }
            if variant == .extended && item.listsSomething {
                #expect(!expected.isEmpty, "the fleet has nothing for \(item); the comparison proves little")
            }
            listed += expected.count
            #expect(try HistoryProbe.uuids(sandbox, item.arguments, now: item.now) == expected, "\(item)")
        }
        #expect(cases.count > 80 && listed > 500, "\(cases.count) cases, \(listed) rows")
    }

    /// Answers that do not come from SQL written for the test: the counts of the simulator's
    /// summary line, and what the hand-recorded story fixes.
    @Test func theFleetsHoldWhatTheirStoriesSay() throws {
        let simulated = try HistoryFleet.sandbox(.simulated)
        #expect(try HistoryProbe.uuids(simulated, []).count == 23)
        #expect(try HistoryProbe.uuids(simulated, ["--status", "completed"]).count == 23)
        #expect(try HistoryProbe.uuids(simulated, ["--status", "pending"]).isEmpty)

        let sandbox = try HistoryFleet.sandbox()
        let m = try (1...6).map { try HistoryFleet.uuid("M\($0)") }
        #expect(try HistoryProbe.uuids(sandbox, ["--app", "billing-app", "--since", "2022-07-01"]) == [m[4], m[2], m[1], m[0]])
        // M4 has no time yet: it sorts after every dated maintenance, and before them ascending.
        #expect(try HistoryProbe.uuids(sandbox, ["--app", "billing-app"]).last == m[3])
        #expect(try HistoryProbe.uuids(sandbox, ["--app", "billing-app", "--order", "asc"]).first == m[3])
        // reporting-app: its own destroyed add-on, and redis-extra-10001 it had attached as CACHE_URL.
        #expect(try HistoryProbe.uuids(sandbox, ["--app", "reporting-app"]) == [m[5], m[1], m[0]])
        #expect(try HistoryProbe.uuids(sandbox, ["--emergency", "--since", "2022-07-01"]) == [m[4], m[2]])
        #expect(try HistoryProbe.uuids(sandbox, ["--emergency", "--outside-window", "--since", "2022-07-01"]) == [m[4]])
        #expect(try HistoryProbe.uuids(sandbox, ["--outside-window", "--since", "2022-07-01"]) == [m[5], m[4], m[0]])
        #expect(try HistoryProbe.uuids(sandbox, ["--reason", "hardware_issue"]) == [m[2]])
        #expect(try HistoryProbe.uuids(sandbox, ["--reason", "customer_request"]) == [m[0]])
        #expect(try HistoryProbe.uuids(sandbox, ["--status", "cancelled"]) == [m[5]])
        // Pending: M2, the two the engine left, and M4 without a time, last.
        let pending = try HistoryProbe.uuids(sandbox, ["--status", "pending"])
        #expect(pending.count == 4 && pending.contains(m[1]) && pending.last == m[3], "\(pending)")
        #expect(try HistoryProbe.uuids(sandbox, ["--time", "completed", "--since", "2022-07-01T10:04:10Z", "--until", "2022-07-02T03:15:30Z"])
                == [m[2], m[0]])
    }

    /// What `--ndjson` says of each hand-recorded maintenance: the flags, times and windows.
    @Test func emergenciesAndMaintenancesOutsideTheirWindowAreFlagged() throws {
        let sandbox = try HistoryFleet.sandbox()
        let result = try sandbox.run(["history", "--ndjson", "--since", "2022-07-01", "--order", "asc"])
        let objects = try HistoryProbe.ndjson(result.stdout)
        func flags(_ object: [String: Any]) -> String {
            ["status", "reason", "method", "scheduled_for", "previously_scheduled_for", "window", "started_at", "completed_at"]
                .map { object[$0] as? String ?? "-" }.joined(separator: " ")
                + " emergency=\(object["emergency"] as? Bool ?? false) outside=\(object["outside_window"] as? Bool ?? false)"
                + " customer=\(object["customer_requested"] as? Bool ?? false)"
        }
        let (m1, m2, m3, m5, m6) = (try HistoryFleet.uuid("M1"), try HistoryFleet.uuid("M2"), try HistoryFleet.uuid("M3"),
                                    try HistoryFleet.uuid("M5"), try HistoryFleet.uuid("M6"))
        let hand = objects.filter { [m1, m2, m3, m5, m6].contains($0["uuid"] as? String ?? "") }
        #expect(hand.map { $0["uuid"] as? String } == [m1, m2, m3, m5, m6])
        #expect(hand.map(flags) == [
            "completed customer_request failover 2022-07-01T10:00:00.000+00:00 - Fridays 18:00 to 22:00 UTC 2022-07-01T10:00:00.000+00:00 2022-07-01T10:04:10.000+00:00 emergency=false outside=true customer=true",
            "pending routine_maintenance failover 2022-07-02T02:00:00.000+00:00 2022-07-01T18:00:00.000+00:00 Saturdays 02:00 to 06:00 UTC - - emergency=false outside=false customer=false",
            "completed hardware_issue changeover 2022-07-02T03:00:00.000+00:00 - Saturdays 02:00 to 06:00 UTC 2022-07-02T03:10:00.000+00:00 2022-07-02T03:15:30.000+00:00 emergency=true outside=false customer=false",
            "failed routine_maintenance changeover 2022-07-05T09:00:00.000+00:00 - Saturdays 02:00 to 06:00 UTC 2022-07-05T09:10:00.000+00:00 - emergency=true outside=true customer=false",
            "cancelled routine_maintenance failover 2022-07-06T08:00:00.000+00:00 - Fridays 18:00 to 22:00 UTC - - emergency=false outside=true customer=false",
        ])
        #expect(result.stderr.isEmpty && result.exitCode == 0)
    }

    /// A small ledger built here: the only emergencies and out-of-window maintenances are the
    /// ones made for it, in the shapes the platform records them.
    @Test func handBuiltEmergenciesAndOutOfWindowMaintenances() throws {
        let (sandbox, uuids) = try SmallHistory.build()
        let (outside, emergencyOutside, inWindow, emergencyInside) = (uuids[0], uuids[1], uuids[2], uuids[3])
        #expect(try HistoryProbe.uuids(sandbox, []) == [emergencyInside, inWindow, emergencyOutside, outside])
        #expect(try HistoryProbe.uuids(sandbox, ["--emergency"]) == [emergencyInside, emergencyOutside])
        #expect(try HistoryProbe.uuids(sandbox, ["--outside-window"]) == [emergencyOutside, outside])
        #expect(try HistoryProbe.uuids(sandbox, ["--outside-window", "--emergency"]) == [emergencyOutside])
        #expect(try HistoryProbe.uuids(sandbox, ["--outside-window", "--order", "asc"]) == [outside, emergencyOutside])
        #expect(try HistoryProbe.uuids(sandbox, ["--emergency", "--status", "pending"]) == [emergencyInside])
        #expect(try HistoryProbe.uuids(sandbox, ["--emergency", "--time", "started"]) == [emergencyOutside, emergencyInside])
        #expect(try HistoryProbe.uuids(sandbox, ["--emergency", "--time", "started", "--since", "2023-01-01"]) == [emergencyOutside])
        #expect(try HistoryProbe.uuids(sandbox, ["--emergency", "--outside-window", "--app", "example-app", "--addon", "REDIS"]) == [emergencyOutside])
        #expect(try HistoryProbe.uuids(sandbox, ["--emergency", "--kind", "kafka"]).isEmpty)
        let objects = try HistoryProbe.ndjson(try sandbox.ok(["history", "--ndjson"]).stdout)
        #expect(objects.map { "\($0["emergency"] as? Bool ?? false)/\($0["outside_window"] as? Bool ?? false)" }
                == ["true/false", "false/false", "true/true", "false/true"])
        #expect(objects.map { $0["scheduled_for"] as? String } == ["2023-05-05T19:00:00.000+00:00", "2023-04-28T18:00:00.000+00:00",
                                                                  "2023-04-26T09:30:00.000+00:00", "2023-04-26T08:00:00.000+00:00"])
    }

    /// `--plan` names a tier (`premium`) or a plan (`premium-0`); other text matches no add-on,
    /// whatever characters it holds.
    @Test
    func aPlanWithPatternCharactersMatchesNothing() throws {
        let sandbox = try HistoryFleet.sandbox()
        for plan in ["*", "p*", "[ps]*", "?remium"] {
            #expect(try HistoryProbe.uuids(sandbox, ["--plan", plan]).isEmpty, "--plan \(plan)")
        }
    }

    /// A customer's own run has no deadline to miss (`data:maintenances:run` records required_by
    /// as the moment it starts, so every run that takes any time would count as completed late).
    @Test
    func aCustomersOwnRunIsNeverOverdue() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["data:maintenances:run", "REDIS_URL", "--confirm", "example-app"] + LedgerSandbox.exampleApp, now: "2023-04-24T10:00:00Z")
        try sandbox.ok(["platform:maintenances:complete", "REDIS_URL"] + LedgerSandbox.exampleApp, now: "2023-04-24T10:04:00Z")
        sandbox.now = "2023-05-01T00:00:00Z"
        #expect(try HistoryProbe.uuids(sandbox, ["--reason", "customer_request", "--status", "completed"]).count == 1)
        #expect(try HistoryProbe.uuids(sandbox, ["--overdue"]).isEmpty)
    }

    // MARK: refusals

    static let usage = "Usage: maintledger history <options>\n  See 'maintledger history --help' for more information.\n"

    /// Bad filters: one `Error:` line (with the hint or ArgumentParser's help and usage lines after
    /// it), the right exit code, nothing on stdout, and the ledger file untouched to the byte.
    @Test func badFiltersAreRefusedAndChangeNothing() throws {
        let sandbox = try HistoryFleet.sandbox()
        let refusals: [([String], String, Int32)] = [
            (["--since", "2022-03-01", "--until", "2022-02-01"],
             "Error: --since 2022-03-01T00:00:00.000+00:00 is after --until 2022-02-01T00:00:00.000+00:00\nSwap them.\n", 64),
            (["--since", "2022-03-01T00:00:00.001Z", "--until", "2022-03-01T00:00:00Z", "--time", "completed"],
             "Error: --since 2022-03-01T00:00:00.001+00:00 is after --until 2022-03-01T00:00:00.000+00:00\nSwap them.\n", 64),
            (["--app", "no-such-app"], "Error: Couldn't find that app: no-such-app\nCreate it with `maintledger apps:create no-such-app`.\n", 1),
            (["--addon", "redis-nope-00000"], "Error: Couldn't find that add-on: redis-nope-00000\nIf redis-nope-00000 is an attachment, name its app with -a APP.\n", 1),
            (["--addon", "NOPE_URL", "-a", "billing-app"],
             "Error: Couldn't find that add-on: NOPE_URL on billing-app\nRun `maintledger addons -a billing-app` to list its add-ons and attachments.\n", 1),
            (["--addon", "REDIS_URL"], "Error: Couldn't find that add-on: REDIS_URL\nIf REDIS_URL is an attachment, name its app with -a APP.\n", 1),
            (["--addon", HistoryFleet.postgres, "-a", "reporting-app"],
             "Error: postgresql-extra-10002 is not attached to reporting-app\nLeave out -a, or name the app it is attached to.\n", 1),
            (["--app", "no-such-app", "--addon", "REDIS"], "Error: Couldn't find that app: no-such-app\nCreate it with `maintledger apps:create no-such-app`.\n", 1),
            (["--limit", "0"], "Error: --limit must be at least 1\n" + Self.usage, 64),
            (["--since", "yesterday"], """
                Error: The value 'yesterday' is invalid for '--since <time>'
                Help:  --since <time>  Only maintenances whose chosen time is at or after this.

                """ + Self.usage, 64),
            (["--until", "2022-02-30"], """
                Error: The value '2022-02-30' is invalid for '--until <time>'
                Help:  --until <time>  Only maintenances whose chosen time is at or before this.

                """ + Self.usage, 64),
            (["--until", "2022-02-01T24:00:00Z"], """
                Error: The value '2022-02-01T24:00:00Z' is invalid for '--until <time>'
                Help:  --until <time>  Only maintenances whose chosen time is at or before this.

                """ + Self.usage, 64),
            (["--time", "whenever"], """
                Error: The value 'whenever' is invalid for '--time <time>'. Please provide one of 'scheduled', 'started' or 'completed'.
                Help:  --time <time>  The time that --since, --until and the order use: scheduled, started or completed.

                """ + Self.usage, 64),
            (["--order", "sideways"], """
                Error: The value 'sideways' is invalid for '--order <order>'. Please provide one of 'asc' and 'desc'.
                Help:  --order <order>  desc (newest first) or asc.

                """ + Self.usage, 64),
            (["--kind", "mysql"], """
                Error: The value 'mysql' is invalid for '--kind <kind>'. Please provide one of 'heroku-redis', 'heroku-postgresql' or 'heroku-kafka'.
                Help:  --kind <kind>  redis, postgresql or kafka.

                """ + Self.usage, 64),
            (["--reason", "because"], """
                Error: The value 'because' is invalid for '--reason <reason>'. Please provide one of 'routine_maintenance', 'customer_request' or 'hardware_issue'.
                Help:  --reason <reason>  routine_maintenance, customer_request or hardware_issue.

                """ + Self.usage, 64),
            (["--method", "reboot"], """
                Error: The value 'reboot' is invalid for '--method <method>'. Please provide one of 'failover', 'changeover' or 'rolling_restart'.
                Help:  --method <method>  failover, changeover or rolling_restart.

                """ + Self.usage, 64),
            (["--json", "--csv"], "Error: choose one of --json, --ndjson and --csv\n" + Self.usage, 64),
            (["--as-of", "2023-01-01T00:00:00.001Z"], """
                Error: --as-of 2023-01-01T00:00:00.001+00:00 is in the future (now is 2023-01-01T00:00:00.000+00:00)
                --as-of asks what the ledger held at a past moment.

                """, 1),
        ]
        let bytes = try LedgerSandbox.bytes(sandbox.dbPath)
        for (arguments, stderr, exitCode) in refusals {
            for format in [[], ["--ndjson"]] where !(arguments.contains("--json") && !format.isEmpty) {
                try sandbox.expectRefusal(["history"] + arguments + format, stderr: stderr, exitCode: exitCode)
            }
            Self.expectOneErrorLine(stderr, "\(arguments)")
        }
        // The usage errors ArgumentParser words itself.
        for arguments in [["--limit", "-1"], ["--limit", "many"], ["--status"], ["--outside-window", "yes"], ["--emergency=1"]] {
            try sandbox.expectUsageError(["history"] + arguments)
        }
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == bytes, "a refused history changed the ledger file")
        #expect(!FileManager.default.fileExists(atPath: sandbox.dbPath + "-wal"))
    }

    /// An unknown `--status` is refused like the other enumerations: exit 64, nothing changed.
    @Test func anUnknownStatusIsAUsageError() throws {
        let sandbox = try HistoryFleet.sandbox()
        let bytes = try LedgerSandbox.bytes(sandbox.dbPath)
        try sandbox.expectUsageError(["history", "--status", "done"])
        let result = try sandbox.run(["history", "--status", "done"])
        #expect(result.stderr.hasPrefix("Error: The value 'done' is invalid for '--status <status>'"), "\(result)")
        #expect(result.stderr.contains("Help:  --status <status>  pending, preparing, ready, running, completed, failed or cancelled.\n"))
        #expect(result.stderr.hasSuffix(Self.usage))
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == bytes)
    }

    /// The README: "Errors are one line, `Error: …`, often followed by a line that names the fix."
    /// An unknown status is one error line; the Help line after it names the allowed values.
    @Test func anUnknownStatusIsAOneLineError() throws {
        let sandbox = try HistoryFleet.sandbox()
        let result = try sandbox.run(["history", "--status", "done"])
        #expect(result.exitCode == 64)
        Self.expectOneErrorLine(result.stderr, "--status done")
    }

    /// The first line is the error; what follows is a hint, or ArgumentParser's Help/Usage lines.
    static func expectOneErrorLine(_ stderr: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.first?.hasPrefix("Error: ") == true, "\(label): \(stderr)", sourceLocation: sourceLocation)
        let rest = lines.dropFirst()
        let usage = rest.allSatisfy { $0.hasPrefix("Help:  ") || $0.hasPrefix("Usage: ") || $0.hasPrefix("  See '") || $0.isEmpty }
        #expect(usage || rest.count <= 1, "\(label): more than one error line: \(stderr)", sourceLocation: sourceLocation)
        #expect(!rest.contains { $0.hasPrefix("Error") || $0.hasPrefix("  - ") }, "\(label): \(stderr)", sourceLocation: sourceLocation)
    }

    /// Reading never writes: a refused or successful `history` leaves the file's bytes alone, and
    /// a missing ledger is not created.
    @Test func historyOnlyReads() throws {
        let sandbox = try HistoryFleet.sandbox()
        let bytes = try LedgerSandbox.bytes(sandbox.dbPath)
        let before = try sandbox.snapshot()
        for arguments in [["history"], ["history", "--json", "--overdue"], ["history", "--csv", "--as-of", "2022-03-01"]] {
            try sandbox.ok(arguments)
        }
        #expect(try sandbox.snapshot() == before)
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == bytes)

        let empty = try LedgerSandbox()
        let missing = empty.folder.appendingPathComponent("none/ledger.sqlite").path
        let result = try empty.run(["history", "--db", missing], useDB: false)
        #expect(result == RunResult(stdout: "", stderr: "Error: no ledger at \(missing)\n" + LedgerLocationTests.noLedgerHint, exitCode: 1))
        #expect(try empty.folderContents().isEmpty)
    }
}

/// The small ledger of the hand-built emergency tests: `example-app`'s `redis-lively-12345`
/// (premium-0, Fridays 18:00 to 22:00), clock from Monday 2023-04-24:
///
///     0  required 04-24 09:00 by Wed 04-26 12:00: no Friday fits, so the latest slot 04-26 08:00,
///        outside the window; ran 08:01–08:05 (240 s)
///     1  emergency required Wed 04-26 09:30 (recorded at 10:00 with --at): outside the window;
///        ran 09:35–09:40 (300 s)
///     2  required 04-27 09:00 by 05-03 08:54:02.518: Fri 04-28 18:00 in the window; ran
///        18:01:14.191–18:04:21.141 (186 s)
///     3  emergency required Fri 05-05 19:00 (recorded 19:30): inside the window; still pending
///
/// The clock then stands at 2023-05-05 20:00.
enum SmallHistory {
    static func build() throws -> (LedgerSandbox, [String]) {
        let sandbox = try Fixture.exampleApp()
        var uuids: [String] = []
        func require(now: String, _ arguments: String...) throws {
            uuids.append(String(try sandbox.ok(["platform:maintenances:require", "REDIS_URL", "-a", "example-app"] + arguments, now: now).stdout.dropLast()))
        }
        func step(_ change: String, at time: String, now: String) throws {
            try sandbox.ok(["platform:maintenances:\(change)", Fixture.addon, "--at", time], now: now)
        }
        try require(now: "2023-04-24T09:00:00Z", "--required-by", "2023-04-26T12:00:00Z")
        try step("start", at: "2023-04-26T08:01:00Z", now: "2023-04-26T09:00:00Z")
        try step("complete", at: "2023-04-26T08:05:00Z", now: "2023-04-26T09:00:00Z")
        try require(now: "2023-04-26T10:00:00Z", "--required-by", "2023-05-01T00:00:00Z", "--emergency", "--at", "2023-04-26T09:30:00Z")
        try step("start", at: "2023-04-26T09:35:00Z", now: "2023-04-26T10:00:00Z")
        try step("complete", at: "2023-04-26T09:40:00Z", now: "2023-04-26T10:00:00Z")
        try require(now: "2023-04-27T09:00:00Z", "--required-by", Fixture.requiredBy)
        try step("start", at: "2023-04-28T18:01:14.191Z", now: "2023-04-28T19:00:00Z")
        try step("complete", at: "2023-04-28T18:04:21.141Z", now: "2023-04-28T19:00:00Z")
        try require(now: "2023-05-05T19:30:00Z", "--required-by", "2023-05-10T00:00:00Z", "--emergency", "--at", "2023-05-05T19:00:00Z")
        sandbox.now = "2023-05-05T20:00:00Z"
        return (sandbox, uuids)
    }
}
