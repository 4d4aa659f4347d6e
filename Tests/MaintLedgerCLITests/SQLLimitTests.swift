import Foundation
import Testing

/// `sql` is bounded: a query without end is stopped at `--timeout` (30 s unless given), and one
/// returning too many rows at `--max-rows`, each with exit 4. (A recursive CTE without end ran
/// until someone killed it.)
@Suite struct SQLLimitTests {
    static let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"

    @Test func aQueryWithoutEndIsStoppedAtItsTimeout() throws {
        let sandbox = try Fixture.exampleApp()
        try sandbox.expectRefusal(["sql", Self.endless, "--timeout", "0.5"], stderr: """
            Error: the query ran past its --timeout of 0.5 s
            Narrow the query, or give it a longer --timeout.

            """, exitCode: 4)
    }

    @Test func aQueryReturningMoreRowsThanAllowedIsStopped() throws {
        let sandbox = try Fixture.exampleApp()
        let five = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n"
        try sandbox.expectRefusal(["sql", five, "--max-rows", "4", "--csv"], stderr: """
            Error: the query returns more than 4 rows (--max-rows)
            Narrow the query, or raise --max-rows.

            """, exitCode: 4)
        #expect(try sandbox.run(["sql", five, "--max-rows", "5", "--csv"]) == RunResult(stdout: "i\r\n1\r\n2\r\n3\r\n4\r\n5\r\n", stderr: "", exitCode: 0))
    }

    @Test(arguments: [["--timeout", "0"], ["--timeout", "nan"], ["--max-rows", "0"]])
    func limitsThatAreNoLimitAreUsageErrors(arguments: [String]) throws {
        let sandbox = try Fixture.exampleApp()
        let result = try sandbox.run(["sql", "SELECT 1"] + arguments)
        #expect(result.exitCode == 64 && result.stdout.isEmpty, "\(result)")
    }
}
