import LedgerCore
import LedgerStore
import MaintenanceLedger
import Foundation

/// The one-command demo: the seed article's example-app inside a simulated fleet of about 500
/// apps over the year to 2023-05-01. Its customers act as `demo`, its engine as `platform`.
public enum Demo {
    public static let actor = "demo"
    public static let apps = 500
    public static let start = Timestamp(iso: "2022-05-01T00:00:00Z")!
    public static let days = 365
    public static let seed: UInt64 = 2023

    /// Refuses a file holding anything that is not demo data; removes an earlier demo.
    public static func prepare(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let database = try LedgerDatabase.openForWriting(at: path)
        let trail = try database.trailAuthorship(besides: [actor, MaintenanceEngine.actor])
        guard trail.others == 0, try database.tally().entries == 0 || trail.firstActor == actor else {
            throw LedgerError.refused("\(path) holds data that is not the demo's; the demo leaves it alone",
                                      hint: "Run the demo on another file: `maintledger demo --db /tmp/maintledger-demo.sqlite`.")
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Builds the demo ledger; returns the simulation's summary.
    public static func build(database: LedgerDatabase, now: Timestamp, progress: (Int, Int) -> Void = { _, _ in }) throws -> FleetSimulator.Summary {
        let settings = FleetSimulator.Settings(apps: apps, days: days, start: start, engine: EngineSettings(seed: seed),
                                               customerActor: actor)
        return try FleetSimulator(database: database, settings: settings, now: now).run(scripted: seedStory, progress: progress)
    }

    /// What the demo ledger holds, for the guide the CLI prints after building it.
    public struct Figures: Sendable {
        public let apps: Int, addons: Int, maintenances: Int, entries: Int, notices: Int
        /// The app with the most live attachments, besides example-app.
        public let busiestApp: String
    }

    public static func figures(_ database: LedgerReader) throws -> Figures {
        let tally = try database.tally()
        return Figures(apps: tally.apps, addons: tally.addons, maintenances: tally.maintenances, entries: tally.entries, notices: tally.notices,
                       busiestApp: try database.busiestApp(besides: "example-app")!)
    }

    private static func time(_ text: String) -> Timestamp { Timestamp(iso: text)! }

    /// The seed's example, told at its own times among the fleet. A customer-run maintenance on
    /// 2023-02-02 sets the cadence so that the engine requires the next one by
    /// 2023-05-03T08:54:02.518Z and schedules it into the Friday window of 2023-04-28; the
    /// platform's start and completion carry the article's exact times.
    static var seedStory: [FleetSimulator.ScriptedAction] {
        let addon = AddonSelector("redis-lively-12345", app: nil)
        return [
            .init(at: time("2022-12-26T08:30:37.872Z")) { context in
                let ledger = context.ledger(at: time("2022-12-26T08:30:37.872Z"), actor: actor)
                try ledger.createApp(named: "example-app")
                _ = try ledger.createAddon(servicePlan: "heroku-redis:premium-0", app: "example-app", name: "redis-lively-12345",
                                           description: "premium HA", serverCreatedAt: time("2022-12-26T08:30:37.872Z"))
            },
            .init(at: time("2023-01-02T10:00:00Z")) { context in
                _ = try context.ledger(at: time("2023-01-02T10:00:00Z"), actor: actor)
                    .updateWindow(AddonSelector("REDIS_URL", app: "example-app"), day: "Fridays", time: "18:00")
            },
            .init(at: time("2023-02-02T08:50:00Z")) { context in
                _ = try context.ledger(at: time("2023-02-02T08:50:00Z"), actor: actor).runMaintenance(addon, confirm: "example-app")
                _ = try context.ledger(at: time("2023-02-02T08:54:02.518Z"), actor: MaintenanceEngine.actor).changeStatus(addon, .complete)
            },
            // Before the engine reaches the window's start, so the article's times are the ones kept.
            .init(at: time("2023-04-28T17:59:59.999Z")) { context in
                _ = try context.ledger(at: time("2023-04-28T18:01:14.191Z"), actor: MaintenanceEngine.actor).changeStatus(addon, .start)
                _ = try context.ledger(at: time("2023-04-28T18:04:21.141Z"), actor: MaintenanceEngine.actor).changeStatus(addon, .complete)
            },
        ]
    }
}
