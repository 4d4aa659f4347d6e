// swift-tools-version:6.0
import PackageDescription

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
        // Sources/MaintenanceLedger/migrations links to the top-level migrations/ folder,
        // whose SQL files are embedded in the binary (no resource bundle to install).
        .target(
            name: "MaintenanceLedger",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.embedInCode("migrations")]
        ),
        .target(
            name: "MaintLedgerCLI",
            dependencies: [
                "MaintenanceLedger",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "maintledger", dependencies: ["MaintLedgerCLI"]),
        .testTarget(name: "MaintenanceLedgerTests", dependencies: ["MaintenanceLedger"]),
        // Runs the built `maintledger` binary; depending on it makes `swift test` build it first.
        .testTarget(name: "MaintLedgerCLITests", dependencies: [
            "maintledger", "MaintenanceLedger", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
