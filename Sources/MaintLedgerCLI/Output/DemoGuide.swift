import LedgerCore
import LedgerSimulation
import MaintenanceLedger

/// What `demo` prints once the ledger is built: the example's info block, then commands to
/// try next, spelled with `program` (how the demo was invoked) and `dbFlag` (when one was
/// given) so that they work as printed.
enum DemoGuide {
    static func text(_ ledger: some LedgerQuerying, program: String, dbFlag: String) throws -> String {
        let info = try ledger.maintenanceInfo(AddonSelector("REDIS_URL", app: "example-app"))
        let figures = try Demo.figures(ledger.reader)
        let commands = [
            "data:maintenances:info REDIS_URL -a example-app",
            "data:maintenances:history REDIS_URL -a example-app --all",
            "redis:info -a example-app",
            "data:maintenances -a \(figures.busiestApp) -x",
            "notices --since-seq \(max(0, figures.notices - 5))",
            "audit:trail --since-seq \(max(0, figures.entries - 5))",
            "platform:tick --until 2023-06-01T00:00:00Z --seed \(Demo.seed)",
            "audit:verify",
        ]
        return TextFormat.keyValueBlock(info.infoFields) + "\n\n"
            + "Demo ledger: \(figures.apps) apps, \(figures.addons) add-ons, \(figures.maintenances) maintenances, \(figures.entries) trail entries.\n"
            + "The block above is the Heroku article's example-app. Try next:\n"
            + commands.map { "  \(program) \($0)\(dbFlag)" }.joined(separator: "\n")
    }
}
