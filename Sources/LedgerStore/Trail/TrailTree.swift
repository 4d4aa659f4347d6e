import Foundation
internal import GRDB
import LedgerCore

/// The Merkle tree over the trail as `trail_tree` keeps it (migrations 0005 and 0006 describe
/// the table): grown by each entry in the entry's transaction, read for roots and proofs.
package struct TrailTree {
    let db: Database

    /// Nodes of this level and up are stored; one below is at most 16 entries' hashes away.
    package static let lowestStoredLevel = 4

    init(_ db: Database) { self.db = db }

    package init(_ sql: LedgerSQL) { self.init(sql.db) }

    /// Stores the inner nodes of level 4 and up that entry `seq` completes (one per trailing 1
    /// bit of its leaf index, from the fifth). The siblings come from the tree's right `edge`,
    /// which a batch keeps; a single command reads it (a few rows).
    func grow(seq: Int64, entryHash: String, edge: inout Merkle.Edge?) throws {
        if edge == nil { edge = try self.edge(count: seq - 1) }
        let insert = try db.cachedStatement(sql: "INSERT INTO trail_tree (last_seq, level, hash) VALUES (?, ?, ?)")
        try edge!.append(leaf: Merkle.leafHash(entryHash: entryHash)) { level, node in
            guard level >= Self.lowestStoredLevel else { return }
            try insert.execute(binding: [.integer(seq), .integer(Int64(level)), .blob(node)])
        }
    }

    /// The right edge of the tree of the first `count` entries, for a batch to grow it from.
    func edge(count: Int64) throws -> Merkle.Edge {
        try Merkle.Edge(count: count, subtree)
    }

    /// The hash of the complete subtree of 2^level leaves ending with entry `lastSeq`: stored,
    /// or below level 4 folded from its entries' hashes.
    package func subtree(level: Int, lastSeq: Int64) throws -> Merkle.Hash {
        guard level < Self.lowestStoredLevel else { return try stored(level: level, lastSeq: lastSeq) }
        let first = lastSeq - (Int64(1) << level) + 1
        var edge = Merkle.Edge()
        var seq = first
        let hashes = try db.cachedStatement(sql: "SELECT seq, \(TrailEntry.hexHash("hash")) FROM audit_trail WHERE seq BETWEEN ? AND ? ORDER BY seq")
        let rows = try Row.fetchCursor(hashes, arguments: [first, lastSeq])
        while let row = try rows.next() {
            guard row[0] as Int64 == seq else { break }
            edge.append(leaf: Merkle.leafHash(entryHash: row[1])) { _, _ in }
            seq += 1
        }
        guard seq == lastSeq + 1, let root = edge.completeRoot else { throw Self.missing("trail entry \(seq)") }
        return root
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
        let entries = try Row.fetchCursor(db, sql: "SELECT seq, \(TrailEntry.hexHash("hash")) FROM audit_trail ORDER BY seq")
        while let entry = try entries.next() {
            let seq: Int64 = entry[0]
            try edge.append(leaf: Merkle.leafHash(entryHash: entry[1])) { level, node in
                guard level >= lowestStoredLevel else { return }
                try insert.execute(binding: [.integer(seq), .integer(Int64(level)), .blob(node)])
            }
        }
    }
}
