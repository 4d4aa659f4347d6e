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
        let hashes = try fixture.database.inspect { db in try String.fetchAll(db, sql: "SELECT lower(hex(hash)) FROM audit_trail ORDER BY seq") }
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

    /// `audit:verify` recomputes every node: an edited, removed or added one is named (the
    /// table holds those of level 4 and up: here 16 and 32 at level 4, 32 at level 5).
    @Test(arguments: [
        ("UPDATE trail_tree SET hash = zeroblob(32) WHERE last_seq = 32 AND level = 4",
         "verification failed: the Merkle tree's node of level 4 ending at seq 32 does not match the trail"),
        ("DELETE FROM trail_tree WHERE last_seq = 16", "verification failed: the Merkle tree's node of level 4 ending at seq 16 is missing"),
        ("DELETE FROM trail_tree WHERE last_seq = 32 AND level = 5", "verification failed: the Merkle tree's node of level 5 ending at seq 32 is missing"),
        ("INSERT INTO trail_tree VALUES (13, 1, zeroblob(32))", "verification failed: the Merkle tree's node of level 1 ending at seq 13 is not one of the trail's"),
        ("INSERT INTO trail_tree VALUES (48, 4, zeroblob(32))", "verification failed: the Merkle tree's node of level 4 ending at seq 48 is not one of the trail's"),
    ])
    func verifyNamesAnAlteredNode(sql: String, message: String) throws {
        let (fixture, _) = try Self.trail(40)
        #expect(try fixture.ledger().verify().entryCount == 40)
        try fixture.database.inspectWriting { db in
            try db.execute(sql: "DROP TRIGGER trail_tree_append_only_update; DROP TRIGGER trail_tree_append_only_delete; \(sql)")
        }
        #expect(throws: LedgerError.verificationFailed(message)) { try fixture.ledger().verify() }
    }

    /// A ledger written before the tree existed gets it when it upgrades, and one written with
    /// every level keeps levels 4 and up: the nodes a ledger growing its tree entry by entry has.
    @Test func anUpgradedLedgerGetsTheSameTree() throws {
        let (fixture, _) = try Self.trail(40)
        let nodes = { (db: Database) in try Row.fetchAll(db, sql: "SELECT * FROM trail_tree ORDER BY last_seq, level").map(\.description) }
        #expect(try fixture.database.inspect(nodes).count == 3, "40 entries: two subtrees of 16, one of 32")
        // The release before format 2 stored every level; its entries are format 1.
        let format1 = try LedgerFixture(format1: "fleet", now: "2022-12-31T00:00:00Z")
        let entries = try format1.database.inspect { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail")! }
        let kept = try format1.database.inspect(nodes)
        #expect(kept.count == (4...10).reduce(0) { $0 + entries >> $1 }, "one node per complete subtree of 16 entries or more")
        let copy = try format1.olderCopy("schema4.sqlite", migrations: 4, tables: ["apps", "addons", "attachments", "windows", "maintenances",
                                                                                  "maintenance_status_changes", "notices", "engine_ticks", "audit_trail"])
        let upgraded = try LedgerDatabase.openForUpgrade(at: copy)
        #expect(upgraded.appliedOnOpen == Migrations.all.dropFirst(4).map(\.identifier))
        #expect(try upgraded.inspect(nodes) == kept)
        let upgradedLedger = Ledger(database: upgraded, context: LedgerContext(now: format1.now, actor: "alice"))
        #expect(try upgradedLedger.verify() == format1.ledger().verify())
    }
}
