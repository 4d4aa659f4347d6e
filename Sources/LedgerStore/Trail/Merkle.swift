import Crypto
import LedgerCore

/// RFC 6962 §2.1 Merkle tree hashing and proofs (the algorithms of RFC 9162 §2.1.3 and §2.1.4),
/// for the tree over the trail: leaf i is trail entry i + 1, its data the entry's 32-byte hash.
/// Pure: what the proofs read comes through `SubtreeHashes`.
public enum Merkle {
    public typealias Hash = [UInt8]

    /// SHA-256(0x00 ‖ data).
    public static func leafHash(_ data: some Collection<UInt8>) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: Array(data))
        return Array(hasher.finalize())
    }

    /// The leaf of the trail entry whose hash is `hex` (64 hex digits).
    public static func leafHash(entryHash hex: String) -> Hash {
        leafHash(Hex.decode(hex) ?? [])
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of the empty tree, SHA-256 of nothing.
    public static let emptyRoot: Hash = Array(SHA256.hash(data: [UInt8]()))

    /// The hash of the complete subtree of 2^level leaves whose last leaf is entry `lastSeq`.
    package typealias SubtreeHashes = (_ level: Int, _ lastSeq: Int64) throws -> Hash

    /// MTH(D[first..<end]) for a range the RFC's recursion produces (its start a multiple of the
    /// largest power of two below its width): O(log n) subtree reads.
    package static func rangeHash(_ first: Int64, _ end: Int64, _ subtree: SubtreeHashes) throws -> Hash {
        let width = end - first
        precondition(width > 0, "a range of leaves is never empty")
        if width & (width - 1) == 0 { return try subtree(width.trailingZeroBitCount, end) }
        let split = largestPowerOfTwo(below: width)
        return nodeHash(try rangeHash(first, first + split, subtree), try rangeHash(first + split, end, subtree))
    }

    package static func root(size: Int64, _ subtree: SubtreeHashes) throws -> Hash {
        size == 0 ? emptyRoot : try rangeHash(0, size, subtree)
    }

    /// PATH(index, D[0..<size]) of RFC 6962 §2.1.1: the leaf's sibling first, the root's child last.
    package static func inclusionProof(index: Int64, size: Int64, _ subtree: SubtreeHashes) throws -> [Hash] {
        precondition(index >= 0 && index < size, "the leaf is in the tree")
        var proof: [Hash] = []
        func path(_ first: Int64, _ end: Int64) throws {
            guard end - first > 1 else { return }
            let split = first + largestPowerOfTwo(below: end - first)
            if index < split {
                try path(first, split)
                proof.append(try rangeHash(split, end, subtree))
            } else {
                try path(split, end)
                proof.append(try rangeHash(first, split, subtree))
            }
        }
        try path(0, size)
        return proof
    }

    /// PROOF(old, D[0..<new]) of RFC 6962 §2.1.2.
    package static func consistencyProof(old: Int64, new: Int64, _ subtree: SubtreeHashes) throws -> [Hash] {
        precondition(old > 0 && old <= new, "a consistency proof runs from a non-empty tree to one at least as large")
        var proof: [Hash] = []
        func subproof(_ size: Int64, _ first: Int64, _ end: Int64, _ complete: Bool) throws {
            if size == end - first {
                if !complete { proof.append(try rangeHash(first, end, subtree)) }
                return
            }
            let split = largestPowerOfTwo(below: end - first)
            if size <= split {
                try subproof(size, first, first + split, complete)
                proof.append(try rangeHash(first + split, end, subtree))
            } else {
                try subproof(size - split, first + split, end, false)
                proof.append(try rangeHash(first, first + split, subtree))
            }
        }
        try subproof(old, 0, new, true)
        return proof
    }

    /// RFC 9162 §2.1.3.2: whether `proof` shows leaf `index`, hashing to `leaf`, in the tree of
    /// `size` leaves whose root is `root`.
    public static func verifyInclusion(index: Int64, size: Int64, leaf: Hash, proof: [Hash], root: Hash) -> Bool {
        guard index >= 0, index < size else { return false }
        var (fn, sn, hash) = (index, size - 1, leaf)
        for sibling in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                hash = nodeHash(sibling, hash)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                hash = nodeHash(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash == root
    }

    /// RFC 9162 §2.1.4.2: whether `proof` shows the tree of `new` leaves with root `newRoot`
    /// extends the tree of `old` leaves with root `oldRoot`.
    public static func verifyConsistency(old: Int64, new: Int64, oldRoot: Hash, newRoot: Hash, proof: [Hash]) -> Bool {
        guard old >= 1, old <= new else { return false }
        if old == new { return proof.isEmpty && oldRoot == newRoot }
        let path = old & (old - 1) == 0 ? [oldRoot] + proof : proof
        guard var oldHash = path.first else { return false }
        var newHash = oldHash
        var (fn, sn) = (old - 1, new - 1)
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        for node in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                oldHash = nodeHash(node, oldHash)
                newHash = nodeHash(node, newHash)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                newHash = nodeHash(newHash, node)
            }
            fn >>= 1
            sn >>= 1
        }
        return oldHash == oldRoot && newHash == newRoot && sn == 0
    }

    /// The tree's right edge while leaves are appended in order: the last complete node of each
    /// level still waiting for its right sibling. O(log n) memory for a tree of any size.
    public struct Edge {
        private var nodes: [Hash] = []
        private var count: Int64 = 0

        public init() {}

        /// The edge of the tree of `count` leaves, from its complete subtrees: one per bit set
        /// in `count`, the largest first (a level whose bit is clear holds nothing yet).
        package init(count: Int64, _ subtree: SubtreeHashes) throws {
            self.count = count
            let levels = 64 - count.leadingZeroBitCount
            nodes = Array(repeating: [], count: levels)
            var end: Int64 = 0
            for level in stride(from: levels - 1, through: 0, by: -1) where count & (Int64(1) << level) != 0 {
                end += Int64(1) << level
                nodes[level] = try subtree(level, end)
            }
        }

        /// Appends the next leaf and calls `completed` for each inner node it completes, lowest
        /// first, with its level (the node of level L covers the last 2^L leaves).
        public mutating func append(leaf: Hash, _ completed: (_ level: Int, _ node: Hash) throws -> Void) rethrows {
            var node = leaf
            var index = count
            var level = 0
            while index & 1 == 1 {
                node = nodeHash(nodes[level], node)
                level += 1
                index >>= 1
                try completed(level, node)
            }
            if nodes.count == level { nodes.append(node) } else { nodes[level] = node }
            count += 1
        }

        /// The root, when the leaves appended make one complete tree (a power of two of them).
        package var completeRoot: Hash? {
            count > 0 && count & (count - 1) == 0 ? nodes.last : nil
        }
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    static func largestPowerOfTwo(below n: Int64) -> Int64 {
        Int64(1) << (63 - (n - 1).leadingZeroBitCount)
    }
}
