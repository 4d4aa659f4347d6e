import LedgerCore
import ArgumentParser
import MaintenanceLedger

extension MaintenanceStatus: ExpressibleByArgument {
    /// None listed: ArgumentParser prints six values or more as a bulleted list under the error
    /// line, and errors are one line. The error's Help line (`help`) names them instead.
    public static var allValueStrings: [String] { [] }
    public static var defaultCompletionKind: CompletionKind { .list(allCases.map(\.rawValue)) }
    static var help: ArgumentHelp { ArgumentHelp(Ledger.listing(allCases.map(\.rawValue)) + ".") }
}
extension HistoryTime: ExpressibleByArgument {}

extension Service: ExpressibleByArgument {
    public init?(argument: String) { self.init(kind: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// `--as-of TIME`: answer as the ledger would have at that moment.
struct AsOfOption: ParsableArguments {
    @Option(help: ArgumentHelp("Answer as the ledger would have at this past time (ISO 8601).", valueName: "time"))
    var asOf: Timestamp?
}

enum HistoryOrder: String, ExpressibleByArgument, CaseIterable {
    case asc, desc
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List maintenances across the fleet, newest first.",
        discussion: HelpText.examples(["maintledger history --limit 4", "maintledger history --kind redis --status completed --since 2023-04-01T00:00:00Z --csv", "maintledger history --ndjson > maintenances.ndjson"], after: "Filters combine. --since/--until and the order use the time chosen by --time (scheduled by default)."))

    @Option(name: [.customShort("a"), .long], help: "Add-ons owned by or attached to this app (with --addon: resolves an attachment name).")
    var app: String?
    @Option(help: "One add-on (name, or attachment with --app).") var addon: String?
    @Option(help: "redis, postgresql or kafka.") var kind: Service?
    @Option(help: "A tier (premium) or plan (premium-0).") var plan: String?
    @Option(help: MaintenanceStatus.help) var status: MaintenanceStatus?
    @Option(help: "routine_maintenance, customer_request or hardware_issue.") var reason: MaintenanceReason?
    @Option(help: "failover, changeover or rolling_restart.") var method: MaintenanceMethod?
    @Option(help: ArgumentHelp("Only maintenances whose chosen time is at or after this.", valueName: "time")) var since: Timestamp?
    @Option(help: ArgumentHelp("Only maintenances whose chosen time is at or before this.", valueName: "time")) var until: Timestamp?
    @Option(help: "The time that --since, --until and the order use: scheduled, started or completed.") var time: HistoryTime = .scheduled
    @Flag(help: "Only maintenances scheduled outside their window.") var outsideWindow = false
    @Flag(help: "Only emergency maintenances.") var emergency = false
    @Flag(help: "Only maintenances that missed required_by (completed late, or not completed in time).") var overdue = false
    @Option(help: "At most this many.") var limit: Int?
    @Option(help: "desc (newest first) or asc.") var order: HistoryOrder = .desc
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var format: ListFormatOptions
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        var filter = HistoryFilter()
        (filter.app, filter.addon, filter.kind, filter.plan) = (app, addon, kind, plan)
        (filter.status, filter.reason, filter.method) = (status, reason, method)
        (filter.since, filter.until, filter.time) = (since, until, time)
        (filter.outsideWindow, filter.emergency, filter.overdue) = (outsideWindow, emergency, overdue)
        (filter.limit, filter.ascending) = (limit, order == .asc)
        let ledger = try ledger.openForReading()
        let moment = try ledger.moment(asOf: asOf.asOf)
        try format.stream(Self.layout, empty: "No maintenances match") { write in try ledger.history(filter, at: moment, write) }
    }

    static var layout: RecordLayout<MaintenanceView> { RecordLayout(
        json: \.json,
        headers: ["Add-on", "App", "Status", "Reason", "Scheduled for", "Started at", "Completed at", "Duration (seconds)", "Window"],
        cells: { view in
            let m = view.maintenance!
            return [view.addon.name, view.app.name, m.status.rawValue, m.reason.rawValue, m.scheduledFor?.listText ?? "-",
                    m.startedAt?.listText ?? "-", m.completedAt?.listText ?? "-", m.durationSeconds.map(String.init) ?? "-", m.window ?? "-"]
        },
        csvHeaders: ["app", "addon", "kind", "plan", "uuid", "status", "reason", "method", "required_by", "scheduled_for",
                     "previously_scheduled_for", "started_at", "completed_at", "duration_seconds", "window", "outside_window",
                     "emergency", "customer_requested", "server_created_at"],
        csvCells: { view in
            let m = view.maintenance!
            return [view.app.name, view.addon.name, view.addon.service.rawValue, view.addon.plan.name, m.uuid, m.status.rawValue,
                    m.reason.rawValue, m.method.rawValue, m.requiredBy.isoText, m.scheduledFor?.isoText ?? "",
                    m.previouslyScheduledFor?.isoText ?? "", m.startedAt?.isoText ?? "", m.completedAt?.isoText ?? "",
                    m.durationSeconds.map(String.init) ?? "", m.window ?? "", String(m.outsideWindow), String(m.emergency),
                    String(m.customerRequested), m.serverCreatedAt.isoText]
        }) }
}
