import Crypto
import LedgerCore
import LedgerStore

/// The Merkle tree the trail calls for, grown as verification reads the entries, against
/// `trail_tree`. Both sides fold their nodes, in the order entries complete them (by last seq,
/// then level), into one SHA-256: memory stays O(log n) however long the trail. Only when the
/// two differ is the trail read again, to name the first node that does.
struct TreeCheck {
    /// As `Merkle.Edge`, on digests that are values: an entry's leaf and nodes cost no array.
    private var edge: [SHA256Value] = []
    private var count: Int64 = 0
    private var expected = SHA256Hasher()

    /// Adds entry `seq` (the next one), whose stored hash (its 32 bytes, checked against its
    /// content by the chain's check) is `hash`.
    mutating func add(seq: Int64, hash: UnsafeRawBufferPointer) {
        add(seq: seq, hash: hash) { _, _ in }
    }

    /// `add`, and `stored` hears each node `trail_tree` holds that the entry completes, by
    /// level (a rebuild writes them).
    mutating func add(seq: Int64, hash: UnsafeRawBufferPointer, stored: (Int, SHA256Value) throws -> Void) rethrows {
        var hasher = SHA256Hasher()
        hasher.update(byte: 0x00)
        hasher.update(hash)
        var node = hasher.finalize()
        // `Merkle.Edge.append`: each level whose slot is full pairs with the new node.
        var index = count
        var level = 0
        while index & 1 == 1 {
            var parent = SHA256Hasher()
            parent.update(byte: 0x01)
            edge[level].withUnsafeBytes { parent.update($0) }
            node.withUnsafeBytes { parent.update($0) }
            node = parent.finalize()
            level += 1
            index >>= 1
            if level >= TrailTree.lowestStoredLevel {
                node.withUnsafeBytes { Self.fold(&expected, lastSeq: seq, level: level, hash: $0) }
                try stored(level, node)
            }
        }
        if edge.count == level { edge.append(node) } else { edge[level] = node }
        count += 1
    }

    private static func fold(_ digest: inout SHA256Hasher, lastSeq: Int64, level: Int, hash: UnsafeRawBufferPointer) {
        withUnsafeBytes(of: lastSeq.bigEndian) { digest.update($0) }
        withUnsafeBytes(of: Int64(level).bigEndian) { digest.update($0) }
        digest.update(hash)
    }

    /// Throws `verificationFailed` naming the first node of `trail_tree` that is not the tree
    /// of the entries added (or the first one missing, or one too many).
    func check(_ db: LedgerSQL) throws {
        var stored = SHA256Hasher()
        try db.scan("SELECT last_seq, level, hash FROM trail_tree ORDER BY last_seq, level") { node in
            Self.fold(&stored, lastSeq: node.int64(0), level: Int(node.int64(1)), hash: node.blob(2))
            return true
        }
        var expected = expected
        guard stored.finalize() != expected.finalize() else { return }
        throw LedgerError.verificationFailed("verification failed: \(try Self.firstDifference(db))")
    }

    /// The slow path: every node the trail calls for, one by one, beside the stored ones.
    private static func firstDifference(_ db: LedgerSQL) throws -> String {
        var expected: [(lastSeq: Int64, level: Int, hash: Merkle.Hash)] = []
        var edge = Merkle.Edge()
        try db.scan("SELECT seq, \(TrailEntry.hexHash("hash")) FROM audit_trail ORDER BY seq") { entry in
            let seq = entry.int64(0)
            edge.append(leaf: Merkle.leafHash(entryHash: String(decoding: entry.text(1), as: UTF8.self))) { level, node in
                if level >= TrailTree.lowestStoredLevel { expected.append((seq, level, node)) }
            }
            return true
        }
        var next = expected.makeIterator()
        var difference: String?
        try db.scan("SELECT last_seq, level, hash FROM trail_tree ORDER BY last_seq, level") { node in
            let (lastSeq, level) = (node.int64(0), Int(node.int64(1)))
            let place = "the Merkle tree's node of level \(level) ending at seq \(lastSeq)"
            // Both sides come in (last seq, level) order: the smaller of two that differ is the odd one.
            guard let wanted = next.next(), (wanted.lastSeq, wanted.level) <= (lastSeq, level) else {
                difference = "\(place) is not one of the trail's"
                return false
            }
            guard wanted.lastSeq == lastSeq, wanted.level == level else {
                difference = "the Merkle tree's node of level \(wanted.level) ending at seq \(wanted.lastSeq) is missing"
                return false
            }
            guard sameBytes(node.blob(2), wanted.hash) else {
                difference = "\(place) does not match the trail"
                return false
            }
            return true
        }
        if let difference { return difference }
        if let missing = next.next() { return "the Merkle tree's node of level \(missing.level) ending at seq \(missing.lastSeq) is missing" }
        return "the Merkle tree differs from the trail's"
    }
}
