import Foundation
internal import GRDB
import LedgerCore

/// The Merkle tree over the trail as `trail_tree` keeps it (migration 0005 describes the table):
/// grown by each entry in the entry's transaction, read for roots and proofs.
package struct TrailTree {
    let db: Database

    init(_ db: Database) { self.db = db }

    package init(_ sql: LedgerSQL) { self.init(sql.db) }

    /// Stores the inner nodes entry `seq` completes: one per trailing 1 bit of its leaf index.
    /// With the tree's `edge` at hand (a batch keeps it) the siblings come from it; otherwise
    /// the first is the previous entry's leaf, whose hash the new entry links to, and the
    /// others are read back.
    func grow(seq: Int64, entryHash: String, prevHash: String, edge: inout Merkle.Edge?) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO trail_tree (last_seq, level, hash) VALUES (?, ?, ?)")
        if edge != nil {
            return try edge!.append(leaf: Merkle.leafHash(entryHash: entryHash)) { level, node in
                try insert.execute(binding: [.integer(seq), .integer(Int64(level)), .blob(node)])
            }
        }
        var node = Merkle.leafHash(entryHash: entryHash)
        var index = seq - 1
        var level = 0
        while index & 1 == 1 {
            let sibling = level == 0 ? Merkle.leafHash(entryHash: prevHash) : try stored(level: level, lastSeq: seq - (Int64(1) << level))
            node = Merkle.nodeHash(sibling, node)
            level += 1
            index >>= 1
            try insert.execute(binding: [.integer(seq), .integer(Int64(level)), .blob(node)])
        }
    }

    /// The right edge of the tree of the first `count` entries, for a batch to grow it from.
    func edge(count: Int64) throws -> Merkle.Edge {
        try Merkle.Edge(count: count, subtree)
    }

    /// The hash of the complete subtree of 2^level leaves ending with entry `lastSeq`.
    package func subtree(level: Int, lastSeq: Int64) throws -> Merkle.Hash {
        if level == 0 {
            guard let hash = try String.fetchOne(db.cachedStatement(sql: "SELECT hash FROM audit_trail WHERE seq = ?"), arguments: [lastSeq]) else {
                throw Self.missing("trail entry \(lastSeq)")
            }
            return Merkle.leafHash(entryHash: hash)
        }
        return try stored(level: level, lastSeq: lastSeq)
    }

    private func stored(level: Int, lastSeq: Int64) throws -> Merkle.Hash {
        guard let hash = try Data.fetchOne(db.cachedStatement(sql: "SELECT hash FROM trail_tree WHERE last_seq = ? AND level = ?"),
                                           arguments: [lastSeq, level]) else {
            throw Self.missing("the tree's node of level \(level) ending at seq \(lastSeq)")
        }
        return Array(hash)
    }

    private static func missing(_ what: String) -> LedgerError {
        .verificationFailed("\(what) is missing from the ledger; `maintledger audit:verify` checks the whole file")
    }

    package func root(size: Int64) throws -> Merkle.Hash {
        try Merkle.root(size: size, subtree)
    }

    package func inclusionProof(index: Int64, size: Int64) throws -> [Merkle.Hash] {
        try Merkle.inclusionProof(index: index, size: size, subtree)
    }

    package func consistencyProof(old: Int64, new: Int64) throws -> [Merkle.Hash] {
        try Merkle.consistencyProof(old: old, new: new, subtree)
    }

    /// Grows the tree over a trail written before it existed (the upgrade to schema 5), entry by
    /// entry in seq order, keeping the right edge (one node per level) in memory.
    static func build(_ db: Database) throws {
        var edge = Merkle.Edge()
        let insert = try db.cachedStatement(sql: "INSERT INTO trail_tree (last_seq, level, hash) VALUES (?, ?, ?)")
        let entries = try Row.fetchCursor(db, sql: "SELECT seq, hash FROM audit_trail ORDER BY seq")
        while let entry = try entries.next() {
            let seq: Int64 = entry[0]
            try edge.append(leaf: Merkle.leafHash(entryHash: entry[1])) { level, node in
                try insert.execute(binding: [.integer(seq), .integer(Int64(level)), .blob(node)])
            }
        }
    }
}
