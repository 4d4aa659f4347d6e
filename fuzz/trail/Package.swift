// swift-tools-version:6.0
import PackageDescription

// libFuzzer target for the trail's format 2 payloads (FuzzTrailPayload); see ../README.md for
// how to build and run it (`fuzz/run.sh 300 trail`).
//
// A package of its own, beside ../Package.swift, because its target compiles the trail's codec
// (Sources/LedgerStore/Trail/Codec, linked as Sources/FuzzTrailPayload/Codec), whose files
// `import LedgerCore`: here that is a target of this package, compiled from the main package's
// own sources (Sources/LedgerCore links to ../../Sources/LedgerCore), so the codec and
// LedgerCore's `package` API are in reach without SQLite or swift-crypto. ../Package.swift
// cannot hold it: it depends on the main package, whose LedgerCore would share the name, and
// SwiftPM refuses two targets of one name in a package graph.
let package = Package(
    name: "maintledger-fuzz-trail",
    platforms: [.macOS(.v13)],
    targets: [
        .target(name: "LibFuzzerDriver"),
        .target(name: "LedgerCore"),
        .executableTarget(name: "FuzzTrailPayload", dependencies: ["LibFuzzerDriver", "LedgerCore"]),
    ]
)
