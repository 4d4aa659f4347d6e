import Foundation
import Testing

/// What users of the `heroku` CLI expect of any command line tool: `--version`, the app from
/// the environment.
@Suite struct CLIConventionsTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized

    @Test func versionPrintsTheVersionTheReadmeShows() throws {
        let sandbox = try LedgerSandbox()
        let result = try sandbox.ok(["--version"], useDB: false)
        #expect(result.stderr.isEmpty)
        let readme = try String(contentsOf: Self.readme, encoding: .utf8)
        let shown = try #require(readme.firstMatch(of: /\n\$ maintledger --version\n([^\n]*\n)/), "README.md shows no `$ maintledger --version`")
        #expect(result.stdout == String(shown.1))
        #expect(result.stdout.wholeMatch(of: /\d+\.\d+\.\d+\n/) != nil, "\(result)")
        #expect(try sandbox.snapshot().isEmpty, "--version created a ledger")
    }

    @Test func theAppComesFromMaintledgerAppElseHerokuApp() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        try sandbox.ok(["apps:create", "other-app"])
        let named = try sandbox.ok(["data:maintenances"] + LedgerSandbox.exampleApp).stdout
        #expect(named.contains("redis-lively-12345"))
        #expect(try sandbox.ok(["data:maintenances"], environment: ["HEROKU_APP": "example-app"]).stdout == named)
        #expect(try sandbox.ok(["data:maintenances"], environment: ["MAINTLEDGER_APP": "example-app"]).stdout == named)
        // MAINTLEDGER_APP before HEROKU_APP, and -a before both; an empty variable is unset.
        #expect(try sandbox.ok(["data:maintenances"], environment: ["MAINTLEDGER_APP": "example-app", "HEROKU_APP": "other-app"]).stdout == named)
        #expect(try sandbox.ok(["data:maintenances"], environment: ["MAINTLEDGER_APP": "", "HEROKU_APP": "example-app"]).stdout == named)
        #expect(try sandbox.ok(["data:maintenances"] + LedgerSandbox.exampleApp, environment: ["MAINTLEDGER_APP": "other-app"]).stdout == named)
        // An optional -a is supplied too: `addons` lists the app's add-ons only.
        #expect(try sandbox.ok(["addons"], environment: ["HEROKU_APP": "example-app"]).stdout
                == sandbox.ok(["addons"] + LedgerSandbox.exampleApp).stdout)
        // A recording command records for the app the environment names.
        try sandbox.ok(["maintenance:on"], environment: ["MAINTLEDGER_APP": "other-app"])
        #expect(try sandbox.ok(["maintenance", "-a", "other-app"]).stdout == "on\n")
        #expect(try sandbox.ok(["maintenance"] + LedgerSandbox.exampleApp).stdout == "off\n")
    }

    @Test func withoutAppOrVariableTheAppIsMissing() throws {
        let sandbox = try Fixture.exampleApp()
        for environment in [[:], ["MAINTLEDGER_APP": "", "HEROKU_APP": ""]] {
            let before = try sandbox.snapshot()
            let result = try sandbox.run(["maintenance:on"], environment: environment)
            #expect(result.exitCode == 64 && result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.hasPrefix("Error: Missing expected argument '--app <app>' (or set MAINTLEDGER_APP)\n"), "\(result)")
            #expect(try sandbox.snapshot() == before)
        }
        let before = try sandbox.snapshot()
        #expect(try sandbox.run(["maintenance:on"], environment: ["HEROKU_APP": "nope"])
                == RunResult(stdout: "", stderr: "Error: Couldn't find that app: nope\nCreate it with `maintledger apps:create nope`.\n", exitCode: 1))
        #expect(try sandbox.snapshot() == before)
    }
}

/// Tables fit the terminal and take heroku's table flags; statuses and verdicts are coloured on
/// a terminal only. The terminal is a real one: tmux's, 60 columns wide.
@Suite(.enabled(if: InteractiveShell.toolsInstalled, "tmux is not installed; the terminal tests are skipped"))
struct TerminalOutputTests {
    /// What `maintledger ARGS` shows on a 60-column terminal, escape sequences included.
    static func onTerminal(_ sandbox: LedgerSandbox, _ arguments: String, environment: String = "") throws -> [String] {
        let session = try InteractiveShell("bash", width: 60)
        defer { session.close() }
        return try session.run("MAINTLEDGER_DB=\(sandbox.dbPath) MAINTLEDGER_NOW=\(sandbox.now) \(environment) maintledger \(arguments)")
    }

    @Test func tablesFitTheTerminalAndStayWholeInAPipe() throws {
        let sandbox = try Fixture.seedExample()
        let piped = try sandbox.ok(["data:maintenances", "-a", "example-app", "-x"]).stdout
        #expect(piped.split(separator: "\n").contains { $0.count > 60 }, "the fixture's table must be wider than the terminal")
        let shown = try Self.onTerminal(sandbox, "data:maintenances -a example-app -x", environment: "NO_COLOR=1")
        #expect(shown.count == 3 && shown.allSatisfy { $0.count <= 60 }, "\(shown)")
        #expect(shown[2].contains("…"))
        #expect(shown[0].hasPrefix(" Addon ") && shown[2].hasPrefix(" redis"), "\(shown)")
        // --no-truncate prints the piped table; COLUMNS, when set, is the width.
        #expect(try Self.onTerminal(sandbox, "data:maintenances -a example-app -x --no-truncate", environment: "NO_COLOR=1")
                == piped.split(separator: "\n").map(String.init))
        #expect(try Self.onTerminal(sandbox, "data:maintenances -a example-app -x", environment: "NO_COLOR=1 COLUMNS=200")
                == piped.split(separator: "\n").map(String.init))
    }

    @Test func statusesAndVerdictsAreColouredOnATerminalOnly() throws {
        let sandbox = try Fixture.seedExample()
        let info = try Self.onTerminal(sandbox, "data:maintenances:info REDIS_URL -a example-app")
        #expect(info.contains("status:               \u{1B}[32mcompleted"), "\(info)")
        let verdict = try Self.onTerminal(sandbox, "audit:verify")
        // The progress bar (on stderr), then the verdict.
        #expect(verdict.count == 2 && verdict[0] == "verify [##############################] 6/6 entries"
                && verdict[1].hasPrefix("\u{1B}[32mok\u{1B}[39m: 6 entries verified"), "\(verdict)")
        let table = try Self.onTerminal(sandbox, "data:maintenances -a example-app --columns addon,status")
        #expect(table.last == " redis-lively-12345 \u{1B}[32mcompleted", "\(table)")
        // NO_COLOR (any value but empty) turns colour off; a pipe never gets it.
        #expect(try Self.onTerminal(sandbox, "audit:verify", environment: "NO_COLOR=1").allSatisfy { !$0.contains("\u{1B}") })
        #expect(try Self.onTerminal(sandbox, "audit:verify", environment: "NO_COLOR=").last?.hasPrefix("\u{1B}[32mok") == true)
        let piped = try sandbox.ok(["data:maintenances:info", "REDIS_URL", "-a", "example-app"]).stdout + sandbox.ok(["audit:verify"]).stdout
        #expect(!piped.contains("\u{1B}"))
        // An error is never coloured, on a terminal either.
        #expect(try Self.onTerminal(sandbox, "maintenance -a nope") == ["Error: Couldn't find that app: nope", "Create it with `maintledger apps:create nope`."])
    }

    @Test func columnsSortAndNoHeaderShapeTablesAndCSV() throws {
        let sandbox = try Fixture.withPlansWithoutWindows()
        #expect(try sandbox.ok(["addons", "--columns", "Add-on,plan", "--sort=-add-on", "--no-header"]).stdout == """
             redis-mini-11111           heroku-redis:mini
             redis-lively-12345         heroku-redis:premium-0
             postgresql-essential-22222 heroku-postgresql:essential-0
             kafka-basic-33333          heroku-kafka:basic-0

            """)
        let csv = try sandbox.ok(["addons", "--csv", "--columns", "plan", "--sort", "plan"]).stdout
        #expect(csv == "Plan\r\nheroku-kafka:basic-0\r\nheroku-postgresql:essential-0\r\nheroku-redis:mini\r\nheroku-redis:premium-0\r\n")
        try sandbox.expectRefusal(["addons", "--columns", "add-on,bogus"], stderr: "Error: there is no column 'bogus'\nThe columns: Add-on, Plan, Owning app, Attachments, Window, State.\n", exitCode: 64)
        try sandbox.expectRefusal(["addons", "--sort", "bogus"], stderr: "Error: there is no column 'bogus'\nThe columns: Add-on, Plan, Owning app, Attachments, Window, State.\n", exitCode: 64)
        try sandbox.expectUsageError(["addons", "--columns", ","])
        try sandbox.expectUsageError(["addons", "--sort", "-"])
    }
}
