import LedgerCore
import ArgumentParser
import MaintenanceLedger

extension MaintenanceReason: ExpressibleByArgument {}
extension MaintenanceMethod: ExpressibleByArgument {}

struct PlatformRequire: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platform:maintenances:require",
        abstract: "Record that an add-on needs maintenance by a deadline; it is scheduled into its window.",
        discussion: HelpText.examples(["maintledger platform:maintenances:require REDIS_URL -a example-app --required-by 2023-06-01T00:00:00Z"], after: "Prints the new maintenance's uuid. Scheduled at the first window start before --required-by; if none fits, at the latest 4-hour slot ending by it, flagged outside the window."))

    @OptionGroup var target: AddonArguments
    @Option(help: "The deadline.") var requiredBy: Timestamp
    @Option(help: "routine_maintenance, customer_request or hardware_issue.") var reason: MaintenanceReason = .routineMaintenance
    @Option(help: "failover, changeover or rolling_restart (default: by service).") var method: MaintenanceMethod?
    @Flag(help: "Start-anywhere emergency maintenance, scheduled for --at.") var emergency = false
    @Option(help: "When it was required (default: now).") var at: Timestamp?
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let view = try ledger.openForWriting().requireMaintenance(
            target.selector, requiredBy: requiredBy, reason: reason, method: method, emergency: emergency, at: at)
        let maintenance = view.maintenance!
        let schedule = maintenance.scheduledFor.map { "scheduled for \($0.listText)" } ?? "left to the platform to schedule"
        Console.error("Requiring maintenance of \(view.addon.name) by \(requiredBy.listText)... done, \(schedule)"
                      + (maintenance.outsideWindow ? " (outside its window)" : ""))
        Console.output(maintenance.uuid)
    }
}

/// What every status-change command takes.
struct StatusChangeOptions: ParsableArguments {
    @OptionGroup var target: AddonArguments
    @Option(help: "When it happened (default: now).") var at: Timestamp?
    @OptionGroup var ledger: LedgerOptions

    func perform(_ change: StatusChange, serverCreatedAt: Timestamp? = nil) throws {
        let view = try ledger.openForWriting().changeStatus(target.selector, change, at: at, serverCreatedAt: serverCreatedAt)
        Console.error("Marking the maintenance of \(view.addon.name) \(view.status)... done")
    }
}

struct PlatformPrepare: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "platform:maintenances:prepare", abstract: "pending → preparing.",
        discussion: HelpText.examples(["maintledger platform:maintenances:prepare redis-lively-12345"]))
    @OptionGroup var options: StatusChangeOptions
    func run() throws { try options.perform(.prepare) }
}

struct PlatformReady: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "platform:maintenances:ready", abstract: "preparing → ready.",
        discussion: HelpText.examples(["maintledger platform:maintenances:ready redis-lively-12345"]))
    @OptionGroup var options: StatusChangeOptions
    func run() throws { try options.perform(.ready) }
}

struct PlatformStart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "platform:maintenances:start", abstract: "pending, preparing or ready → running.",
        discussion: HelpText.examples(["maintledger platform:maintenances:start redis-lively-12345"]))
    @OptionGroup var options: StatusChangeOptions
    func run() throws { try options.perform(.start) }
}

struct PlatformComplete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "platform:maintenances:complete", abstract: "running → completed.",
        discussion: HelpText.examples(["maintledger platform:maintenances:complete redis-lively-12345"]))
    @OptionGroup var options: StatusChangeOptions
    @Option(help: "When the replacement server was created; the add-on's server from now on.") var serverCreatedAt: Timestamp?
    func run() throws { try options.perform(.complete, serverCreatedAt: serverCreatedAt) }
}

struct PlatformFail: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "platform:maintenances:fail", abstract: "running → failed.",
        discussion: HelpText.examples(["maintledger platform:maintenances:fail redis-lively-12345"]))
    @OptionGroup var options: StatusChangeOptions
    func run() throws { try options.perform(.fail) }
}

struct PlatformCancel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "platform:maintenances:cancel", abstract: "pending, preparing or ready → cancelled.",
        discussion: HelpText.examples(["maintledger platform:maintenances:cancel redis-lively-12345"]))
    @OptionGroup var options: StatusChangeOptions
    func run() throws { try options.perform(.cancel) }
}
