import Foundation
import LedgerCore
import LedgerStore

/// A C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the tree of the trail's first
/// `size` entries has root `root`, in the note of the log named `origin`.
public struct Checkpoint: Equatable, Sendable {
    public let origin: String
    public let size: Int64
    public let root: Merkle.Hash

    /// The note's text: origin, size and base64 root, one line each.
    public var text: String { "\(origin)\n\(size)\n\(Data(root).base64EncodedString())\n" }

    /// Reads a checkpoint's text (extension lines after the third are allowed and ignored).
    public init?(text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines.last == "", !lines[0].isEmpty,
              let size = Int64(lines[1]), size >= 0, String(size) == lines[1],
              let root = Data(base64Encoded: String(lines[2])), root.count == 32 else { return nil }
        (origin, self.size, self.root) = (String(lines[0]), size, Array(root))
    }

    /// `audit:verify`: every checkpoint recorded in the ledger still holds: the tree at its size
    /// has its root (a trail rewritten under it, hashes and tree and all, is caught here).
    static func checkRecorded(_ sql: LedgerSQL, head: Int64) throws {
        let tree = TrailTree(sql)
        try sql.rows("SELECT id, tree_size, root_hash FROM checkpoints ORDER BY id") { row in
            let (id, size, root): (Int64, Int64, String) = (row[0], row[1], row[2])
            guard size <= head, Data(try tree.root(size: size)).base64EncodedString() == root else {
                throw LedgerError.verificationFailed("verification failed: the checkpoint recorded as checkpoints row \(id) (\(size) entries) no longer holds: the trail was rewritten under it")
            }
        }
    }

    static func latestNote(_ sql: LedgerSQL) throws -> String? {
        try sql.value(String.self, "SELECT note FROM checkpoints ORDER BY tree_size DESC, id DESC LIMIT 1")
    }

    init(origin: String, size: Int64, root: Merkle.Hash) {
        (self.origin, self.size, self.root) = (origin, size, root)
    }

    /// Opens a signed checkpoint note with `verifiers`; a note that does not open, or whose
    /// text is not a checkpoint, is exit 3 with what is wrong.
    public static func open(_ note: String, verifiers: [SignedNote.Verifier], what: String) throws -> Checkpoint {
        let text: String
        do {
            text = try SignedNote.open(note, verifiers: verifiers)
        } catch .malformed(let problem) {
            throw LedgerError.verificationFailed("\(what) is not a signed note: \(problem)")
        } catch .badSignature(let name) {
            throw LedgerError.verificationFailed("\(what) does not verify: its signature by \(name) is not over its text (the note was altered)")
        } catch .noKnownSignature {
            throw LedgerError.verificationFailed("\(what) is signed by none of the given keys (\(verifiers.map(\.name).joined(separator: ", ")))")
        }
        guard let checkpoint = Checkpoint(text: text) else {
            throw LedgerError.verificationFailed("\(what) is not a checkpoint (origin, tree size and root hash, a line each)")
        }
        guard verifiers.contains(where: { $0.name == checkpoint.origin }) else {
            throw LedgerError.verificationFailed("\(what) is the checkpoint of \(checkpoint.origin), which none of the given keys names")
        }
        return checkpoint
    }
}

extension Ledger {
    /// `audit:checkpoint`: signs the checkpoint of the trail as it stands and records it, in the
    /// same transaction, after checking that the tree still has the root of every checkpoint
    /// recorded before (the ledger was not rewritten under one). Returns the signed note.
    public func recordCheckpoint(signer: SignedNote.Signer) throws -> String {
        try database.record(context) { mutation in
            let sql = mutation.sql
            let tree = TrailTree(sql)
            guard let size = try sql.value(Int64.self, "SELECT seq FROM audit_trail ORDER BY seq DESC LIMIT 1") else {
                throw LedgerError.refused("the trail is empty: there is nothing to checkpoint", hint: "Record something first.")
            }
            try sql.rows("SELECT tree_size, root_hash, recorded_at FROM checkpoints ORDER BY id") { earlier in
                let (earlierSize, earlierRoot, recordedAt): (Int64, String, String) = (earlier[0], earlier[1], earlier[2])
                guard Data(try tree.root(size: earlierSize)).base64EncodedString() == earlierRoot else {
                    throw LedgerError.verificationFailed("the ledger was altered under the checkpoint of \(earlierSize) entries recorded at \(recordedAt): its tree no longer has that root, so nothing was recorded; `maintledger audit:verify` checks the whole file")
                }
            }
            let checkpoint = Checkpoint(origin: signer.name, size: size, root: try tree.root(size: size))
            let note = try signer.sign(checkpoint.text)
            mutation.describe(action: "audit:checkpoint", subject: "trail:\(size)")
            try mutation.insert(.checkpoints, ["origin": checkpoint.origin, "tree_size": size,
                                               "root_hash": Data(checkpoint.root).base64EncodedString(), "note": note,
                                               "recorded_at": context.now])
            return note
        }
    }
}

extension LedgerQuerying {
    /// `audit:verify --checkpoint`: the ledger's tree at the checkpoint's size has its root.
    /// A ledger cut below the checkpoint, or rewritten under it, is exit 3 saying which.
    public func checkAgainst(_ checkpoint: Checkpoint, what: String) throws {
        try reader.read { sql in
            let head = try sql.value(Int64.self, "SELECT seq FROM audit_trail ORDER BY seq DESC LIMIT 1") ?? 0
            guard checkpoint.size <= head else {
                throw LedgerError.verificationFailed("verification failed: \(what) covers \(checkpoint.size) entries but the trail holds \(head) (entries were removed)")
            }
            guard checkpoint.size > 0, try TrailTree(sql).root(size: checkpoint.size) == checkpoint.root else {
                throw LedgerError.verificationFailed("verification failed: the ledger's first \(checkpoint.size) entries do not have the root of \(what) (the trail was rewritten)")
            }
        }
    }

    /// The latest checkpoint recorded, if any (its signed note).
    public func latestCheckpoint() throws -> String? {
        try reader.read(Checkpoint.latestNote)
    }
}
