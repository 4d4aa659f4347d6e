// swift-tools-version:6.0
import PackageDescription

// The layers, bottom up; each target may import only those below it (README: Development).
//   LedgerCore        values every layer speaks: time, windows, plans, statuses, errors, JSON, CSV
//   LedgerStore       the SQLite file: schema, records, the write path and the trail (GRDB lives here)
//   MaintenanceLedger the rules and questions: commands, queries, reports, verification, import/export
//   LedgerSimulation  the maintenance engine, the fleet simulator and the demo's story
//   MaintLedgerCLI    the `maintledger` commands: arguments, output layouts, help
// The layers are separate modules, and the hot loops cross them (records decoded in the store,
// checked in the domain): without cross-module optimization release builds call generic and
// small functions across modules unspecialized and not inlined (simulate 27% and audit:verify
// 75% slower than the one-module build, measured side by side with bench/ab.sh).
let crossModuleOptimization: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "maintledger",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "maintledger", targets: ["maintledger"]),
        .library(name: "MaintenanceLedger", targets: ["MaintenanceLedger"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        .target(name: "LedgerCore", swiftSettings: crossModuleOptimization),
        // Sources/LedgerStore/migrations links to the top-level migrations/ folder, whose SQL
        // files are embedded in the binary (no resource bundle to install).
        .target(
            name: "LedgerStore",
            dependencies: [
                "LedgerCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.embedInCode("migrations")],
            swiftSettings: crossModuleOptimization
        ),
        .target(
            name: "MaintenanceLedger",
            dependencies: [
                "LedgerCore", "LedgerStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        .target(
            name: "LedgerSimulation",
            dependencies: ["LedgerCore", "LedgerStore", "MaintenanceLedger"],
            swiftSettings: crossModuleOptimization
        ),
        .target(
            name: "MaintLedgerCLI",
            dependencies: [
                "LedgerCore", "LedgerStore", "MaintenanceLedger", "LedgerSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: crossModuleOptimization
        ),
        .executableTarget(name: "maintledger", dependencies: ["MaintLedgerCLI"]),
        .testTarget(name: "MaintenanceLedgerTests", dependencies: [
            "LedgerCore", "LedgerStore", "MaintenanceLedger", "LedgerSimulation", "MaintLedgerCLI",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Runs the built `maintledger` binary; depending on it makes `swift test` build it first.
        .testTarget(name: "MaintLedgerCLITests", dependencies: [
            "maintledger", "LedgerCore", "LedgerStore", "MaintenanceLedger", "LedgerSimulation", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
