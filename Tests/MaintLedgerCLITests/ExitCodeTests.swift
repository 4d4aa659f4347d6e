import Foundation
import GRDB
import Testing

/// Each kind of failure has its own exit code, so that a scheduled job can tell "retry" (75)
/// from "the rules refused" (1), bad data (65) and lost output (74).
@Suite struct ExitCodeTests {
    /// Output that cannot be written was lost with exit 0 (history alone said so).
    @Test(arguments: [
        ["audit:verify"], ["data:maintenances:info", Fixture.addon, "--json"], ["data:maintenances:window", Fixture.addon],
        ["platform:maintenances:require", Fixture.addon, "--required-by", "2023-05-30T00:00:00Z"], ["history", "--json"],
    ])
    func outputThatCannotBeWrittenIsAnError(arguments: [String]) throws {
        let sandbox = try Fixture.exampleApp()
        let command = arguments.map { "'\($0)'" }.joined(separator: " ")
        let result = try sandbox.shell("\"$BIN\" \(command) --db \"$DB\" >/dev/full")
        #expect(result.exitCode == 74, "\(result)")
        #expect(result.stderr.hasSuffix("Error: cannot write the output: No space left on device\n"), "\(result)")
    }

    /// A ledger another process holds past the busy timeout (10 s) is worth retrying.
    @Test func aLedgerLockedPastTheBusyTimeoutIsExit75() throws {
        let sandbox = try Fixture.exampleApp()
        let holder = try DatabaseQueue(path: sandbox.dbPath)
        try holder.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try sandbox.expectRefusal(["apps:create", "other-app"], stderr: """
                Error: the ledger stayed locked by another process for 10 s
                Try again; nothing was recorded (exit 75 means it is worth retrying).

                """, exitCode: 75)
            try db.execute(sql: "ROLLBACK")
        }
    }
}
