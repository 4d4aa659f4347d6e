import Foundation
import GRDB
import Testing

/// `export`, `audit:verify`, `backup` and `rebuild` draw a bar on stderr when it is a terminal
/// (`script` gives the command one), and print after it what they print elsewhere; with stderr
/// a pipe, not a byte more (as every other test of these commands also holds them to).
@Suite struct ProgressBarTests {
    /// Runs `shown` on a terminal: it must show a line of bar draws for each of `bars`, in order
    /// (label, and the text of the full bar that ends it), then exactly `printed` (stderr's lines,
    /// then stdout's). Runs `piped` with its output piped: its stderr must be `stderr` exactly.
    private static func expectBars(_ sandbox: LedgerSandbox, _ bars: [(label: String, full: String)], shown: String, printed: String,
                                   piped: String, stderr: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let inFolder = "cd '\(sandbox.folder.path)' && " // the paths below are in the sandbox's folder
        let terminal = try sandbox.shell(inFolder + "NO_COLOR=1 script -qec \"\(shown)\" /dev/null")
        #expect(terminal.exitCode == 0, sourceLocation: sourceLocation)
        let lines = terminal.stdout.components(separatedBy: "\r\n")
        for (line, bar) in zip(lines, bars) {
            let draws = line.split(separator: "\r", omittingEmptySubsequences: false)
            #expect(draws.count > 1 && draws.first == "" && draws.dropFirst().allSatisfy { $0.hasPrefix("\(bar.label) [") }
                    && draws.last == "\(bar.label) [##############################] \(bar.full)", "\(line.debugDescription)", sourceLocation: sourceLocation)
        }
        #expect(lines.dropFirst(bars.count).joined(separator: "\n") == printed, sourceLocation: sourceLocation)
        let pipe = try sandbox.shell(inFolder + "\(piped) 2>&1 >/dev/null")
        #expect(pipe.stdout == stderr && pipe.exitCode == 0, sourceLocation: sourceLocation)
    }

    @Test func export() throws {
        let sandbox = try Fixture.seedExample()
        for folder in ["shown", "piped"] {
            try FileManager.default.createDirectory(at: sandbox.folder.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try Self.expectBars(sandbox, [("export", "6/6 rows")], shown: "$BIN export --entity trail --to shown --db $DB",
                           printed: "Exported 6 trail rows covering seq 1 to 6\nshown/trail-000000000001-000000000006.ndjson\n",
                           piped: "$BIN export --entity trail --to piped --db $DB", stderr: "Exported 6 trail rows covering seq 1 to 6\n")
    }

    @Test func verify() throws {
        let sandbox = try Fixture.seedExample()
        let verdict = try sandbox.ok(["audit:verify"]).stdout
        try Self.expectBars(sandbox, [("verify", "6/6 entries")], shown: "$BIN audit:verify --db $DB", printed: verdict,
                           piped: "$BIN audit:verify --db $DB", stderr: "")
    }

    /// Two bars: the pages copied, then the copy's entries verified.
    @Test func backup() throws {
        let sandbox = try Fixture.seedExample()
        let verdict = try sandbox.ok(["audit:verify"]).stdout
        let pages = try DatabaseQueue(path: sandbox.dbPath).read { try Int.fetchOne($0, sql: "PRAGMA page_count")! }
        try Self.expectBars(sandbox, [("backup", "\(pages)/\(pages) pages"), ("verify", "6/6 entries")], shown: "$BIN backup --to shown.sqlite --db $DB",
                            printed: "Backing up \(sandbox.dbPath) to shown.sqlite... done\n" + verdict,
                            piped: "$BIN backup --to piped.sqlite --db $DB", stderr: "Backing up \(sandbox.dbPath) to piped.sqlite... done\n")
    }

    @Test func rebuild() throws {
        let sandbox = try Fixture.seedExample()
        let trail = try sandbox.ok(["audit:trail", "--ndjson"]).stdout
        try trail.write(to: sandbox.folder.appendingPathComponent("trail.ndjson"), atomically: true, encoding: .utf8)
        let head = try sandbox.ok(["audit:verify"]).stdout.components(separatedBy: "head ").last!
        try Self.expectBars(sandbox, [("rebuild", "100%")], shown: "$BIN rebuild --from trail.ndjson --to shown.sqlite",
                           printed: "rebuilt shown.sqlite: 6 entries from 1 file, head \(head)",
                           piped: "$BIN rebuild --from trail.ndjson --to piped.sqlite", stderr: "")
    }
}
