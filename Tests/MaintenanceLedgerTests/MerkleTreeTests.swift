import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerStore
@testable import MaintenanceLedger

/// The Merkle tree over the trail against RFC 6962's definitions written out naively: every
/// root, every inclusion proof and every consistency proof of a small trail.
@Suite struct MerkleTreeTests {
    /// MTH(D[n]) of RFC 6962 §2.1, recursively over the leaves' data.
    static func naiveRoot(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.isEmpty { return Merkle.emptyRoot }
        if leaves.count == 1 { return Merkle.leafHash(leaves.first!) }
        var split = 1
        while split * 2 < leaves.count { split *= 2 }
        let first = leaves.startIndex
        return Merkle.nodeHash(naiveRoot(leaves[first..<first + split]), naiveRoot(leaves[(first + split)...]))
    }

    /// A ledger of `count` trail entries (one app each) and the entries' hashes as leaf data.
    static func trail(_ count: Int) throws -> (LedgerFixture, [[UInt8]]) {
        let fixture = try LedgerFixture()
        for index in 0..<count { try fixture.ledger().createApp(named: "app-\(index)") }
        let hashes = try fixture.database.inspect { db in try String.fetchAll(db, sql: "SELECT hash FROM audit_trail ORDER BY seq") }
        return (fixture, hashes.map { Hex.decode($0)! })
    }

    @Test func rootsAndProofsMatchTheRFCsDefinitions() throws {
        let (fixture, leaves) = try Self.trail(37)
        try fixture.database.inspect { db in
            let tree = TrailTree(db)
            for size in 1...Int64(leaves.count) {
                let root = try tree.root(size: size)
                #expect(root == Self.naiveRoot(leaves[0..<Int(size)]), "root of \(size)")
                for index in 0..<size {
                    let proof = try tree.inclusionProof(index: index, size: size)
                    #expect(Merkle.verifyInclusion(index: index, size: size, leaf: Merkle.leafHash(leaves[Int(index)]), proof: proof, root: root))
                    // The same proof for another leaf, or against another root, fails.
                    #expect(!Merkle.verifyInclusion(index: index, size: size, leaf: Merkle.leafHash([1, 2, 3]), proof: proof, root: root))
                    if size > 1 {
                        #expect(!Merkle.verifyInclusion(index: index, size: size, leaf: Merkle.leafHash(leaves[Int(index)]), proof: proof,
                                                        root: Self.naiveRoot(leaves[0..<Int(size - 1)])))
                    }
                }
                for old in 1...size {
                    let proof = try tree.consistencyProof(old: old, new: size)
                    let oldRoot = try tree.root(size: old)
                    #expect(Merkle.verifyConsistency(old: old, new: size, oldRoot: oldRoot, newRoot: root, proof: proof), "\(old) → \(size)")
                    if old < size {
                        #expect(!Merkle.verifyConsistency(old: old, new: size, oldRoot: Merkle.leafHash([9]), newRoot: root, proof: proof))
                    }
                }
            }
        }
    }

    /// `audit:verify` recomputes every node: an edited, removed or added one is named.
    @Test(arguments: [
        ("UPDATE trail_tree SET hash = zeroblob(32) WHERE last_seq = 8 AND level = 2",
         "verification failed: the Merkle tree's node of level 2 ending at seq 8 does not match the trail"),
        ("DELETE FROM trail_tree WHERE last_seq = 6", "verification failed: the Merkle tree's node of level 1 ending at seq 6 is missing"),
        ("DELETE FROM trail_tree WHERE last_seq = 12 AND level = 2", "verification failed: the Merkle tree's node of level 2 ending at seq 12 is missing"),
        ("INSERT INTO trail_tree VALUES (13, 1, zeroblob(32))", "verification failed: the Merkle tree's node of level 1 ending at seq 13 is not one of the trail's"),
    ])
    func verifyNamesAnAlteredNode(sql: String, message: String) throws {
        let (fixture, _) = try Self.trail(12)
        #expect(try fixture.ledger().verify().entryCount == 12)
        try fixture.database.inspectWriting { db in
            try db.execute(sql: "DROP TRIGGER trail_tree_append_only_update; DROP TRIGGER trail_tree_append_only_delete; \(sql)")
        }
        #expect(throws: LedgerError.verificationFailed(message)) { try fixture.ledger().verify() }
    }

    /// A ledger written before the tree existed gets it when it upgrades: the same nodes as a
    /// ledger that grew it entry by entry.
    @Test func anUpgradedLedgerGetsTheSameTree() throws {
        let (fixture, _) = try Self.trail(23)
        let nodes = { (db: Database) in try Row.fetchAll(db, sql: "SELECT * FROM trail_tree ORDER BY last_seq, level").map(\.description) }
        let grown = try fixture.database.inspect(nodes)
        // One node per complete subtree of two or more leaves: n minus the bits set in n.
        #expect(grown.count == 23 - 23.nonzeroBitCount)
        let copy = try fixture.olderCopy("schema4.sqlite", migrations: 4, tables: ["apps", "audit_trail"])
        let upgraded = try LedgerDatabase.openForUpgrade(at: copy)
        #expect(upgraded.appliedOnOpen == [Migrations.trailTree])
        #expect(try upgraded.inspect(nodes) == grown)
    }
}
