import Foundation
import Testing

/// The layers (README: Development): each target imports only what its layer may. SwiftPM's
/// target graph already stops a lower layer from importing a higher one (it is not built yet);
/// this checks what the graph cannot, that a layer does not reach past the one below it (the
/// domain importing GRDB), and that the store keeps GRDB out of its own interface.
@Suite struct LayerRulesTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources").standardized

    static let allowedImports: [String: Set<String>] = [
        "LedgerCore": ["Foundation"],
        // CCryptoBoringSSL: swift-crypto's BoringSSL, which SHA256Hasher calls directly on Linux.
        "LedgerStore": ["Foundation", "Dispatch", "Crypto", "CCryptoBoringSSL", "LedgerCore", "GRDB", "GRDBSQLite"],
        "MaintenanceLedger": ["Foundation", "Crypto", "LedgerCore", "LedgerStore"],
        "LedgerSimulation": ["Foundation", "LedgerCore", "LedgerStore", "MaintenanceLedger"],
        "MaintLedgerCLI": ["Foundation", "ArgumentParser", "LedgerCore", "LedgerStore", "MaintenanceLedger", "LedgerSimulation"],
        "maintledger": ["MaintLedgerCLI"],
    ]

    /// Every `import` line of a target's files: (file, access, module).
    static func imports(of target: String) throws -> [(file: String, access: String?, module: String)] {
        let folder = sources.appendingPathComponent(target)
        let files = try #require(FileManager.default.enumerator(atPath: folder.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        return try files.flatMap { file in
            try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").compactMap { line in
                let words = line.split(separator: " ").map(String.init)
                if words.first == "import", words.count == 2 { return (file, nil, words[1]) }
                if words.count == 3, words[1] == "import" { return (file, words[0], words[2]) }
                return nil
            }
        }
    }

    @Test func everyTargetFolderHasItsRule() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { !$0.hasPrefix(".") }
        #expect(Set(folders) == Set(Self.allowedImports.keys))
    }

    @Test(arguments: allowedImports.keys.sorted())
    func importsOnlyTheLayersBelow(target: String) throws {
        for (file, _, module) in try Self.imports(of: target) {
            #expect(Self.allowedImports[target]!.contains(module), "\(target)/\(file) imports \(module)")
        }
    }

    /// Above the domain there is no SQL and no write path: the simulation and the CLI ask and
    /// command through `Ledger`, never through what the store lends the domain.
    @Test(arguments: ["LedgerSimulation", "MaintLedgerCLI"])
    func layersAboveTheDomainHoldNoSQL(target: String) throws {
        let folder = Self.sources.appendingPathComponent(target)
        let files = try #require(FileManager.default.enumerator(atPath: folder.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for name in ["LedgerSQL", "Mutation", "RawColumns", "SQLArguments"] {
                #expect(text.range(of: "\\b\(name)\\b", options: .regularExpression) == nil, "\(target)/\(file) uses \(name)")
            }
        }
    }

    /// fuzz/trail compiles the trail's codec beside LedgerCore's sources, without GRDB or
    /// swift-crypto: what is in that folder may import nothing else.
    @Test func theTrailCodecImportsOnlyLedgerCore() throws {
        let imports = try Self.imports(of: "LedgerStore/Trail/Codec")
        #expect(!imports.isEmpty)
        for (file, _, module) in imports {
            #expect(["Foundation", "LedgerCore"].contains(module), "LedgerStore/Trail/Codec/\(file) imports \(module)")
        }
    }

    @Test func theStoreImportsGRDBInternallySoNoneOfItsTypesLeak() throws {
        let grdb = try Self.imports(of: "LedgerStore").filter { $0.module.hasPrefix("GRDB") }
        #expect(!grdb.isEmpty)
        for (file, access, module) in grdb {
            #expect(access == "internal", "LedgerStore/\(file) imports \(module) without `internal`")
        }
    }
}
