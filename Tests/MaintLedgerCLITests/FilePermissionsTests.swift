import Foundation
import Testing

/// A ledger names customers and who did what: its file is readable by its owner only, and so
/// are the folders made for it, whatever the umask; a command that records makes a file others
/// could read private, and says so; a command that only reads changes nothing.
@Suite struct FilePermissionsTests {
    static func mode(_ path: String) throws -> Int {
        try #require((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue)
    }

    /// With umask 000, the folders were 0777 (the file was already 0600).
    @Test func foldersMadeForALedgerArePrivateWhateverTheUmask() throws {
        let sandbox = try LedgerSandbox()
        #expect(try sandbox.shell("umask 000; \"$BIN\" apps:create example-app --db \"$HOME/a/b/ledger.sqlite\"").exitCode == 0)
        let folder = sandbox.folder.path
        #expect(try [Self.mode("\(folder)/a"), Self.mode("\(folder)/a/b"), Self.mode("\(folder)/a/b/ledger.sqlite")] == [0o700, 0o700, 0o600])
    }

    /// An empty file of mode 0644 became a ledger and stayed 0644.
    @Test func aFileOthersCouldReadIsMadePrivateByACommandThatRecords() throws {
        let sandbox = try LedgerSandbox()
        #expect(FileManager.default.createFile(atPath: sandbox.dbPath, contents: nil, attributes: [.posixPermissions: 0o644]))
        #expect(try sandbox.run(["apps:create", "example-app"]) == RunResult(stdout: "", stderr: """
            Warning: \(sandbox.dbPath) was readable by others (mode 644); it and its WAL are now readable by their owner only (600)
            Creating ⬢ example-app... done

            """, exitCode: 0))
        #expect(try Self.mode(sandbox.dbPath) == 0o600)
        _ = try sandbox.expectVerifies()
    }

    @Test func aCommandThatOnlyReadsLeavesTheModeAlone() throws {
        let sandbox = try Fixture.exampleApp()
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: sandbox.dbPath)
        try sandbox.ok(["data:maintenances", "-a", "example-app"])
        #expect(try Self.mode(sandbox.dbPath) == 0o644)
    }
}
