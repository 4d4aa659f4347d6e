import Foundation
import GRDB
import Testing

/// A small disk (a tmpfs of a few MB) that runs out of space under a command: a clear error,
/// nothing half-recorded, a ledger that verifies, and the same command succeeding once there is
/// room. Mounting needs root, as the tests run here; elsewhere these tests are skipped.
@Suite(.enabled(if: SmallDisk.canMount, "mounting a tmpfs needs root (CAP_SYS_ADMIN); the out-of-disk tests are skipped"))
struct OutOfDiskTests {
    /// An import far larger than the disk fails at its commit: nothing of the file is kept.
    @Test func anImportThatFillsTheDiskRecordsNothingAndSucceedsOnceThereIsRoom() throws {
        let lines = try Self.importLines()
        let sandbox = try LedgerSandbox(ledgerIn: "small")
        // 1 MB: the import's 1,646 maintenances take about 3 MB (the compact trail's 2 KB each).
        let disk = try SmallDisk(at: URL(fileURLWithPath: sandbox.dbPath).deletingLastPathComponent().path, megabytes: 1)
        defer { disk.unmount() }
        try sandbox.ok(["apps:create", "first-app"])
        let before = try sandbox.snapshot()
        let file = sandbox.folder.appendingPathComponent("fleet.ndjson").path
        try lines.write(toFile: file, atomically: true, encoding: .utf8)

        #expect(try sandbox.run(["import", file]) == RunResult(stdout: "", stderr: Self.fullDisk(sandbox.dbPath), exitCode: 74))
        #expect(try sandbox.snapshot() == before)
        #expect(try sandbox.expectVerifies() == 1)

        try disk.grow(toMegabytes: 64)
        let imported = try sandbox.ok(["import", file])
        #expect(imported.stderr.contains("\(lines.split(separator: "\n").count) new,"), "\(imported)")
        #expect(try sandbox.expectVerifies() > 1)
    }

    /// A single write on a disk with no byte left: refused, and readers say why they cannot read.
    @Test func aWriteOnAFullDiskRecordsNothing() throws {
        let sandbox = try LedgerSandbox(ledgerIn: "small")
        let disk = try SmallDisk(at: URL(fileURLWithPath: sandbox.dbPath).deletingLastPathComponent().path, megabytes: 2)
        defer { disk.unmount() }
        try sandbox.ok(["apps:create", "first-app"])
        let before = try sandbox.snapshot()
        try disk.fill()

        #expect(try sandbox.run(["apps:create", "second-app"]) == RunResult(stdout: "", stderr: Self.fullDisk(sandbox.dbPath), exitCode: 74))
        #expect(try sandbox.run(["history"]) == RunResult(stdout: "", stderr: """
            Error: the disk holding \(sandbox.dbPath) is full, and reading the ledger needs room for the small files SQLite keeps beside it
            Free some space and run the command again.

            """, exitCode: 74))

        try disk.emptyFiller()
        #expect(try sandbox.snapshot() == before)
        try sandbox.ok(["apps:create", "second-app"])
        #expect(try sandbox.expectVerifies() == 2)
    }

    /// A new ledger that cannot be written leaves no empty file and no folder behind.
    @Test func aNewLedgerOnAFullDiskLeavesNothing() throws {
        let sandbox = try LedgerSandbox(ledgerIn: "small")
        let mount = URL(fileURLWithPath: sandbox.dbPath).deletingLastPathComponent().path
        let disk = try SmallDisk(at: mount, megabytes: 1)
        defer { disk.unmount() }
        try disk.fill()
        let path = mount + "/team/ledger.sqlite"
        #expect(try sandbox.run(["apps:create", "first-app", "--db", path], useDB: false)
                == RunResult(stdout: "", stderr: Self.fullDisk(path), exitCode: 74))
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount) == [SmallDisk.fillerName])
    }

    /// An export onto a full disk fails naming the file, leaves no file that counts, and the next
    /// run once there is room exports every row once.
    @Test func anExportToAFullDiskIsSettledByTheNextRun() throws {
        let sandbox = try Fixture.pendingMaintenance()
        let folder = sandbox.folder.appendingPathComponent("exports").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let disk = try SmallDisk(at: folder, megabytes: 1)
        defer { disk.unmount() }
        try disk.fill()

        let failed = try sandbox.run(["export", "--to", folder])
        #expect(failed.exitCode == 74 && failed.stdout.isEmpty, "\(failed)")
        #expect(failed.stderr.hasPrefix("Error: cannot write \(folder)/maintenances-") && failed.stderr.hasSuffix(": No space left on device\n"), "\(failed)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted() == [SmallDisk.fillerName])

        try disk.emptyFiller()
        let exported = try sandbox.ok(["export", "--to", folder]).stdout.trimmingCharacters(in: .newlines)
        let uuids = try String(contentsOfFile: exported, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["uuid"] as? String
        }
        let recorded = try DatabaseQueue(path: sandbox.dbPath).read { db in try String.fetchAll(db, sql: "SELECT uuid FROM maintenances ORDER BY uuid") }
        #expect(uuids.compactMap { $0 }.sorted() == recorded)
    }

    static func fullDisk(_ path: String) -> String {
        """
        Error: the disk holding \(path) is full; nothing was recorded
        Free some space (or fix the disk) and run the command again; the ledger is as it was.

        """
    }

    /// A simulated fleet's maintenances as NDJSON (`history --ndjson`, what `import` reads): about 10 MB.
    static func importLines() throws -> String {
        let source = try LedgerSandbox()
        try source.ok(["simulate", "--apps", "150", "--days", "365", "--seed", "3"])
        return try source.ok(["history", "--ndjson"]).stdout
    }
}

/// A tmpfs mounted for one test, with a filler file to take its last bytes.
final class SmallDisk {
    static let fillerName = "filler"
    let path: String
    private var mounted = true

    init(at path: String, megabytes: Int) throws {
        self.path = path
        try Self.mount(["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", path])
    }

    func unmount() {
        guard mounted else { return }
        mounted = false
        _ = try? Self.mount(["-l", path], command: "/usr/bin/umount")
    }

    /// Writes the filler file until the disk refuses another byte.
    func fill() throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: createFiller()))
        defer { try? handle.close() }
        let block = Data(count: 4096)
        while (try? handle.write(contentsOf: block)) != nil {}
    }

    func emptyFiller() throws {
        try FileManager.default.removeItem(atPath: path + "/" + Self.fillerName)
    }

    /// Mounts the disk again read-only: a place no one, root included, can write.
    func makeReadOnly() throws {
        try Self.mount(["-o", "remount,ro", path])
    }

    func grow(toMegabytes megabytes: Int) throws {
        try Self.mount(["-o", "remount,size=\(megabytes)m", path])
    }

    private func createFiller() -> String {
        let filler = path + "/" + Self.fillerName
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        return filler
    }

    private static func mount(_ arguments: [String], command: String = "/usr/bin/mount") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSLocalizedDescriptionKey: "\(command) \(arguments.joined(separator: " ")) failed"])
        }
    }

    /// Whether this process may mount a tmpfs (tried once, on a folder of its own).
    static let canMount: Bool = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maintledger-mount-\(UUID().uuidString)").path
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil else { return false }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        guard (try? mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", folder])) != nil else { return false }
        _ = try? mount([folder], command: "/usr/bin/umount")
        return true
    }()
}
