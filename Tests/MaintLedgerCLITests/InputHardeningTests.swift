import Foundation
import GRDB
import Testing

/// Input that crashed the process or forged lines of output (the red team's reproductions):
/// each is now a one-line refusal that changes nothing, or written out harmlessly.
@Suite struct InputHardeningTests {
    /// A week count past what the clock holds trapped in the arithmetic (signal 4).
    @Test(arguments: ["15250284452", "-15250284452", "1001", "-1001", "9223372036854775807", "-9223372036854775808"])
    func aWeekCountOutOfRangeIsRefused(weeks: String) throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.expectRefusal(["data:maintenances:schedule", Fixture.addon, "--weeks", weeks], stderr: """
            Error: --weeks \(weeks) is out of range
            Move it by at most 1000 weeks either way.

            """, exitCode: 64)
    }

    @Test func aDayCountOutOfRangeIsRefused() throws {
        let sandbox = try LedgerSandbox()
        try sandbox.expectRefusal(["simulate", "--apps", "1", "--days", "99999999999999"], stderr: """
            Error: --days must be at most 36500 (a hundred years)
            Usage: maintledger simulate --apps <apps> --days <days> [--start <yyyy-mm-dd>] [--seed <seed>] [--failure-rate <failure-rate>] [--db <path>]
              See 'maintledger simulate --help' for more information.

            """, exitCode: 64)
        #expect(!FileManager.default.fileExists(atPath: sandbox.dbPath))
    }

    /// A message that cannot be written does not turn a write that committed into a crash
    /// (Foundation's FileHandle stopped the process: exit 132).
    @Test(arguments: ["2>/dev/full", "2>&-"])
    func anUnwritableStderrDoesNotCrashACommittedWrite(redirection: String) throws {
        let sandbox = try LedgerSandbox()
        #expect(try sandbox.shell("\"$BIN\" apps:create example-app --db \"$DB\" \(redirection)").exitCode == 0)
        #expect(try sandbox.snapshot()["apps"] == 1)
        _ = try sandbox.expectVerifies()
    }

    /// The trail names who acted in every listing: a line break there forged a line, and a
    /// bidirectional override reorders what a terminal shows. Each is refused, written out.
    @Test(arguments: [("ops\nseq 999 forged line", #"ops\nseq 999 forged line"#), ("ops\u{202E}nimda", #"ops\u{202E}nimda"#)])
    func anActorWithAControlCharacterIsRefused(actor: String, shown: String) throws {
        let sandbox = try LedgerSandbox()
        sandbox.actor = actor
        try sandbox.expectRefusal(["apps:create", "example-app"], stderr: """
            Error: the actor '\(shown)' holds a control character
            Set MAINTLEDGER_ACTOR (or USER) to a plain name.

            """, exitCode: 64)
        #expect(!FileManager.default.fileExists(atPath: sandbox.dbPath))
    }

    /// What users type may hold anything; tables and blocks write its control characters out.
    @Test func aDescriptionWithControlCharactersIsWrittenOutInTablesAndBlocks() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.ok(["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", "redis-quoted-1",
                        "--description", "premium\nseq 999 forged\u{1B}[31m"])
        let info = try sandbox.ok(["data:maintenances:info", "redis-quoted-1"]).stdout
        #expect(info.contains("addon_description: premium\\nseq 999 forged\\u{1B}[31m\n"), "\(info)")
        #expect(!info.contains("\u{1B}") && !info.contains("\nseq 999"))
        // JSON keeps the value itself, escaped as JSON escapes it.
        #expect(try sandbox.infoJSON("redis-quoted-1")["addon_description"] as? String == "premium\nseq 999 forged\u{1B}[31m")
    }

    @Test func aTimeoutThatIsNoNumberIsAUsageError() throws {
        let sandbox = try Fixture.pendingMaintenance()
        try sandbox.expectRefusal(["data:maintenances:wait", Fixture.addon, "--timeout", "nan"], stderr: """
            Error: --timeout must be a number of seconds more than 0
            Usage: maintledger data:maintenances:wait <addon> [--app <app>] [--timeout <timeout>] [--db <path>]
              See 'maintledger data:maintenances:wait --help' for more information.

            """, exitCode: 64)
    }

    /// A folder read as an empty file: "Imported 0 lines", exit 0.
    @Test func importingAFolderIsRefused() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["import", sandbox.folder.path], stderr: """
            Error: \(sandbox.folder.path) is a folder
            Give a file, or - for standard input.

            """, exitCode: 64)
    }

    /// A size of twenty digits was recorded as a plan.
    @Test func aPlanSizeOutOfRangeIsRefused() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["addons:create", "heroku-redis:premium-99999999999999999999", "-a", "example-app"], stderr: """
            Error: plan 'premium-99999999999999999999' has no such size
            Sizes are whole numbers below 1000, as in premium-0.

            """, exitCode: 64)
    }

    /// The seed's completed maintenance, as `history --ndjson` prints it.
    static func seedLine() throws -> String {
        let source = try Fixture.seedExample()
        return try #require(try source.ok(["history", "--ndjson"]).stdout.split(separator: "\n").first.map(String.init))
    }

    /// An import names what happened; it cannot have happened after now.
    @Test func anImportedCompletionInTheFutureIsRefused() throws {
        let line = try Self.seedLine().replacingOccurrences(of: "\"completed_at\":\"2023-04-28T18:04:21.141+00:00\"",
                                                             with: "\"completed_at\":\"2099-01-01T00:00:00.000+00:00\"")
        #expect(line.contains("2099-01-01"))
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-04-28T18:10:00Z"
        let file = sandbox.folder.appendingPathComponent("future.ndjson").path
        try (line + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        try sandbox.expectRefusal(["import", file], stderr: """
            Error: line 1 of \(file): completed_at 2099-01-01T00:00:00.000+00:00 is in the future (now is 2023-04-28T18:10:00.000+00:00)
            Nothing from \(file) was imported; fix that line and import the file again.

            """, exitCode: 65)
    }

    /// An object naming a key twice: the first value silently won.
    @Test func anImportedObjectWithAKeyTwiceIsRefused() throws {
        let line = try Self.seedLine().replacingOccurrences(of: "{\"addon\":", with: "{\"status\":\"pending\",\"addon\":")
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-04-28T18:10:00Z"
        let file = sandbox.folder.appendingPathComponent("twice.ndjson").path
        try (line + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        try sandbox.expectRefusal(["import", file], stderr: """
            Error: line 1 of \(file): the key 'status' appears twice
            Nothing from \(file) was imported; fix that line and import the file again.

            """, exitCode: 65)
    }

    /// A ledger written before actors were checked may hold one with a line break: every table
    /// writes it out on its one line.
    @Test func tablesWriteOutAControlCharacterAlreadyInTheLedger() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.tamper("UPDATE windows SET set_by = 'ops' || char(10) || 'seq 999 forged' || char(27) || '[31m'")
        let windows = try sandbox.ok(["audit:windows"]).stdout
        #expect(windows.contains(" ops\\nseq 999 forged\\u{1B}[31m "), "\(windows)")
        #expect(!windows.contains("\u{1B}") && windows.split(separator: "\n").count == 4, "\(windows)")
    }
}
