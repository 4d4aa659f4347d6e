import LedgerCore
import ArgumentParser
import MaintenanceLedger

struct DataMaintenances: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data:maintenances", abstract: "List the maintenance status of an app's data add-ons.",
        discussion: HelpText.examples(["maintledger data:maintenances -a example-app", "maintledger data:maintenances -a example-app -x --columns addon,status,plan"]))

    @OptionGroup var app: RequiredAppOption
    @Flag(name: [.customShort("x"), .long], help: "Also show kind and plan.") var extended = false
    @OptionGroup var format: ListFormatOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let views = try ledger.openForReading().appMaintenances(app: app.app)
        let headers = ["Addon", "Attachments", "Scheduling Window", "Status", "Required by", "Scheduled for"] + (extended ? ["Kind", "Plan"] : [])
        func cells(_ view: MaintenanceView, missing: String, time: (Timestamp) -> String) -> [String] {
            // Heroku shows a closed maintenance's deadline and schedule as '-'.
            let open = view.maintenance?.status.isOpen == true ? view.maintenance : nil
            return [view.addon.name, view.attachments.joined(separator: ", "), view.addonWindow?.text ?? missing, view.status,
                    open.map { time($0.requiredBy) } ?? missing, open?.scheduledFor.map(time) ?? missing]
                + (extended ? [view.addon.service.rawValue, view.addon.plan.name] : [])
        }
        try format.print(views, RecordLayout(json: \.json, headers: headers,
                     cells: { cells($0, missing: "-", time: \.listText) },
                     csvCells: { cells($0, missing: "", time: \.isoText) }),
                     empty: "No maintenances found for app \(app.app)")
    }
}

struct DataMaintenancesInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data:maintenances:info", abstract: "Show an add-on's most recent maintenance.",
        discussion: HelpText.examples(["maintledger data:maintenances:info REDIS_URL -a example-app", "maintledger data:maintenances:info redis-lively-12345 --json"]))

    @OptionGroup var target: AddonArguments
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var output: JSONOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let ledger = try ledger.openForReading()
        let view = try ledger.maintenanceInfo(target.selector, at: try ledger.moment(asOf: asOf.asOf))
        Console.output(output.json ? view.json.prettyText : TextFormat.keyValueBlock(view.infoFields))
    }
}

struct DataMaintenancesHistory: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data:maintenances:history", abstract: "List an add-on's maintenances, newest first.",
        discussion: HelpText.examples(["maintledger data:maintenances:history REDIS_URL -a example-app --all", "maintledger data:maintenances:history REDIS_URL -a example-app -n 2 --csv"]))

    @OptionGroup var target: AddonArguments
    @Option(name: [.customShort("n"), .customLong("num")], help: "How many to show.") var number = 5
    @Flag(help: "Show every maintenance the ledger holds.") var all = false
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var format: ListFormatOptions
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        guard number > 0 else { throw ValidationError("-n must be at least 1 (or use --all)") }
    }

    func run() throws {
        let ledger = try ledger.openForReading()
        let (addon, views) = try ledger.maintenanceHistory(target.selector, limit: all ? nil : number, at: try ledger.moment(asOf: asOf.asOf))
        func cells(_ view: MaintenanceView, missing: String, time: (Timestamp) -> String) -> [String] {
            let m = view.maintenance!
            return [m.scheduledFor.map(time) ?? missing, m.startedAt.map(time) ?? missing, m.completedAt.map(time) ?? missing,
                    m.durationSeconds.map(String.init) ?? missing, m.reason.rawValue, m.status.rawValue, m.window ?? missing]
        }
        try format.print(views, RecordLayout(json: \.json,
                     headers: ["Scheduled for", "Started at", "Completed at", "Duration (seconds)", "Reason", "Status", "Window"],
                     cells: { cells($0, missing: "-", time: \.listText) },
                     csvCells: { cells($0, missing: "", time: \.isoText) }),
                     empty: "\(addon.name) does not have any maintenance history")
    }
}

/// Prints a window object as a key/value block (unset keys left out) or as JSON.
private func printWindow(_ json: JSONValue, asJSON: Bool) {
    guard !asJSON, case .object(let members) = json else {
        Console.output(json.prettyText)
        return
    }
    Console.output(TextFormat.keyValueBlock(members.compactMap { key, value in
        if case .string(let text) = value { return (key, text) }
        return nil
    }))
}

struct DataMaintenancesWindow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data:maintenances:window", abstract: "Show an add-on's maintenance window.",
        discussion: HelpText.examples(["maintledger data:maintenances:window REDIS_URL -a example-app"]))

    @OptionGroup var target: AddonArguments
    @OptionGroup var output: JSONOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        printWindow(try ledger.openForReading().windowInfo(target.selector).json, asJSON: output.json)
    }
}

struct DataMaintenancesWindowUpdate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data:maintenances:window:update",
        abstract: "Set an add-on's weekly 4-hour maintenance window (UTC); a pending maintenance moves into it.",
        discussion: HelpText.examples(["maintledger data:maintenances:window:update REDIS_URL sunday 14:30 -a example-app"]))

    @Argument(help: "The add-on's name, or with -a an attachment (REDIS_URL or REDIS).") var addon: String
    @Argument(help: "The day the window starts: sunday, Sundays, …") var day: String
    @Argument(help: "The start time in UTC: 14:30 or 2:30PM (minutes 00 or 30).") var time: String
    @OptionGroup var app: AppOption
    @OptionGroup var output: JSONOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let info = try ledger.openForWriting().updateWindow(AddonSelector(addon, app: app.app), day: day, time: time)
        printWindow(info.json, asJSON: output.json)
    }
}

struct DataMaintenancesRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data:maintenances:run",
        abstract: "Start the add-on's maintenance now (needs maintenance mode or --confirm APP).",
        discussion: HelpText.examples(["maintledger data:maintenances:run REDIS_URL -a example-app --confirm example-app"]))

    @OptionGroup var target: AddonArguments
    @Option(name: [.customShort("c"), .long], help: ArgumentHelp("The app's name, to run without maintenance mode.", valueName: "app"))
    var confirm: String?
    @Flag(name: [.customShort("w"), .long], help: "Wait until the maintenance has ended.") var wait = false
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let ledger = try ledger.openForWriting()
        let name = try ledger.runMaintenance(target.selector, confirm: confirm).addon.name
        Console.error("Starting maintenance for \(name)... done")
        if wait { try waitAndReport(ledger, target.selector, name: name, timeout: nil) }
    }
}

/// Waits on a running maintenance and reports how it ended; a failure or time-out is an error.
func waitAndReport(_ ledger: some LedgerQuerying, _ selector: AddonSelector, name: String, timeout: Double?) throws {
    switch try ledger.waitForMaintenance(selector, timeout: timeout, pollInterval: 0.2) {
    case .nothingRunning:
        Console.error("There currently isn't any maintenance in progress for \(name)")
    case .finished(.completed):
        Console.error("Waiting for maintenance on \(name)... completed")
    case .finished(let status):
        throw LedgerError.refused("the maintenance of \(name) ended \(status.rawValue)", hint: nil)
    case .timedOut:
        throw LedgerError.refused("the maintenance of \(name) was still running after the --timeout of \(timeout.map { $0.formatted() } ?? "0") s", hint: nil)
    }
}

struct DataMaintenancesSchedule: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data:maintenances:schedule",
        abstract: "Move the pending maintenance by whole weeks, staying on its window and before its required-by time.",
        discussion: HelpText.examples(["maintledger data:maintenances:schedule REDIS_URL -a example-app --weeks 1"]))

    @OptionGroup var target: AddonArguments
    @Option(parsing: .unconditional, help: "Weeks to move it (may be negative, as --weeks -1; default 2).") var weeks: Int?
    @Option(help: ArgumentHelp("Move it to the window in the week starting that day.", valueName: "yyyy-mm-dd")) var week: String?
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        if weeks != nil && week != nil { throw ValidationError("--weeks and --week exclude each other") }
        if let week, week.count != 10 || Timestamp(iso: week) == nil {
            throw ValidationError("--week takes a date as YYYY-MM-DD")
        }
    }

    func run() throws {
        let target: Ledger.ScheduleTarget = week.flatMap(Timestamp.init(iso:)).map { .week($0) } ?? .weeks(weeks ?? 2)
        let result = try ledger.openForWriting().scheduleMaintenance(self.target.selector, to: target)
        if result.previous == result.scheduledFor {
            Console.output("Maintenance for \(result.addonName) is already scheduled for \(result.scheduledFor.listText)")
        } else if let previous = result.previous {
            Console.output("Scheduled maintenance for \(result.addonName) changed from \(previous.listText) to \(result.scheduledFor.listText)")
        } else {
            Console.output("Maintenance for \(result.addonName) scheduled for \(result.scheduledFor.listText)")
        }
    }
}

struct DataMaintenancesWait: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data:maintenances:wait", abstract: "Wait while the add-on's maintenance is running.",
        discussion: HelpText.examples(["maintledger data:maintenances:wait redis-lively-12345 --timeout 60"]))

    @OptionGroup var target: AddonArguments
    @Option(help: "Give up after this many seconds (exit 1).") var timeout: Double?
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a number of seconds more than 0") }
    }

    func run() throws {
        let ledger = try ledger.openForReading()
        let name = try ledger.maintenanceInfo(target.selector).addon.name
        try waitAndReport(ledger, target.selector, name: name, timeout: timeout)
    }
}
