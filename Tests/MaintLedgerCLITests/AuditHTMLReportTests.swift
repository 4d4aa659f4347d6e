import Foundation
import GRDB
import Testing

// `audit:report --to FILE.html`, end to end through the binary: the page's figures are the
// ones `audit:compliance --json` gives for the same ledger, period and moment; ledger strings
// are escaped; the page asks for nothing outside itself; and bad input leaves nothing at --to.
// (The page in a real browser: bench/report_browser.py, which CI runs.)

@Suite struct AuditHTMLReportTests {
    /// The `data-*` attributes of each row of the page's table `id`, by the JSON key they carry.
    static func rows(_ html: String, table id: String) throws -> [[String: String]] {
        let start = try #require(html.range(of: "<table id=\"\(id)\">"), "no table \(id)")
        let end = try #require(html.range(of: "</table>", range: start.upperBound..<html.endIndex))
        let body = String(html[start.upperBound..<end.lowerBound])
        let row = try Regex("<tr ?([^>]*data-[^>]*)>")
        let attribute = try Regex(#"data-([a-z0-9-]+)="([^"]*)""#)
        return body.matches(of: row).map { match in
            var values: [String: String] = [:]
            for pair in String(match.output[1].substring!).matches(of: attribute) {
                values[String(pair.output[1].substring!).replacingOccurrences(of: "-", with: "_")] = unescaped(String(pair.output[2].substring!))
            }
            return values
        }
    }

    static func unescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Whether a row of the page carries exactly the figures of a row of `audit:compliance --json`.
    static func agree(_ page: [String: String], _ json: [String: Any]) -> Bool {
        json.allSatisfy { key, value in
            guard let text = page[key] else { return false }
            switch value {
            case is NSNull: return text == "null"
            case let string as String: return text == string
            case let number as NSNumber: return Double(text) == number.doubleValue
            default: return false
            }
        }
    }

    static func expectAgreement(_ sandbox: LedgerSandbox, _ html: String, table: String, _ arguments: [String],
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try ReportFormats.json(try sandbox.ok(["audit:compliance", "--json"] + arguments).stdout)
        let page = try rows(html, table: table)
        #expect(page.count == expected.count, "\(table): \(page) against \(expected)", sourceLocation: sourceLocation)
        for (row, json) in zip(page, expected) {
            #expect(agree(row, json), "\(table): \(row) against \(json)", sourceLocation: sourceLocation)
        }
    }

    static func target(_ sandbox: LedgerSandbox) throws -> String {
        let folder = sandbox.folder.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("audit.html").path
    }

    static func reportFolder(_ sandbox: LedgerSandbox) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: sandbox.folder.appendingPathComponent("reports").path).sorted()
    }

    @Test(arguments: [[], ["--since", "2023-02-01T00:00:00Z", "--until", "2023-05-01T00:00:00Z", "--as-of", "2023-05-10T00:00:00Z"]])
    func thePageCarriesTheFiguresOfAuditCompliance(_ period: [String]) throws {
        let sandbox = try AuditFleet.sandbox()
        let file = try Self.target(sandbox)
        let result = try sandbox.run(["audit:report", "--to", file] + period)
        let verdict = try sandbox.ok(["audit:verify"]).stdout
        #expect(result.exitCode == 0 && result.stdout == verdict, "\(result)")
        #expect(result.stderr.hasPrefix("Wrote the report to \(file) (") && result.stderr.hasSuffix(" KiB)\n"), "\(result)")
        #expect(try Self.reportFolder(sandbox) == ["audit.html"]) // no temporary file left
        let html = try String(contentsOfFile: file, encoding: .utf8)

        let asOf = period.firstIndex(of: "--as-of").map { Array(period[$0...]) } ?? []
        try Self.expectAgreement(sandbox, html, table: "compliance-overall", period)
        try Self.expectAgreement(sandbox, html, table: "compliance-by-plan", period + ["--by", "plan"])
        let months = try Self.rows(html, table: "compliance-by-month").map { try #require($0["month"]) }
        #expect(months == (period.isEmpty ? ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05"] : ["2023-02", "2023-03", "2023-04"]))
        for (index, month) in months.enumerated() {
            let next = "2023-0\(Int(month.suffix(1))! + 1)" // the months are 2023-01 … 2023-05
            let expected = try ReportFormats.json(try sandbox.ok(["audit:compliance", "--json", "--since", month + "-01T00:00:00Z",
                                                                  "--until", next + "-01T00:00:00Z"] + asOf).stdout)
            #expect(Self.agree(try Self.rows(html, table: "compliance-by-month")[index], expected[0]), "\(month)")
        }
        // The verdict, and the counts of audit:overdue and audit:windows.
        let head = try #require(verdict.split(separator: " ").last).dropLast()
        #expect(html.contains("data-head=\"\(head)\""))
        let entries = try #require(verdict.split(separator: " ").dropFirst().first)
        let state = "the ledger as it stood when the report was generated (entry \(entries) its head)"
        #expect(html.contains(period.isEmpty ? "<p id=\"state\">One committed state: the verdict and every figure on this page are of \(state).</p>"
                                             : "<p id=\"state\">One committed state: the verdict is of \(state), not as of 2023-05-10T00:00:00.000+00:00; "
                                               + "every figure on this page was rebuilt from that same state as the ledger stood at 2023-05-10T00:00:00.000+00:00.</p>"))
        let overdue = try ReportFormats.json(try sandbox.ok(["audit:overdue", "--json"] + asOf).stdout)
        #expect(html.contains("data-overdue-maintenances=\"\(overdue.count { $0["kind"] as? String == "overdue" })\""))

        // Self-contained: nothing fetched from anywhere, and the one script is the page's own.
        for outside in ["http:", "https:", " src=", "url(", "@import", "<link", "<iframe"] {
            #expect(!html.contains(outside), "the page refers to \(outside)")
        }
        #expect(html.components(separatedBy: "<script").count == 2)
    }

    /// Reports written while another process completes maintenance after maintenance (each
    /// start and completion its own commit): each page describes one committed state. Its head
    /// is the ledger's entry of that seq, and its completed count is the fleet's plus the
    /// completions the trail holds up to that seq, not one a writer committed meanwhile.
    @Test func aPageWrittenWhileAnotherProcessRecordsIsOneCommittedState() throws {
        let sandbox = try BackupCommandTests.fleet() // large enough that the figures take a while
        let racing = "redis-racing-55555"
        try sandbox.ok(["apps:create", "racing-app"])
        try sandbox.ok(["addons:create", "heroku-redis:premium-0", "-a", "racing-app", "--name", racing])
        let fleetCompleted = try #require(try ReportFormats.json(try sandbox.ok(["audit:compliance", "--json"]).stdout).first?["completed"] as? Int)
        let trail = try DatabaseQueue(path: sandbox.dbPath)
        func entries() throws -> Int { try trail.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail")! } }
        let fleetEntries = try entries()

        let stop = sandbox.folder.appendingPathComponent("stop").path
        let writer = try RunningBinary(
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", """
                i=0; while [ ! -e "$STOP" ]; do i=$((i+1))
                "$BIN" data:maintenances:run "$ADDON" --confirm racing-app --db "$DB" 2>/dev/null || exit 1
                "$BIN" platform:maintenances:complete "$ADDON" --db "$DB" 2>/dev/null || exit 1
                done; echo $i
                """],
            environment: ["BIN": LedgerSandbox.binary.path, "DB": sandbox.dbPath, "STOP": stop, "ADDON": racing,
                          "MAINTLEDGER_NOW": sandbox.now, "MAINTLEDGER_ACTOR": "writer", "HOME": sandbox.folder.path, "PATH": "/usr/bin:/bin"],
            folder: sandbox.folder)
        var pages: [(before: Int, entries: Int, head: String, completed: Int, after: Int)] = []
        for number in 1...8 {
            let file = try Self.target(sandbox).replacingOccurrences(of: "audit.html", with: "audit-\(number).html")
            let before = try entries()
            let result = try sandbox.run(["audit:report", "--to", file])
            let after = try entries()
            #expect(result.exitCode == 0, "\(result)")
            let html = try String(contentsOfFile: file, encoding: .utf8)
            let verdict = try #require(try /data-entries="(\d+)" data-head="([0-9a-f]{64})"/.firstMatch(in: html), "no verdict in page \(number)")
            let completed = try #require(try Self.rows(html, table: "compliance-overall").first?["completed"].flatMap { Int($0) })
            pages.append((before, Int(verdict.1)!, String(verdict.2), completed, after))
        }
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        let written = try writer.finish()
        #expect(written.exitCode == 0, "\(written)")

        for (number, page) in zip(1..., pages) {
            #expect(page.before <= page.entries && page.entries <= page.after, "\(page)")
            let (hash, completions) = try trail.read { db in
                (try String.fetchOne(db, sql: "SELECT lower(hex(hash)) FROM audit_trail WHERE seq = ?", arguments: [page.entries]),
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail WHERE seq > ? AND seq <= ? AND action = 'platform:maintenances:complete'",
                                  arguments: [fleetEntries, page.entries])!)
            }
            #expect(hash == page.head, "page \(number)'s head is no state the ledger had")
            #expect(page.completed == fleetCompleted + completions, "page \(number): figures of another state than its head \(page)")
        }
        #expect(pages.contains { $0.after > $0.before }, "no report ran while the writer recorded: \(pages)")
    }

    /// Ledger strings are text in the page, never markup: who set a window may be any name.
    @Test func ledgerStringsAreEscaped() throws {
        let sandbox = try AuditFleet.sandbox()
        let file = try Self.target(sandbox)
        let actor = #"<script>alert("x")</script><img src=x onerror='y'>"#
        try sandbox.ok(["data:maintenances:window:update", "redis-alpha-11111", "mondays", "10:00"], environment: ["MAINTLEDGER_ACTOR": actor])
        try sandbox.ok(["audit:report", "--to", file])
        let html = try String(contentsOfFile: file, encoding: .utf8)
        #expect(html.contains("<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;</td>"))
        #expect(!html.contains("alert(\"x\")") && !html.contains("<img"))
    }

    /// Each refusal: its message and exit code, the ledger as it was, nothing at --to and no
    /// temporary file left.
    @Test func badInputIsRefusedAndLeavesNothingAtTo() throws {
        let sandbox = try AuditFleet.sandbox()
        let file = try Self.target(sandbox)
        let folder = (file as NSString).deletingLastPathComponent
        let cases: [([String], String, Int32)] = [
            (["--to", folder], "Error: \(folder) is a folder\nPoint --to at a file, such as \(folder)/audit-report.html.\n", 1),
            (["--to", "/sys/audit.html"], "Error: cannot write to /sys: Permission denied\nPoint --to at a file in a folder you can write to.\n", 1),
            (["--to", folder + "/missing/audit.html"], "Error: no folder at \(folder)/missing\nCreate it first, or point --to at a file in an existing folder.\n", 1),
            (["--to", sandbox.dbPath], "Error: \(sandbox.dbPath) is the ledger, or a file SQLite keeps beside it\nPoint --to at another file.\n", 1),
            (["--to", file, "--since", "2023-05-01T00:00:00Z", "--until", "2023-02-01T00:00:00Z"],
             "Error: --since 2023-05-01T00:00:00.000+00:00 is not before --until 2023-02-01T00:00:00.000+00:00\nGive a period that starts before it ends.\n", 64),
            (["--to", file, "--as-of", "2023-07-01T00:00:00Z"],
             "Error: --as-of 2023-07-01T00:00:00.000+00:00 is in the future (now is 2023-06-01T00:00:00.000+00:00)\n--as-of asks what the ledger held at a past moment.\n", 1),
            (["--to", file, "--as-of", "2022-12-01T00:00:00Z"],
             "Error: the ledger held no maintenance at 2022-12-01T00:00:00.000+00:00: there is nothing to report\nGive a later --as-of, when the ledger held maintenances.\n", 1),
        ]
        for (arguments, stderr, exitCode) in cases {
            try sandbox.expectRefusal(["audit:report"] + arguments, stderr: stderr, exitCode: exitCode)
            #expect(try Self.reportFolder(sandbox) == [], "\(arguments)")
        }

        // An existing file is replaced only with --force.
        try Data("earlier".utf8).write(to: URL(fileURLWithPath: file))
        try sandbox.expectRefusal(["audit:report", "--to", file],
                                  stderr: "Error: \(file) exists; audit:report replaces a file only with --force\nChoose a new file, or pass --force to replace it.\n")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "earlier")
        try sandbox.ok(["audit:report", "--to", file, "--force"])
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("<!DOCTYPE html>"))
        #expect(try Self.reportFolder(sandbox) == ["audit.html"])
    }

    /// A report killed before its page took its name left a temporary file: the next one
    /// into the folder removes it (no live run holds its lock).
    @Test func theNextReportRemovesWhatAKilledOneLeft() throws {
        let sandbox = try AuditFleet.sandbox()
        let file = try Self.target(sandbox)
        let left = (file as NSString).deletingLastPathComponent + "/.maintledger-report-tmp-Ab12Cd"
        try Data("<!DOCTYPE html><p>half a page".utf8).write(to: URL(fileURLWithPath: left))
        let result = try sandbox.ok(["audit:report", "--to", file])
        #expect(result.stderr.hasPrefix("Removed \(left), which an interrupted report left\nWrote the report to \(file) ("), "\(result)")
        #expect(try Self.reportFolder(sandbox) == ["audit.html"])
    }

    @Test func aLedgerWithNoMaintenanceIsRefused() throws {
        let sandbox = try Fixture.exampleApp()
        let file = try Self.target(sandbox)
        try sandbox.expectRefusal(["audit:report", "--to", file], stderr: """
            Error: the ledger held no maintenance yet: there is nothing to report
            Report on a ledger that has recorded maintenances (`maintledger demo` builds one).

            """)
        #expect(try Self.reportFolder(sandbox) == [])
    }

    /// Figures from an altered ledger would be presented as true: exit 3, and no page.
    @Test func aLedgerThatDoesNotVerifyGetsNoReport() throws {
        let sandbox = try AuditFleet.sandbox()
        let file = try Self.target(sandbox)
        try sandbox.tamper("UPDATE maintenances SET duration_seconds = duration_seconds + 1 WHERE duration_seconds IS NOT NULL")
        let result = try sandbox.run(["audit:report", "--to", file])
        #expect(result.exitCode == 3 && result.stdout.isEmpty && result.stderr.hasPrefix("Error: verification failed"), "\(result)")
        #expect(try Self.reportFolder(sandbox) == [])
    }
}
