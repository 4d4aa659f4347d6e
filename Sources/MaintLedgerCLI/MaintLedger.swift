import LedgerStore
import LedgerCore
import ArgumentParser
import Foundation
import MaintenanceLedger

/// The `maintledger` command: parses, calls the library, prints. No rules live here.
public struct MaintLedger: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "maintledger",
        abstract: "A tamper-evident maintenance ledger for managed data add-ons (Key-Value Store, Postgres, Kafka).",
        // One line per paragraph (`\` joins the source lines): help wraps each to the terminal.
        discussion: """
            The ledger is one SQLite file: --db PATH, else $MAINTLEDGER_DB, else \
            $XDG_DATA_HOME/maintledger/ledger.sqlite (~/.local/share/maintledger/ledger.sqlite).

            MAINTLEDGER_APP (else HEROKU_APP) is the app when -a is omitted. MAINTLEDGER_NOW (ISO 8601) \
            overrides the clock; MAINTLEDGER_ACTOR (else $USER) names who acts; MAINTLEDGER_SEED makes \
            generated names, uuids and default windows reproducible. NO_COLOR turns colour off.

            Exit codes: 0 done, 1 refused or not found, 3 the ledger was altered (audit:verify, or a command \
            refusing to record in it), 4 sql stopped a query at a limit, 64 usage error, 65 bad data in an \
            import file or a trail rebuild reads, 74 the output or the ledger could not be written (a full \
            disk), 75 the ledger stayed locked by another process (try again).

            Examples:
              $ maintledger demo
              $ maintledger data:maintenances:info REDIS_URL -a example-app
            """,
        version: MaintLedgerVersion.number,
        subcommands: [
            AppsCreate.self, AddonsCreate.self, AddonsAttach.self, AddonsDetach.self, AddonsDestroy.self, AddonsList.self,
            RedisInfo.self, MaintenanceModeShow.self, MaintenanceModeOn.self, MaintenanceModeOff.self,
            DataMaintenances.self, DataMaintenancesInfo.self, DataMaintenancesHistory.self, DataMaintenancesWindow.self,
            DataMaintenancesWindowUpdate.self, DataMaintenancesRun.self, DataMaintenancesSchedule.self, DataMaintenancesWait.self,
            PlatformRequire.self, PlatformPrepare.self, PlatformReady.self, PlatformStart.self, PlatformComplete.self,
            PlatformFail.self, PlatformCancel.self,
            PlatformTick.self, NoticesList.self, Simulate.self, DemoCommand.self,
            HistoryCommand.self, ImportCommand.self, AuditTrailCommand.self, AuditVerify.self,
            AuditOverdue.self, AuditCompliance.self, AuditWindows.self, AuditReport.self, SQLQuery.self,
            ExportCommand.self, MigrateCommand.self,
            BackupCommand.self,
            RebuildCommand.self,
            AuditKeygen.self, AuditCheckpoint.self, AuditProve.self, AuditCheckProof.self,
        ]
    )

    public init() {}

    /// Runs one command line and exits with its code (the table in `discussion`, one per kind
    /// of failure). Errors print as `Error: …` on stderr, with a hint line where one helps.
    public static func runAndExit(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        if let script = ShellCompletion.bashScript(for: arguments) { printAndExit(script) }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            if let failure = Console.outputFailure { throw failure }
            // Closing the connection folds the WAL back into the ledger file.
            LedgerOptions.openedForWriting?.close()
            LedgerOptions.openedForWriting = nil
            Foundation.exit(0)
        } catch let error as LedgerError {
            LedgerOptions.discardUnusedLedger()
            if let warning = error.warning { Console.error("Warning: \(warning.escapingControlCharacters)") }
            Console.error("Error: \(error.message.escapingControlCharacters)")
            if let hint = error.hint { Console.error(hint.escapingControlCharacters) }
            Foundation.exit(error.exitCode)
        } catch {
            LedgerOptions.discardUnusedLedger()
            // `--help` is a request, not an error: its text is the output.
            let code = exitCode(for: error)
            let message = usageMessage(for: error, arguments: arguments)
            guard code == .success else {
                Console.error(message)
                Foundation.exit(code.rawValue)
            }
            printAndExit(message)
        }
    }

    /// Prints a text that is the whole answer (help, a version, a completion script), and exits
    /// 0, or with the error of a failed write.
    private static func printAndExit(_ text: String) -> Never {
        Console.output(text)
        if let failure = Console.outputFailure {
            Console.error("Error: \(failure.message)")
            Foundation.exit(failure.exitCode)
        }
        Foundation.exit(0)
    }

    /// ArgumentParser's message for a usage error, with the values it quotes from the command
    /// line written out as `Console` writes any text (a line break in a value would otherwise
    /// forge a line of output).
    static func usageMessage(for error: any Error, arguments: [String]) -> String {
        var message = fullMessage(for: error)
        for argument in Set(arguments) where argument.containsControlCharacter {
            message = message.replacingOccurrences(of: argument, with: argument.escapingControlCharacters)
        }
        return message
    }
}

extension Timestamp: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso: argument) }
}

/// The variables a command reads, each looked up by name. (`ProcessInfo.processInfo.environment`
/// first copies the whole environment into a dictionary: a fifth of a millisecond at every start.)
private struct Environment {
    subscript(name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// Where the ledger is, and the clock, actor and seed every command runs with.
struct LedgerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The ledger file.", valueName: "path"))
    var db: String?

    var path: String {
        let environment = Environment()
        if let db { return db }
        if let path = environment["MAINTLEDGER_DB"], !path.isEmpty { return path }
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return dataHome + "/maintledger/ledger.sqlite"
    }

    func context() throws -> LedgerContext {
        let environment = Environment()
        var now = Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
        if let text = environment["MAINTLEDGER_NOW"], !text.isEmpty {
            guard let parsed = Timestamp(iso: text) else {
                throw LedgerError.invalidInput("MAINTLEDGER_NOW '\(text)' is not an ISO 8601 time",
                                               hint: "Use a time like 2023-04-28T18:00:00Z, or unset it.")
            }
            now = parsed
        }
        var seed: UInt64?
        if let text = environment["MAINTLEDGER_SEED"], !text.isEmpty {
            guard let parsed = UInt64(text) else {
                throw LedgerError.invalidInput("MAINTLEDGER_SEED '\(text)' is not a whole number", hint: nil)
            }
            seed = parsed
        }
        let actor = [environment["MAINTLEDGER_ACTOR"], environment["USER"]].compactMap { $0 }.first { !$0.isEmpty } ?? "unknown"
        // The trail names who acted in every listing: a line break there would forge a line.
        guard !actor.containsControlCharacter else {
            throw LedgerError.invalidInput("the actor '\(actor.escapingControlCharacters)' holds a control character",
                                           hint: "Set MAINTLEDGER_ACTOR (or USER) to a plain name.")
        }
        return LedgerContext(now: now, actor: actor, seed: seed)
    }

    /// The ledger a recording command opened, to take back if the command fails. One command
    /// runs per process, on its main thread.
    nonisolated(unsafe) static var openedForWriting: LedgerDatabase?

    /// After a failed command: a ledger it created and left empty goes away again.
    static func discardUnusedLedger() {
        openedForWriting?.removeIfCreatedAndEmpty()
        openedForWriting = nil
    }

    /// For commands that record: creates the ledger when missing.
    func openForWriting() throws -> Ledger {
        let context = try context()
        let database = try LedgerDatabase.openForWriting(at: path)
        Self.openedForWriting = database
        for warning in database.warnings { Console.error("Warning: \(warning.escapingControlCharacters)") }
        return Ledger(database: database, context: context)
    }

    /// For `migrate`: upgrades an existing ledger and creates nothing.
    func openForUpgrade() throws -> LedgerDatabase {
        let database = try LedgerDatabase.openForUpgrade(at: path)
        Self.openedForWriting = database
        return database
    }

    /// For commands that only read: a missing ledger is an error and nothing is created.
    func openForReading() throws -> LedgerQueries {
        let context = try context()
        return LedgerQueries(reader: try LedgerReader.open(at: path), context: context)
    }
}

/// The app `-a` names when it is omitted: $MAINTLEDGER_APP, else $HEROKU_APP (which the
/// `heroku` CLI reads the same way); an empty value counts as unset.
private var appFromEnvironment: String? {
    let environment = Environment()
    return ["MAINTLEDGER_APP", "HEROKU_APP"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
}

/// `-a/--app APP`, optional.
struct AppOption: ParsableArguments {
    @Option(name: [.customShort("a"), .customLong("app")],
            help: "The app (lets ADDON be an attachment such as REDIS_URL or REDIS; default: $MAINTLEDGER_APP, else $HEROKU_APP).")
    var flag: String?

    var app: String? { flag ?? appFromEnvironment }
}

/// `-a/--app APP`, required unless $MAINTLEDGER_APP or $HEROKU_APP names it.
struct RequiredAppOption: ParsableArguments {
    @Option(name: [.customShort("a"), .customLong("app")], help: "The app (default: $MAINTLEDGER_APP, else $HEROKU_APP).")
    var flag: String?

    func validate() throws {
        guard flag ?? appFromEnvironment != nil else { throw ValidationError("Missing expected argument '--app <app>' (or set MAINTLEDGER_APP)") }
    }

    /// Set once `validate` has passed.
    var app: String { flag ?? appFromEnvironment ?? "" }
}

/// The add-on argument with its optional app.
struct AddonArguments: ParsableArguments {
    @Argument(help: "The add-on's name, or with -a an attachment (REDIS_URL or REDIS).")
    var addon: String

    @OptionGroup var app: AppOption

    var selector: AddonSelector { AddonSelector(addon, app: app.app) }
}

/// One output family for lists: table by default, or `--json`, `--ndjson`, `--csv`.
struct ListFormatOptions: ParsableArguments {
    @Flag(name: [.customShort("j"), .long], help: "Print a JSON array.") var json = false
    @Flag(help: "Print one JSON object per line.") var ndjson = false
    @Flag(name: [.customShort("c"), .long], help: "Print CSV (RFC 4180) with a header row.") var csv = false
    @Option(help: ArgumentHelp("Only these columns, in this order: headers separated by commas, in any case (table and CSV).",
                               valueName: "columns"))
    var columns: String?
    @Option(help: ArgumentHelp("Sort the rows by this column; a leading - sorts descending (table and CSV).", valueName: "column"))
    var sort: String?
    @Flag(help: "Leave out the header (table and CSV).") var noHeader = false
    @Flag(help: "Do not cut the table to the terminal's width (output to a pipe or a file is never cut).") var noTruncate = false

    func validate() throws {
        if [json, ndjson, csv].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --json, --ndjson and --csv")
        }
        if columns?.contains(where: { $0 != "," && $0 != " " }) == false { throw ValidationError("--columns names no column") }
        if let sort, sort.isEmpty || sort == "-" { throw ValidationError("--sort names no column") }
    }

    var format: OutputFormat { json ? .json : ndjson ? .ndjson : csv ? .csv : .table }

    /// A writer to stdout in the chosen format, for items handed over one at a time.
    func writer<Item>(_ layout: RecordLayout<Item>) throws -> ListWriter<Item> {
        ListWriter(format, layout, shape: try shape(headers: format == .csv ? layout.csvHeaders : layout.headers), sink: .standardOutput())
    }

    /// `--columns`, `--sort`, `--no-header`, and the terminal's width unless `--no-truncate`.
    private func shape(headers: [String]) throws -> TableShape {
        var shape = TableShape.all(headers.count)
        if let columns {
            shape.columns = try TableShape.positions(of: columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                                     in: headers)
        }
        if let sort {
            shape.descending = sort.hasPrefix("-")
            shape.sortColumn = try TableShape.positions(of: [String(shape.descending ? sort.dropFirst() : sort[...])], in: headers)[0]
        }
        shape.header = !noHeader
        shape.width = noTruncate ? nil : Terminal.standardOutputWidth
        return shape
    }

    /// Prints `items` in the chosen format; an empty table prints `empty` on stderr instead.
    func print<Item>(_ items: [Item], _ layout: RecordLayout<Item>, empty: String? = nil) throws {
        try stream(layout, empty: empty) { write in items.forEach(write) }
    }

    /// Prints the items `produce` hands over, as they come.
    func stream<Item>(_ layout: RecordLayout<Item>, empty: String? = nil, _ produce: ((Item) -> Void) throws -> Void) throws {
        let writer = try writer(layout)
        try produce { writer.write($0) }
        try writer.finish(emptyTable: empty == nil)
        if writer.count == 0, format == .table, let empty { Console.error(empty) }
    }
}

/// `--json` for commands that print one object.
struct JSONOption: ParsableArguments {
    @Flag(name: [.customShort("j"), .long], help: "Print JSON.") var json = false
}
