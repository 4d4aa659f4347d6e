import Foundation
import GRDB
import Testing

/// `backup --to FILE`: a verified copy of the ledger, taken while others record; and, whenever
/// it fails or is killed, nothing at FILE and the ledger untouched.
@Suite struct BackupCommandTests {
    /// A path in the sandbox's folder `backups` (made if missing).
    static func target(_ sandbox: LedgerSandbox, _ name: String = "ledger-backup.sqlite") throws -> String {
        let folder = sandbox.folder.appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    static func backupFolder(_ sandbox: LedgerSandbox) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: sandbox.folder.appendingPathComponent("backups").path).sorted()
    }

    /// `audit:verify` on another file than the sandbox's ledger.
    static func verify(_ sandbox: LedgerSandbox, _ file: String) throws -> RunResult {
        try sandbox.run(["audit:verify", "--db", file], useDB: false)
    }

    /// A refused backup: exact stderr and exit code, no output, and nothing written anywhere (the
    /// ledger's bytes, and every file in the sandbox, as they were).
    static func expectRefusal(_ sandbox: LedgerSandbox, _ arguments: [String], stderr: String, exitCode: Int32 = 1,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ledger = try LedgerSandbox.bytes(sandbox.dbPath), files = try sandbox.folderContents()
        #expect(try sandbox.run(arguments) == RunResult(stdout: "", stderr: stderr, exitCode: exitCode), sourceLocation: sourceLocation)
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == ledger, "the ledger changed", sourceLocation: sourceLocation)
        #expect(try sandbox.folderContents() == files, "a file was left", sourceLocation: sourceLocation)
    }

    /// A simulated fleet (2.6 MB, 905 entries), large enough that a backup takes a while.
    static func fleet() throws -> LedgerSandbox {
        let sandbox = try LedgerSandbox()
        try sandbox.install(fleetLedger.get())
        return sandbox
    }

    private static let fleetLedger = Result {
        let sandbox = try LedgerSandbox()
        try sandbox.ok(["simulate", "--apps", "100", "--days", "365", "--start", "2022-01-01", "--seed", "1"])
        return try LedgerSandbox.bytes(sandbox.dbPath)
    }

    /// The backup prints the verdict `audit:verify` prints on it, is private whatever the
    /// umask, answers as the ledger does, and is all that is left in the folder.
    @Test func aBackupIsAPrivateVerifiedCopyOfTheLedger() throws {
        let sandbox = try Fixture.seedExample()
        let file = try Self.target(sandbox)
        let ledger = try LedgerSandbox.bytes(sandbox.dbPath)
        let verdict = try sandbox.ok(["audit:verify"]).stdout
        #expect(verdict.hasPrefix("ok: 6 entries verified, head "))

        #expect(try sandbox.shell("umask 000; \"$BIN\" backup --to '\(file)' --db \"$DB\"")
                == RunResult(stdout: verdict, stderr: "Backing up \(sandbox.dbPath) to \(file)... done\n", exitCode: 0))
        #expect(try Self.verify(sandbox, file) == RunResult(stdout: verdict, stderr: "", exitCode: 0))
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600)
        #expect(try sandbox.ok(["history", "--csv", "--db", file], useDB: false).stdout == sandbox.ok(["history", "--csv"]).stdout)
        #expect(try Self.backupFolder(sandbox) == ["ledger-backup.sqlite"])
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == ledger)
        #expect(try sandbox.folderContents().filter { $0.hasPrefix("ledger.sqlite") } == ["ledger.sqlite"])
    }

    @Test func anExistingFileIsReplacedOnlyWithForce() throws {
        let sandbox = try Fixture.seedExample()
        let file = try Self.target(sandbox)
        try Data("an earlier backup".utf8).write(to: URL(fileURLWithPath: file))
        try Self.expectRefusal(sandbox, ["backup", "--to", file], stderr: """
            Error: \(file) exists; backup replaces a file only with --force
            Choose a new file, or pass --force to replace it.

            """)
        #expect(try LedgerSandbox.bytes(file) == Data("an earlier backup".utf8))

        let replaced = try sandbox.ok(["backup", "--to", file, "--force"])
        #expect(replaced.stdout.hasPrefix("ok: 6 entries verified, head "), "\(replaced)")
        #expect(try Self.verify(sandbox, file).stdout == replaced.stdout)
        let left = try Self.backupFolder(sandbox)
        #expect(left == ["ledger-backup.sqlite"], "the folder holds \(left)")
    }

    /// Each bad target is refused before anything is written, with --force too where it
    /// could matter: one `Error:` line and the fix.
    @Test func aBadTargetIsRefusedAndLeavesEverythingAsItWas() throws {
        let sandbox = try Fixture.seedExample()
        let file = try Self.target(sandbox)
        let folder = (file as NSString).deletingLastPathComponent
        try Data().write(to: URL(fileURLWithPath: file + "-wal"))
        let cases: [(arguments: [String], stderr: String)] = [
            (["--to", folder, "--force"], "Error: \(folder) is a folder\nPoint --to at a file, such as \(folder)/ledger-backup.sqlite.\n"),
            (["--to", folder + "/"], "Error: \(folder)/ is a folder\nPoint --to at a file, such as \(folder)/ledger-backup.sqlite.\n"),
            (["--to", folder + "/missing/ledger.sqlite"],
             "Error: no folder at \(folder)/missing\nCreate it first, or point --to at a file in an existing folder.\n"),
            (["--to", sandbox.dbPath + "/ledger.sqlite"], "Error: \(sandbox.dbPath) is not a folder\nPoint --to at a file in a folder.\n"),
            (["--to", sandbox.dbPath, "--force"],
             "Error: \(sandbox.dbPath) is the ledger, or a file SQLite keeps beside it\nPoint --to at another file.\n"),
            (["--to", sandbox.folder.path + "/./ledger.sqlite-wal", "--force"],
             "Error: \(sandbox.folder.path)/./ledger.sqlite-wal is the ledger, or a file SQLite keeps beside it\nPoint --to at another file.\n"),
            (["--to", "/dev/null", "--force"],
             "Error: /dev/null is not a regular file\nPoint --to at a new file, or at an earlier backup to replace with --force.\n"),
            (["--to", file], """
             Error: \(file)-wal exists, and SQLite would apply it to a backup at \(file)
             If no program has \(file) open, remove \(file)-wal; or choose another file.

             """),
        ]
        for (arguments, stderr) in cases {
            try Self.expectRefusal(sandbox, ["backup"] + arguments, stderr: stderr)
        }
        let missingTo = try sandbox.run(["backup"])
        #expect(missingTo.exitCode == 64 && missingTo.stdout.isEmpty, "\(missingTo)")
        #expect(missingTo.stderr.hasPrefix("Error: Missing expected argument '--to <file>'\n"), "\(missingTo)")
        #expect(try Self.backupFolder(sandbox) == ["ledger-backup.sqlite-wal"])
    }

    /// A missing ledger is refused as by every reader, and nothing is made.
    @Test func aMissingLedgerIsRefusedAndNothingIsMade() throws {
        let sandbox = try LedgerSandbox()
        let file = try Self.target(sandbox)
        #expect(try sandbox.run(["backup", "--to", file]) == RunResult(stdout: "", stderr: """
            Error: no ledger at \(sandbox.dbPath)
            Record something first (for example `maintledger apps:create APP`), or point --db or MAINTLEDGER_DB at an existing ledger.

            """, exitCode: 1))
        #expect(try sandbox.folderContents() == ["backups"])
    }

    /// A writer holding the lock with a change it has not committed: the backup neither waits
    /// for it (the ledger is only read) nor copies the change.
    @Test func aBackupNeitherWaitsForAWriterNorCopiesWhatItHasNotCommitted() throws {
        let sandbox = try Fixture.seedExample()
        let file = try Self.target(sandbox)
        let verdict = try sandbox.ok(["audit:verify"]).stdout
        let writer = try DatabaseQueue(path: sandbox.dbPath)
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "UPDATE apps SET maintenance_mode = 1")
            let started = Date()
            #expect(try sandbox.run(["backup", "--to", file]).stdout == verdict)
            #expect(Date().timeIntervalSince(started) < 5, "the backup waited for the writer's lock")
            try db.execute(sql: "ROLLBACK")
        }
        #expect(try sandbox.ok(["maintenance", "-a", "example-app", "--db", file], useDB: false).stdout == "off\n")
    }

    /// Backups taken while another process records without pause (a new `apps:create` as soon
    /// as the last exits): the trail grows while each runs, and each backup is the ledger as one
    /// of its commits left it: it verifies, and its head is the ledger's entry of that seq.
    @Test func backupsTakenWhileAnotherProcessRecordsAreEachAStateTheLedgerHad() throws {
        let sandbox = try Self.fleet()
        let stop = sandbox.folder.appendingPathComponent("stop").path
        let writer = try RunningBinary(
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", "i=0; while [ ! -e \"$STOP\" ]; do i=$((i+1)); \"$BIN\" apps:create \"writer-app-$i\" --db \"$DB\" 2>/dev/null || exit 1; done; echo $i"],
            environment: ["BIN": LedgerSandbox.binary.path, "DB": sandbox.dbPath, "STOP": stop, "MAINTLEDGER_NOW": sandbox.now,
                          "MAINTLEDGER_ACTOR": "writer", "HOME": sandbox.folder.path, "PATH": "/usr/bin:/bin"],
            folder: sandbox.folder)
        let trail = try DatabaseQueue(path: sandbox.dbPath)
        func entries() throws -> Int { try trail.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail")! } }

        var backups: [(before: Int, entries: Int, head: String, after: Int)] = []
        for number in 1...6 {
            let before = try entries()
            let result = try sandbox.run(["backup", "--to", try Self.target(sandbox, "backup-\(number).sqlite")])
            let after = try entries()
            let match = try #require(try /ok: (\d+) entries verified, head ([0-9a-f]{64})\n/.wholeMatch(in: result.stdout), "\(result)")
            backups.append((before, Int(match.1)!, String(match.2), after))
        }
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        let written = try writer.finish()
        #expect(written.exitCode == 0, "\(written)")

        for (number, backup) in zip(1..., backups) {
            #expect(backup.before <= backup.entries && backup.entries <= backup.after, "\(backup)")
            let hash = try trail.read { db in try String.fetchOne(db, sql: "SELECT lower(hex(hash)) FROM audit_trail WHERE seq = ?", arguments: [backup.entries]) }
            #expect(hash == backup.head, "backup \(number) is no state the ledger had")
            #expect(try Self.verify(sandbox, try Self.target(sandbox, "backup-\(number).sqlite")).exitCode == 0)
        }
        #expect(backups.contains { $0.after > $0.before }, "no backup ran while the writer recorded: \(backups)")
        #expect(try sandbox.expectVerifies() > backups.last!.entries)
    }

    /// Killed at moments spread over a whole backup's time, a backup leaves nothing at FILE,
    /// only its hidden temporary file, which the next backup removes, saying so.
    @Test func aBackupKilledAtAnyMomentLeavesNothingAtItsFile() throws {
        let sandbox = try Self.fleet()
        let file = try Self.target(sandbox)
        let ledger = try LedgerSandbox.bytes(sandbox.dbPath)
        let started = Date()
        try sandbox.ok(["backup", "--to", file])
        let duration = Date().timeIntervalSince(started)
        try FileManager.default.removeItem(atPath: file)

        var killed = 0
        for trial in 0...11 {
            let backup = try sandbox.start(["backup", "--to", file])
            Thread.sleep(forTimeInterval: duration * Double(trial) / 10)
            backup.kill()
            let ended = try backup.finish().exitCode == 0
            if !ended { killed += 1 }
            if FileManager.default.fileExists(atPath: file) {
                // It ended, or was killed once the copy was verified and linked into place (then
                // only syncing its folder was left): either way a whole backup.
                #expect(try Self.verify(sandbox, file).exitCode == 0, "a backup (trial \(trial), killed: \(!ended)) left a copy that does not verify")
                try FileManager.default.removeItem(atPath: file)
            } else {
                #expect(!ended, "a backup that exited 0 (trial \(trial)) left nothing at \(file)")
            }
            let left = try Self.backupFolder(sandbox)
            #expect(left.allSatisfy { $0.hasPrefix(".maintledger-backup-tmp-") }, "trial \(trial) left \(left)")
        }
        #expect(killed >= 6, "only \(killed) of 12 backups were killed midway")

        let leftovers = try Self.backupFolder(sandbox)
        let result = try sandbox.ok(["backup", "--to", file])
        let folder = (file as NSString).deletingLastPathComponent
        #expect(result.stderr == leftovers.map { "Removed \(folder)/\($0), which an interrupted backup left\n" }.joined()
                + "Backing up \(sandbox.dbPath) to \(file)... done\n")
        #expect(try Self.backupFolder(sandbox) == ["ledger-backup.sqlite"])
        #expect(try Self.verify(sandbox, file).stdout == result.stdout)
        #expect(try LedgerSandbox.bytes(sandbox.dbPath) == ledger)
    }
}

/// A backup to a disk with too little room, or one no one may write: refused, nothing left,
/// the ledger untouched. Mounting needs root, as the tests run here; elsewhere they are skipped.
@Suite(.enabled(if: SmallDisk.canMount, "mounting a tmpfs needs root (CAP_SYS_ADMIN); these tests are skipped"))
struct BackupOutOfRoomTests {
    @Test func aBackupToAFullDiskLeavesNothingAndSucceedsOnceThereIsRoom() throws {
        let sandbox = try BackupCommandTests.fleet()
        let file = try BackupCommandTests.target(sandbox)
        let folder = (file as NSString).deletingLastPathComponent
        let disk = try SmallDisk(at: folder, megabytes: 1) // the ledger takes 2.6 MB
        defer { disk.unmount() }
        try BackupCommandTests.expectRefusal(sandbox, ["backup", "--to", file], stderr: """
            Error: the disk holding \(file) is full; no backup was written
            Free some space, or back up to another disk; the ledger is as it was.

            """, exitCode: 74)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [])

        try disk.grow(toMegabytes: 8)
        let result = try sandbox.ok(["backup", "--to", file])
        #expect(try BackupCommandTests.verify(sandbox, file).stdout == result.stdout)
    }

    @Test func aBackupToAPlaceNoOneMayWriteIsRefused() throws {
        let sandbox = try Fixture.seedExample()
        let file = try BackupCommandTests.target(sandbox)
        let folder = (file as NSString).deletingLastPathComponent
        let disk = try SmallDisk(at: folder, megabytes: 1)
        defer { disk.unmount() }
        try disk.makeReadOnly()
        try BackupCommandTests.expectRefusal(sandbox, ["backup", "--to", file], stderr: """
            Error: cannot write to \(folder): Read-only file system
            Point --to at a file in a folder you can write to.

            """)
    }
}
