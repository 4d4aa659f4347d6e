import Foundation
import GRDB
import MaintenanceLedger
import Testing

/// Signed checkpoints and proofs, end to end through the binary.
@Suite struct ProofCommandTests {
    /// A ledger with a few entries, a key and its verifier key.
    static func signedLedger() throws -> (sandbox: LedgerSandbox, key: String, vkey: String) {
        let sandbox = try Fixture.pendingMaintenance()
        let key = sandbox.folder.appendingPathComponent("log.key").path
        let vkey = try sandbox.ok(["audit:keygen", "--name", "example.com/maintledger", "--to", key], useDB: false).stdout
        return (sandbox, key, vkey.trimmingCharacters(in: .newlines))
    }

    func write(_ text: String, in sandbox: LedgerSandbox, as name: String) throws -> String {
        let path = sandbox.folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func keygenWritesAPrivateKeyOnceAndPrintsItsVerifierKey() throws {
        let (sandbox, key, vkey) = try Self.signedLedger()
        #expect(try #require(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber).intValue == 0o600)
        #expect(try String(contentsOfFile: key, encoding: .utf8).hasPrefix("PRIVATE+KEY+example.com/maintledger+"))
        #expect(vkey.wholeMatch(of: /example\.com\/maintledger\+[0-9a-f]{8}\+[A-Za-z0-9+\/]{44}/) != nil, "\(vkey)")
        let before = try LedgerSandbox.bytes(key)
        #expect(try sandbox.run(["audit:keygen", "--name", "other", "--to", key], useDB: false) == RunResult(stdout: "", stderr: """
            Error: cannot write the key to \(key): it exists (keys are never overwritten)
            Choose another file.

            """, exitCode: 1))
        #expect(try LedgerSandbox.bytes(key) == before)
        try sandbox.expectUsageError(["audit:keygen", "--name", "has space", "--to", key + "2"])
    }

    /// The checkpoint is a C2SP note over the head, recorded through the trail; verify with it
    /// passes, and a proof of an entry checks with no ledger.
    @Test func aCheckpointVerifiesAndProvesAnEntry() throws {
        let (sandbox, key, vkey) = try Self.signedLedger()
        let entries = try sandbox.expectVerifies()
        let note = try sandbox.ok(["audit:checkpoint", "--key", key]).stdout
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 6 && lines[0] == "example.com/maintledger" && lines[1] == "\(entries)" && lines[3].isEmpty && lines[4].hasPrefix("— example.com/maintledger "), "\(note)")
        let checkpoint = try write(note, in: sandbox, as: "checkpoint.txt")
        let verified = try sandbox.ok(["audit:verify", "--checkpoint", checkpoint, "--vkey", vkey]).stdout
        #expect(verified.hasPrefix("ok: \(entries + 1) entries verified, head ") && verified.hasSuffix("; 1 checkpoint hold\n"))
        #expect(try sandbox.trailEntries().last?["action"] as? String == "audit:checkpoint")

        let proof = try write(try sandbox.ok(["audit:prove", "2"]).stdout, in: sandbox, as: "entry.tlog-proof")
        let checked = try sandbox.ok(["audit:check-proof", proof, "--vkey", vkey], useDB: false).stdout
        #expect(checked.hasPrefix("ok: entry 2 is in example.com/maintledger's checkpoint of \(entries) entries\n\n{\"seq\":2,"), "\(checked)")

        // One byte changed anywhere that counts: the proof no longer checks.
        let text = try String(contentsOfFile: proof, encoding: .utf8)
        let hashLine = try #require(text.split(separator: "\n").dropFirst(3).first)
        let flipped = hashLine.first == "A" ? "B" + hashLine.dropFirst() : "A" + hashLine.dropFirst()
        let altered = try write(text.replacingOccurrences(of: hashLine, with: flipped), in: sandbox, as: "altered.tlog-proof")
        #expect(try sandbox.run(["audit:check-proof", altered, "--vkey", vkey], useDB: false)
                == RunResult(stdout: "", stderr: "Error: the proof does not verify: entry 2 is not in the tree of the checkpoint's \(entries) entries\n", exitCode: 3))
        let resigned = try write(text.replacingOccurrences(of: "\n\(entries)\n", with: "\n\(entries + 1)\n"), in: sandbox, as: "resized.tlog-proof")
        #expect(try sandbox.run(["audit:check-proof", resigned, "--vkey", vkey], useDB: false)
                == RunResult(stdout: "", stderr: "Error: the proof's checkpoint does not verify: its signature by example.com/maintledger is not over its text (the note was altered)\n", exitCode: 3))
    }

    /// A checkpoint kept elsewhere catches a ledger cut below it, or another ledger in its place.
    @Test func aCheckpointCatchesATruncatedOrRewrittenLedger() throws {
        let (sandbox, key, vkey) = try Self.signedLedger()
        try sandbox.ok(["apps:create", "later-app"])
        let checkpoint = try write(try sandbox.ok(["audit:checkpoint", "--key", key]).stdout, in: sandbox, as: "checkpoint.txt")
        let size = try sandbox.expectVerifies() - 1

        let rewritten = try Fixture.pendingMaintenance()
        try rewritten.ok(["apps:create", "other-app"])
        #expect(try rewritten.run(["audit:verify", "--checkpoint", checkpoint, "--vkey", vkey]) == RunResult(stdout: "", stderr: """
            Error: verification failed: the ledger's first \(size) entries do not have the root of the checkpoint \(checkpoint) (the trail was rewritten)

            """, exitCode: 3))

        try sandbox.tamper("""
            DROP TRIGGER audit_trail_append_only_delete; DROP TRIGGER trail_tree_append_only_delete;
            DELETE FROM audit_trail WHERE seq >= \(size); DELETE FROM trail_tree WHERE last_seq >= \(size); DELETE FROM apps WHERE name = 'later-app';
            """)
        #expect(try sandbox.run(["audit:verify", "--checkpoint", checkpoint, "--vkey", vkey]) == RunResult(stdout: "", stderr: """
            Error: verification failed: the checkpoint \(checkpoint) covers \(size) entries but the trail holds \(size - 1) (entries were removed)

            """, exitCode: 3))
    }

    @Test func badKeysAndNotesAreOneLineErrorsAndChangeNothing() throws {
        let (sandbox, key, vkey) = try Self.signedLedger()
        let note = try sandbox.ok(["audit:checkpoint", "--key", key]).stdout
        let otherKey = sandbox.folder.appendingPathComponent("other.key").path
        let otherVkey = try sandbox.ok(["audit:keygen", "--name", "example.com/maintledger", "--to", otherKey], useDB: false).stdout
            .trimmingCharacters(in: .newlines)
        let checkpoint = try write(note, in: sandbox, as: "checkpoint.txt")
        #expect(try sandbox.run(["audit:verify", "--checkpoint", checkpoint, "--vkey", otherVkey]) == RunResult(stdout: "", stderr: """
            Error: the checkpoint \(checkpoint) is signed by none of the given keys (example.com/maintledger)

            """, exitCode: 3))
        let altered = try write(note.replacingOccurrences(of: "example.com/maintledger\n", with: "example.com/other\n"), in: sandbox, as: "altered.txt")
        #expect(try sandbox.run(["audit:verify", "--checkpoint", altered, "--vkey", vkey]).exitCode == 3)

        chmod(key, 0o644)
        try sandbox.expectRefusal(["audit:checkpoint", "--key", key], stderr: """
            Error: the key file \(key) is readable by others (mode 644)
            A private key is readable by its owner only: chmod 600 \(key), and make a new key if others may have read it.

            """)
        let garbage = try write("not a key\n", in: sandbox, as: "garbage.key")
        chmod(garbage, 0o600)
        try sandbox.expectRefusal(["audit:checkpoint", "--key", garbage], stderr: """
            Error: \(garbage) is not a signing key (PRIVATE+KEY+NAME+ID+KEY)
            Pass the file `maintledger audit:keygen` wrote.

            """, exitCode: 64)
        try sandbox.expectRefusal(["audit:prove", "9999"], stderr: """
            Error: no trail entry 9999: the trail holds entries 1 to \(try sandbox.expectVerifies())
            Pick a seq from `maintledger audit:trail`.

            """)
        try sandbox.expectRefusal(["audit:verify", "--checkpoint", checkpoint, "--vkey", "nonsense"], stderr: """
            Error: 'nonsense' is not a verifier key (NAME+ID+KEY) or a file holding one
            Pass the line `maintledger audit:keygen` printed.

            """, exitCode: 64)
    }
}

extension ProofCommandTests {
    /// A scheduled export hands the latest checkpoint on with every file it writes.
    @Test func exportManifestsCarryTheLatestCheckpoint() throws {
        let (sandbox, key, _) = try Self.signedLedger()
        let folder = sandbox.folder.appendingPathComponent("exports").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let first = try sandbox.ok(["export", "--to", folder]).stdout.trimmingCharacters(in: .newlines)
        #expect(try Self.manifest(of: first)["checkpoint"] == nil)
        let note = try sandbox.ok(["audit:checkpoint", "--key", key]).stdout
        try sandbox.ok(["platform:maintenances:prepare", Fixture.addon])
        let second = try sandbox.ok(["export", "--to", folder]).stdout.trimmingCharacters(in: .newlines)
        #expect(try Self.manifest(of: second)["checkpoint"] as? String == note)
    }

    static func manifest(of file: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file + ".manifest.json"))) as? [String: Any])
    }
}

extension ProofCommandTests {
    /// A proof whose hashes belong to another tree than its (validly signed) checkpoint's fails.
    @Test func aProofForAnotherTreeDoesNotCheck() throws {
        let (sandbox, key, vkey) = try Self.signedLedger()
        _ = try sandbox.ok(["audit:checkpoint", "--key", key])
        let proof = try sandbox.ok(["audit:prove", "2"]).stdout
        try sandbox.ok(["apps:create", "later-app"])
        let newer = try sandbox.ok(["audit:checkpoint", "--key", key]).stdout
        let size = try #require(Int(newer.split(separator: "\n")[1]))
        // The same entry and hashes, under the newer checkpoint (signed by the same key).
        let spliced = String(proof[..<proof.range(of: "\n\n")!.upperBound]) + newer
        let path = sandbox.folder.appendingPathComponent("spliced.tlog-proof").path
        try spliced.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try sandbox.run(["audit:check-proof", path, "--vkey", vkey], useDB: false)
                == RunResult(stdout: "", stderr: "Error: the proof does not verify: entry 2 is not in the tree of the checkpoint's \(size) entries\n", exitCode: 3))
        try sandbox.expectUsageError(["audit:prove"])
        try sandbox.expectUsageError(["audit:prove", "2", "--from", "1"])
    }
}

extension ProofCommandTests {
    /// What a support engineer hands a customer: the proof of the entry that recorded a
    /// maintenance, which `audit:check-proof` shows as `data:maintenances:info` shows it (as
    /// far as the entry proves it), then the entry itself.
    @Test func checkProofShowsTheMaintenanceTheEntryRecorded() throws {
        let (sandbox, key, vkey) = try Self.signedLedger()
        let seq = try sandbox.expectVerifies() // the fixture's last entry: the maintenance required
        _ = try sandbox.ok(["audit:checkpoint", "--key", key])
        let path = sandbox.folder.appendingPathComponent("maintenance.tlog-proof").path
        try sandbox.ok(["audit:prove", String(seq)]).stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let shown = try sandbox.ok(["audit:check-proof", path, "--vkey", vkey], useDB: false).stdout
        let info = try sandbox.infoJSON(Fixture.addon)
        #expect(shown.hasPrefix("""
            ok: entry \(seq) is in example.com/maintledger's checkpoint of \(seq) entries

            addon_name:        \(Fixture.addon)
            id:                1
            method:            failover
            reason:            routine_maintenance
            required_by:       2023-05-03T08:54:02.518+00:00
            scheduled_for:     \(info["scheduled_for"] as! String)
            server_created_at: \(info["server_created_at"] as! String)
            status:            pending
            uuid:              \(info["uuid"] as! String)
            window:            Fridays 18:00 to 22:00 UTC

            {"seq":\(seq),
            """), "\(shown)")
    }
}

extension ProofCommandTests {
    /// A note signed with the log's key but naming another origin is not this log's checkpoint.
    @Test func aNoteForAnotherOriginIsRefused() throws {
        let (sandbox, key, vkey) = try Self.signedLedger()
        let signer = try #require(SignedNote.Signer(encoded: try String(contentsOfFile: key, encoding: .utf8).trimmingCharacters(in: .newlines)))
        let note = try signer.sign("example.com/another-log\n3\n\(Data(count: 32).base64EncodedString())\n")
        let path = sandbox.folder.appendingPathComponent("other-origin.txt").path
        try note.write(toFile: path, atomically: true, encoding: .utf8)
        try sandbox.expectRefusal(["audit:verify", "--checkpoint", path, "--vkey", vkey], stderr: """
            Error: the checkpoint \(path) is the checkpoint of example.com/another-log, which none of the given keys names

            """, exitCode: 3)
    }
}

extension ProofCommandTests {
    /// An attacker with the file edits the recorded checkpoint (its root, to match a rewrite)
    /// or plants a trigger on the tree: verify names the row, and no checkpoint is recorded.
    @Test func anEditedCheckpointRowOrAPlantedTreeTriggerIsCaught() throws {
        let (sandbox, key, _) = try Self.signedLedger()
        _ = try sandbox.ok(["audit:checkpoint", "--key", key])
        let seq = try sandbox.expectVerifies()
        try sandbox.tamper("""
            DROP TRIGGER checkpoints_append_only_update;
            UPDATE checkpoints SET root_hash = '\(Data(count: 32).base64EncodedString())';
            """)
        #expect(try sandbox.run(["audit:verify"]) == RunResult(stdout: "", stderr: """
            Error: verification failed at seq \(seq): checkpoints row 1 differs from what the trail recorded

            """, exitCode: 3))

        // Nothing to checkpoint: refused, and the ledger the command would have created is not left.
        let empty = sandbox.folder.appendingPathComponent("new/ledger.sqlite").path
        #expect(try sandbox.run(["audit:checkpoint", "--key", key, "--db", empty], useDB: false) == RunResult(stdout: "", stderr: """
            Error: the trail is empty: there is nothing to checkpoint
            Record something first.

            """, exitCode: 1))
        #expect(!FileManager.default.fileExists(atPath: sandbox.folder.appendingPathComponent("new").path))

        let planted = try Self.signedLedger()
        try planted.sandbox.tamper("CREATE TRIGGER zz AFTER INSERT ON trail_tree BEGIN SELECT 1; END")
        try planted.sandbox.expectRefusal(["audit:checkpoint", "--key", planted.key], stderr: """
            Error: the ledger was altered outside maintledger (trigger zz is defined by no migration), so nothing was recorded; `maintledger audit:verify` checks the whole file

            """, exitCode: 3)
    }
}

extension ProofCommandTests {
    /// A tick of the engine is one entry for all its steps: the proof of it shows each
    /// maintenance once, its changes merged in order (here required and then started, prepared,
    /// made ready and completed the same day), with the row's id where the entry only updated it.
    @Test func checkProofMergesTheChangesOfAMaintenanceInOneEntry() throws {
        let sandbox = try LedgerSandbox()
        sandbox.now = "2023-05-01T00:00:00Z"
        try sandbox.ok(["simulate", "--apps", "3", "--days", "120", "--start", "2023-01-01", "--seed", "1"])
        let key = sandbox.folder.appendingPathComponent("log.key").path
        let vkey = try sandbox.ok(["audit:keygen", "--name", "example.com/maintledger", "--to", key], useDB: false).stdout.trimmingCharacters(in: .newlines)
        _ = try sandbox.ok(["audit:checkpoint", "--key", key])
        let path = sandbox.folder.appendingPathComponent("tick.tlog-proof").path
        try sandbox.ok(["audit:prove", "61"]).stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let shown = try sandbox.ok(["audit:check-proof", path, "--vkey", vkey], useDB: false).stdout
        #expect(shown.hasPrefix("""
            ok: entry 61 is in example.com/maintledger's checkpoint of 133 entries

            id:                5
            method:            failover
            reason:            routine_maintenance
            required_by:       2023-03-03T05:12:20.921+00:00
            scheduled_for:     2023-03-02T21:30:00.000+00:00
            server_created_at: 2022-12-03T05:12:20.921+00:00
            status:            pending
            uuid:              b5f835ac-7d2f-4210-aa8b-c8c36dd8e132
            window:            Thursdays 21:30 to Fridays 01:30 UTC

            completed_at:         2023-02-17T21:04:00.638+00:00
            duration_approximate: ~ 3 minutes
            duration_seconds:     197
            id:                   4
            started_at:           2023-02-17T21:00:43.460+00:00
            status:               completed

            {"seq":61,"recorded_at":"2023-02-18T00:00:00.000Z","actor":"platform","action":"platform:tick","subject":"engine",
            """), "\(shown)")
    }
}
