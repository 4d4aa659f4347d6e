import LedgerCore
import ArgumentParser
import MaintenanceLedger

struct AppsCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apps:create", abstract: "Create an app.",
        discussion: HelpText.examples(["maintledger apps:create other-app"]))

    @Argument(help: "The app's name: 3 to 30 lowercase letters, digits and dashes, starting with a letter.")
    var app: String
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try ledger.openForWriting().createApp(named: app)
        Console.error("Creating ⬢ \(app)... done")
    }
}

struct AddonsCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addons:create",
        abstract: "Provision a data add-on, attach it, and give it its default maintenance window.",
        discussion: HelpText.examples(["maintledger addons:create heroku-postgresql:essential-0 -a example-app", "maintledger addons:create heroku-redis:mini -a example-app --as CACHE"], after: "SERVICE is heroku-redis, heroku-postgresql or heroku-kafka; PLAN like mini, premium-0, standard-0, essential-0, basic-0."))

    @Argument(help: ArgumentHelp("The service and plan.", valueName: "service:plan"))
    var servicePlan: String
    @OptionGroup var app: RequiredAppOption
    @Option(help: "The add-on's name (default: generated, like redis-lively-12345).") var name: String?
    @Option(name: .customLong("as"), help: "The attachment's config var (REDIS or REDIS_URL).") var attachment: String?
    @Option(help: "A description, such as 'premium HA'.") var description: String?
    @Option(help: "When its server was created (default: now).") var serverCreatedAt: Timestamp?
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let created = try ledger.openForWriting().createAddon(
            servicePlan: servicePlan, app: app.app, name: name, attachmentName: attachment,
            description: description, serverCreatedAt: serverCreatedAt)
        Console.error("Creating \(servicePlan) on ⬢ \(app.app)... done")
        Console.output("Created \(created.name) as \(created.attachment)")
    }
}

struct AddonsAttach: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "addons:attach", abstract: "Attach an existing add-on to another app.",
        discussion: HelpText.examples(["maintledger addons:attach redis-lively-12345 -a other-app"]))

    @Argument(help: "The add-on's name.") var addon: String
    @OptionGroup var app: RequiredAppOption
    @Option(name: .customLong("as"), help: "The attachment's config var (default: REDIS_URL, DATABASE_URL or KAFKA_URL, else a colored one).")
    var attachment: String?
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let name = try ledger.openForWriting().attachAddon(addon, to: app.app, as: attachment)
        Console.error("Attaching \(addon) to ⬢ \(app.app)... done")
        Console.output("Attached \(addon) as \(name)")
    }
}

struct AddonsDetach: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "addons:detach", abstract: "Detach an attachment from an app (kept as history).",
        discussion: HelpText.examples(["maintledger addons:detach REDIS_URL -a other-app"]))

    @Argument(help: "The attachment's config var (REDIS_URL or REDIS).") var attachment: String
    @OptionGroup var app: RequiredAppOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let detached = try ledger.openForWriting().detachAttachment(attachment, from: app.app)
        Console.error("Detaching \(detached.attachment) of \(detached.addon) from ⬢ \(app.app)... done")
    }
}

struct AddonsDestroy: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "addons:destroy", abstract: "Deprovision an add-on; its history is kept.",
        discussion: HelpText.examples(["maintledger addons:destroy redis-lively-12345 -a example-app --confirm example-app"]))

    @Argument(help: "The add-on's name, or an attachment of the app.") var addon: String
    @OptionGroup var app: RequiredAppOption
    @Option(help: ArgumentHelp("The app's name, to confirm.", valueName: "app")) var confirm: String?
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let name = try ledger.openForWriting().destroyAddon(AddonSelector(addon, app: app.app), confirm: confirm)
        Console.error("Destroying \(name) on ⬢ \(app.app)... done")
    }
}

struct AddonsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "addons", abstract: "List add-ons, their attachments and windows.",
        discussion: HelpText.examples(["maintledger addons", "maintledger addons -a example-app --columns add-on,plan"]))

    @OptionGroup var app: AppOption
    @Flag(help: "Include destroyed add-ons.") var all = false
    @OptionGroup var format: ListFormatOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let ledger = try ledger.openForReading()
        func cells(_ summary: AddonSummary, missing: String) -> [String] {
            let addon = summary.view.addon
            return [addon.name, "\(addon.service.rawValue):\(addon.plan.name)", summary.view.app.name,
                    summary.attachments.joined(separator: ", "), summary.view.addonWindow?.text ?? missing,
                    addon.isLive ? "provisioned" : "deprovisioned"]
        }
        try format.stream(RecordLayout(json: \.json,
                     headers: ["Add-on", "Plan", "Owning app", "Attachments", "Window", "State"],
                     cells: { cells($0, missing: "-") }, csvCells: { cells($0, missing: "") }),
                     empty: app.app.map { "No add-ons on \($0)" } ?? "No add-ons") { write in
            try ledger.addons(app: app.app, includeDestroyed: all, write)
        }
    }
}

struct RedisInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redis:info", abstract: "Show an app's Key-Value Store add-ons and whether maintenance is required.",
        discussion: HelpText.examples(["maintledger redis:info -a example-app"]))

    @Argument(help: "One add-on (name or attachment); default: all of the app's.") var addon: String?
    @OptionGroup var app: RequiredAppOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let views = try ledger.openForReading().redisInfo(app: app.app, addon: addon)
        guard !views.isEmpty else {
            Console.error("\(app.app) has no Key-Value Store add-ons.")
            return
        }
        Console.output(views.map { view in
            var fields = [("Plan", view.addon.plan.displayName), ("Status", "available"),
                          ("Created", view.addon.serverCreatedAt.listText)]
            if let window = view.addonWindow { fields.append(("Maintenance window", window.text)) }
            fields.append(("Maintenance", view.maintenance.map { "required by \($0.requiredBy.listText)" } ?? "not required"))
            return "=== \(view.addon.name) (\(view.attachments.joined(separator: ", ")))\n" + TextFormat.keyValueBlock(fields)
        }.joined(separator: "\n\n"))
    }
}

struct MaintenanceModeShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "maintenance", abstract: "Print whether the app is in maintenance mode (on/off).",
        discussion: HelpText.examples(["maintledger maintenance -a example-app"]))

    @OptionGroup var app: RequiredAppOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        Console.output(try ledger.openForReading().maintenanceMode(app: app.app) ? "on" : "off")
    }
}

struct MaintenanceModeOn: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "maintenance:on", abstract: "Put the app in maintenance mode.",
        discussion: HelpText.examples(["maintledger maintenance:on -a example-app"]))

    @OptionGroup var app: RequiredAppOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try ledger.openForWriting().setMaintenanceMode(app: app.app, on: true)
        Console.error("Enabling maintenance mode for ⬢ \(app.app)... done")
    }
}

struct MaintenanceModeOff: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "maintenance:off", abstract: "Take the app out of maintenance mode.",
        discussion: HelpText.examples(["maintledger maintenance:off -a example-app"]))

    @OptionGroup var app: RequiredAppOption
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try ledger.openForWriting().setMaintenanceMode(app: app.app, on: false)
        Console.error("Disabling maintenance mode for ⬢ \(app.app)... done")
    }
}
