import LedgerStore
import LedgerCore
import ArgumentParser
import MaintenanceLedger

extension ComplianceGrouping: ExpressibleByArgument {}

/// What every audit report takes: --as-of, the output format, and the ledger.
struct ReportOptions: ParsableArguments {
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var format: ListFormatOptions
    @OptionGroup var ledger: LedgerOptions

    /// The ledger opened to read, and the moment the report is about.
    func open() throws -> (ledger: LedgerQueries, moment: Moment) {
        let ledger = try ledger.openForReading()
        return (ledger, try ledger.moment(asOf: asOf.asOf))
    }
}

struct AuditOverdue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:overdue",
        abstract: "List maintenances past their deadline, and gaps of more than 90 days between completed maintenances.",
        discussion: HelpText.examples(["maintledger audit:overdue"], after: """
            Rows of kind `overdue` come first: live add-ons' maintenances whose required-by time has passed and that are \
            still open, or failed or were cancelled with no completed maintenance recorded after them. A maintenance a \
            customer ran on their own initiative has no deadline. Rows of kind `gap` follow: every stretch of more than \
            90 days in which an add-on completed no maintenance, from its first server's creation to its first \
            completion, between completions, and from its last completion to now (or to its destruction).
            """))

    @OptionGroup var report: ReportOptions

    func run() throws {
        let (ledger, moment) = try report.open()
        try report.format.stream(OverdueRow.layout, empty: "Nothing overdue, and no gap of more than 90 days") { write in
            try ledger.overdue(at: moment, write)
        }
    }
}

struct AuditCompliance: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:compliance",
        abstract: "Show how maintenance kept its windows and deadlines, overall or per plan, kind, app, month or quarter.",
        discussion: HelpText.examples(["maintledger audit:compliance --by kind", "maintledger audit:compliance --by quarter --csv"], after: """
            Counts the maintenances that ended (completed, failed or cancelled) in [--since, --until). In window: of \
            those that started and were scheduled with a window, the share that started inside it (plans without \
            windows are left out). Deadline met: of those with a deadline, the share completed by it (a failed or \
            cancelled one missed it; one a customer ran on their own initiative had none). Durations are nearest-rank \
            percentiles of the completed ones, in seconds; the longest gap is the longest an add-on went without a \
            completed maintenance, among the gaps these completions ended.
            """))

    @Option(help: ArgumentHelp("Maintenances that ended at or after this time.", valueName: "time")) var since: Timestamp?
    @Option(help: ArgumentHelp("Maintenances that ended before this time.", valueName: "time")) var until: Timestamp?
    @Option(help: "One row per plan, kind, app, or month or quarter (UTC) in which they ended.") var by: ComplianceGrouping?
    @OptionGroup var report: ReportOptions

    func run() throws {
        let (ledger, moment) = try report.open()
        let rows = try ledger.compliance(ComplianceFilter(since: since, until: until, by: by), at: moment)
        try report.format.print(rows, ComplianceRow.layout(by: by), empty: "No maintenance ended in that period")
    }
}

struct AuditWindows: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:windows",
        abstract: "List every maintenance window set, with the one it replaced, who set it and when; oldest first.",
        discussion: HelpText.examples(["maintledger audit:windows --addon redis-lively-12345"]))

    @Option(name: [.customShort("a"), .long], help: "Only add-ons owned by this app (with --addon: resolves an attachment name).")
    var app: String?
    @Option(help: "Only this add-on (name, or attachment with --app).") var addon: String?
    @Option(help: ArgumentHelp("Only windows set at or after this time.", valueName: "time")) var since: Timestamp?
    @OptionGroup var report: ReportOptions

    func run() throws {
        let (ledger, moment) = try report.open()
        try report.format.stream(WindowChange.layout, empty: "No window changes match") { write in
            try ledger.windowChanges(WindowChangeFilter(app: app, addon: addon, since: since), at: moment, write)
        }
    }
}

struct AuditReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:report",
        abstract: "Write the audit reports of a period as one self-contained HTML page, with charts.",
        discussion: HelpText.examples(["maintledger audit:report --to report.html",
                                       "maintledger audit:report --to report-2023.html --since 2023-01-01T00:00:00Z --until 2024-01-01T00:00:00Z"], after: """
            The page needs nothing else to open (no network, no external script or font): the verdict of audit:verify \
            with the head hash and the latest checkpoint recorded; maintenances per week, started inside or outside \
            their window, emergencies marked; completion within deadline by month and by plan, and every figure of \
            audit:compliance for [--since, --until); durations; the add-ons overdue and the longest gaps \
            (audit:overdue); the windows changed in the period, with who and when (audit:windows). Filters by app, kind \
            and plan work in the page. Long lists keep their first 500 rows and say how many there are. The page is one \
            committed state: the verdict and every figure are read in one read transaction, so its head hash names the \
            state its figures describe, whatever another process records meanwhile (with --as-of, the verdict is of the \
            ledger as it stands, and the figures are rebuilt from that same state as of the time given). \
            Written as backup writes: to a hidden temporary file in FILE's folder, synced, then given FILE's name, so \
            nothing is at FILE until the page is whole. An existing FILE is replaced only with --force. Refused when \
            the ledger held no maintenance; exit 3 when it does not verify. Prints the verdict.
            """))

    @Option(help: ArgumentHelp("The HTML file to write (its folder must exist).", valueName: "file")) var to: String
    @Flag(help: "Replace FILE if it exists (an earlier report).") var force = false
    @Option(help: ArgumentHelp("Maintenances that ended at or after this time.", valueName: "time")) var since: Timestamp?
    @Option(help: ArgumentHelp("Maintenances that ended before this time.", valueName: "time")) var until: Timestamp?
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let reader = try ledger.openForReading()
        let request = AuditSummaryRequest(since: since, until: until, moment: try reader.moment(asOf: asOf.asOf))
        let result = try reader.writeAuditReport(request, to: to, replacing: force)
        for path in result.removed { Console.error("Removed \(path), which an interrupted report left") }
        Console.error("Wrote the report to \(to) (\(result.bytes / 1024) KiB)")
        let verification = result.summary.verification
        Console.output("ok: \(verification.entryCount) entries verified, head \(verification.headHash)")
    }
}

struct SQLQuery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run one read-only SQL query on the ledger.",
        discussion: HelpText.examples(["maintledger sql \"SELECT status, count(*) FROM maintenances GROUP BY status\""], after: """
            The ledger is opened read-only and query-only. One SELECT, WITH, VALUES or EXPLAIN statement runs; anything \
            that could change the ledger, or a second statement, is refused (exit 1) and nothing runs. A query SQLite \
            cannot compile is a usage error (exit 64). The columns are the query's; JSON keeps SQLite's types (blobs \
            as hex text). A query that runs past --timeout, or returns more than --max-rows rows, is stopped \
            (exit 4).
            """))

    @Argument(help: "The query, e.g. \"SELECT status, count(*) FROM maintenances GROUP BY status\".") var query: String
    @Option(help: "Stop the query after this many seconds.") var timeout: Double = ReadOnlyLedger.Limits.standard.seconds
    @Option(help: "Stop the query when it returns more rows than this.") var maxRows: Int?
    @OptionGroup var format: ListFormatOptions
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a number of seconds more than 0") }
        if let maxRows, maxRows < 1 { throw ValidationError("--max-rows must be at least 1") }
    }

    func run() throws {
        try ReadOnlyLedger.open(at: ledger.path).query(query, limits: ReadOnlyLedger.Limits(seconds: timeout, rows: maxRows)) { columns, rows in
            try format.stream(QueryRows.layout(columns: columns)) { write in
                while let row = try rows.next() { write(row) }
            }
        }
    }
}
