import LedgerCore
import LedgerStore
import MaintenanceLedger
import Foundation

/// Builds a fleet from nothing and runs it: apps with 1–4 data add-ons, customers who move
/// windows, run maintenance early, reschedule, share and destroy add-ons, and the engine doing
/// the rest, day by day. Everything goes through the command layer; the same settings give the
/// same ledger, row for row and hash for hash.
public final class FleetSimulator {
    public struct Settings: Sendable {
        public var apps: Int
        public var days: Int
        public var start: Timestamp
        public var engine: EngineSettings
        /// Who the simulated customers are in the trail.
        public var customerActor: String

        public init(apps: Int, days: Int, start: Timestamp, engine: EngineSettings, customerActor: String = "customer") {
            self.apps = apps
            self.days = days
            self.start = start
            self.engine = engine
            self.customerActor = customerActor
        }

        public var end: Timestamp { start.adding(days: Int64(days)) }
    }

    /// Something that happens at a set time, run like a customer's action (the demo's story).
    public struct ScriptedAction {
        public let time: Timestamp
        public let perform: (ActionContext) throws -> Void

        public init(at time: Timestamp, _ perform: @escaping (ActionContext) throws -> Void) {
            self.time = time
            self.perform = perform
        }
    }

    /// What a scripted action may use: the command layer at any time, by any actor.
    public struct ActionContext {
        let database: LedgerDatabase
        let seed: UInt64

        public func ledger(at time: Timestamp, actor: String) -> Ledger {
            Ledger(database: database, context: LedgerContext(now: time, actor: actor, seed: seed))
        }
    }

    public struct Summary: Sendable {
        public var apps = 0
        public var addons = 0
        public var customerActions = 0
        public var refusedCustomerActions = 0
        public var engine = TickSummary()
    }

    static let daysPerTransaction = 30

    let database: LedgerDatabase
    let settings: Settings
    let now: Timestamp
    private var random: SplitMix64
    private var summary = Summary()

    public init(database: LedgerDatabase, settings: Settings, now: Timestamp) {
        self.database = database
        self.settings = settings
        self.now = now
        random = SplitMix64(seed: settings.engine.seed ^ 0x5EED_F1EE_7000_0000)
    }

    /// Runs the simulation; `progress` hears (days done, days in all) after each day.
    /// Refuses a ledger that already holds anything, and a run that would end after now.
    public func run(scripted: [ScriptedAction] = [], progress: (Int, Int) -> Void = { _, _ in }) throws -> Summary {
        let entries = try database.tally().entries
        guard entries == 0 else {
            throw LedgerError.refused("\(database.path) already holds \(entries) trail entries; a simulation builds a fleet from nothing",
                                      hint: "Point --db at a new file.")
        }
        guard settings.end <= now else {
            throw LedgerError.refused("the simulation would end at \(settings.end.isoText), after now (\(now.isoText))",
                                           hint: "Start earlier, or simulate fewer days.")
        }
        let fleet = try database.batch { try provisionFleet() }
        let engine = try MaintenanceEngine(database: database, settings: settings.engine)
        var actions = planCustomerActions(fleet) + scripted.map { action in
            PlannedAction(time: action.time, addonID: nil) { context in try action.perform(context) }
        }
        actions.sort { $0.time < $1.time }
        var next = actions.startIndex
        let context = ActionContext(database: database, seed: settings.engine.seed)
        // The engine ticks daily; a transaction holds a month of days (one sync each).
        for firstDay in stride(from: 1, through: settings.days, by: Self.daysPerTransaction) {
            let lastDay = min(settings.days, firstDay + Self.daysPerTransaction - 1)
            try database.batch {
                for day in firstDay...lastDay {
                    let dayEnd = settings.start.adding(days: Int64(day))
                    while next < actions.endIndex, actions[next].time < dayEnd {
                        let action = actions[next]
                        next += 1
                        add(try engine.advance(until: action.time))
                        try perform(action, context)
                        if let addonID = action.addonID { try engine.refresh(addonID: addonID) } else { try engine.refreshAll() }
                    }
                    add(try engine.advance(until: dayEnd, recordingTick: true))
                }
            }
            progress(lastDay, settings.days)
        }
        return summary
    }

    private func add(_ tick: TickSummary) {
        summary.engine.required += tick.required
        summary.engine.scheduled += tick.scheduled
        summary.engine.started += tick.started
        summary.engine.completed += tick.completed
        summary.engine.failed += tick.failed
        summary.engine.otherSteps += tick.otherSteps
    }

    /// A customer's action may be refused by the rules (too late to reschedule, say): that is
    /// part of the story, counted, and rolls back only itself.
    private func perform(_ action: PlannedAction, _ context: ActionContext) throws {
        summary.customerActions += 1
        do {
            try action.perform(context)
        } catch is LedgerError {
            summary.refusedCustomerActions += 1
        }
    }

    // MARK: The fleet

    struct FleetAddon {
        let id: Int64
        let name: String
        let app: String
        let hasWindows: Bool
    }

    struct Fleet {
        var apps: [String] = []
        var addons: [FleetAddon] = []
    }

    private static let appWords = ["api", "shop", "web", "jobs", "billing", "search", "auth", "mobile", "admin", "etl",
                                   "checkout", "catalog", "events", "reports", "chat", "media", "ledger", "metrics"]
    private static let teamWords = ["acme", "blue", "north", "swift", "green", "lunar", "prime", "delta", "coral", "atlas",
                                    "ember", "nova", "pixel", "quartz", "river", "summit", "tidal", "zen"]

    private func provisionFleet() throws -> Fleet {
        var fleet = Fleet()
        let ledger = customer(at: settings.start)
        for index in 1...settings.apps {
            let app = "\(Self.teamWords.randomElement(using: &random)!)-\(Self.appWords.randomElement(using: &random)!)-\(index)"
            try ledger.createApp(named: app)
            fleet.apps.append(app)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let plan = randomServicePlan()
                // Servers were created up to 90 days before the simulation, so deadlines spread out.
                let serverCreatedAt = settings.start.adding(milliseconds: -Int64.random(in: 0..<90 * Timestamp.millisecondsPerDay, using: &random))
                let created = try ledger.createAddon(servicePlan: plan, app: app, serverCreatedAt: serverCreatedAt)
                fleet.addons.append(FleetAddon(id: created.id, name: created.name, app: app, hasWindows: created.window != nil))
            }
        }
        summary.apps = fleet.apps.count
        summary.addons = fleet.addons.count
        return fleet
    }

    /// Mostly premium Key-Value Store and standard Postgres; some mini and essential; some
    /// private and shield; a little Kafka.
    private func randomServicePlan() -> String {
        let roll = Double.random(in: 0..<1, using: &random)
        let size = Int.random(in: 0...7, using: &random)
        let tierRoll = Double.random(in: 0..<1, using: &random)
        func pick(_ tiers: [(String, Double)]) -> String {
            var cumulative = 0.0
            for (tier, share) in tiers {
                cumulative += share
                if tierRoll < cumulative { return tier == "mini" ? tier : "\(tier)-\(size)" }
            }
            return "\(tiers.last!.0)-\(size)"
        }
        if roll < 0.45 {
            return "heroku-redis:" + pick([("premium", 0.6), ("mini", 0.2), ("private", 0.12), ("shield", 0.08)])
        } else if roll < 0.9 {
            return "heroku-postgresql:" + pick([("standard", 0.45), ("premium", 0.2), ("essential", 0.2), ("private", 0.1), ("shield", 0.05)])
        }
        return "heroku-kafka:" + pick([("basic", 0.3), ("standard", 0.5), ("extended", 0.1), ("private", 0.06), ("shield", 0.04)])
    }

    // MARK: Customers

    struct PlannedAction {
        let time: Timestamp
        /// The add-on whose engine step must be re-planned afterwards (nil: all of them).
        let addonID: Int64?
        let perform: (ActionContext) throws -> Void
    }

    private func customer(at time: Timestamp) -> Ledger {
        Ledger(database: database, context: LedgerContext(now: time, actor: settings.customerActor, seed: settings.engine.seed))
    }

    private func randomTime() -> Timestamp {
        settings.start.adding(milliseconds: Int64.random(in: 0..<Int64(settings.days) * Timestamp.millisecondsPerDay, using: &random))
    }

    private func planCustomerActions(_ fleet: Fleet) -> [PlannedAction] {
        var actions: [PlannedAction] = []
        /// A customer's action on `addon` at a random time of the simulation.
        func plan(_ addon: FleetAddon, _ act: @escaping (Ledger) throws -> Void) {
            let time = randomTime(), actor = settings.customerActor
            actions.append(PlannedAction(time: time, addonID: addon.id) { context in try act(context.ledger(at: time, actor: actor)) })
        }
        func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }

        for addon in fleet.addons {
            let selector = AddonSelector(addon.name, app: nil)
            let app = addon.app
            if addon.hasWindows {
                if chance(0.3) {
                    let day = WeeklyWindow.dayNames[Int.random(in: 0...6, using: &random)]
                    let time = "\(Int.random(in: 0...23, using: &random)):\(Bool.random(using: &random) ? "30" : "00")"
                    plan(addon) { ledger in _ = try ledger.updateWindow(selector, day: day, time: time) }
                }
                if chance(0.2) {
                    let weeks = Bool.random(using: &random) ? 1 : -1
                    plan(addon) { ledger in _ = try ledger.scheduleMaintenance(selector, to: .weeks(weeks)) }
                }
                if chance(0.2) {
                    let useMaintenanceMode = Bool.random(using: &random)
                    plan(addon) { ledger in
                        // Only worth it when a maintenance is waiting.
                        guard try ledger.maintenanceInfo(selector).maintenance?.status == .pending else { return }
                        if useMaintenanceMode {
                            try ledger.setMaintenanceMode(app: app, on: true)
                            _ = try ledger.runMaintenance(selector, confirm: nil)
                            try ledger.setMaintenanceMode(app: app, on: false)
                        } else {
                            _ = try ledger.runMaintenance(selector, confirm: app)
                        }
                    }
                }
            }
            if chance(0.05), let other = fleet.apps.randomElement(using: &random), other != app {
                plan(addon) { ledger in _ = try ledger.attachAddon(addon.name, to: other, as: nil) }
            }
            if chance(0.02) {
                plan(addon) { ledger in _ = try ledger.destroyAddon(AddonSelector(addon.name, app: app), confirm: app) }
            }
        }
        return actions
    }
}
