// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for maintledger's parsers (issue 13). A package of its own, so that the
// main build and `swift test` never see it; see README.md here for how to build and run it.
//
// FuzzJSON and FuzzTimestamp compile LedgerCore's own sources into themselves (their
// `LedgerCore` folder is a link to ../Sources/LedgerCore): the parsers' entry points with bytes
// (`JSONValue.parse`, `Timestamp(iso:)` on a buffer) are `package` API of the main package,
// out of reach of another package. FuzzImport goes through the public `importMaintenances`.
//
// Each target's main.swift hands libFuzzer its callback through LLVMFuzzerRunDriver: SwiftPM
// links an executable with `main` set to the target's own entry point, not libFuzzer's main.

let package = Package(
    name: "maintledger-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "main", path: "..")],
    targets: [
        .target(name: "LibFuzzerDriver"),
        .executableTarget(name: "FuzzJSON", dependencies: ["LibFuzzerDriver"]),
        .executableTarget(name: "FuzzTimestamp", dependencies: ["LibFuzzerDriver"]),
        .executableTarget(name: "FuzzImport", dependencies: ["LibFuzzerDriver", .product(name: "MaintenanceLedger", package: "main")]),
    ]
)
