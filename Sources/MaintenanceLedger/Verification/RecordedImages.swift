import Crypto
import Foundation
import LedgerCore
import LedgerStore

/// The last image the trail recorded of every row, as a SHA-256 digest (128 bits kept) with the
/// seq that recorded it: 24 bytes a row instead of the image's text. Tables go by their
/// position in `LedgerTable.allCases`.
struct RecordedImages {
    struct Recorded {
        var seq: Int64
        var digest: Digest
    }
    struct Digest: Equatable {
        var high: UInt64
        var low: UInt64

        init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        /// From the first 16 of `bytes`.
        init(_ bytes: UnsafeRawBufferPointer) {
            self.init(high: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), low: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }

    /// Per table; row ids are dense from 1, so an array indexed by id (seq 0: none recorded).
    private var tables = [[Recorded]](repeating: [], count: LedgerTable.allCases.count)
    /// Per table, the largest id kept in `tables`: twice the table's largest id, at least 1024. A trail
    /// recording ids beyond (only a tampered one does) costs memory by its rows, not its ids.
    private let denseLimits: [Int64]
    private var sparse = [[Int64: Recorded]](repeating: [:], count: LedgerTable.allCases.count)

    init(_ db: LedgerSQL) throws {
        let largestIDs = try LedgerTable.allCases.map { table in try db.value(Int64.self, "SELECT max(id) FROM \(table.rawValue)") ?? 0 }
        denseLimits = largestIDs.map { max(1024, 2 * $0) }
        // Room for every row now: grown by doubling as the ids came, the arrays took 4% of
        // verification's time (new pages, copies), and up to twice the memory.
        tables = largestIDs.map { [Recorded](repeating: Recorded(seq: 0, digest: Digest(high: 0, low: 0)), count: Int(max(0, $0))) }
    }

    /// The first 16 bytes of SHA-256 (what a format 2 entry records of an updated row).
    static func digest(_ bytes: UnsafeRawBufferPointer) -> Digest {
        let hash = SHA256Hasher.hash(bytes)
        return Digest(high: hash.words.0, low: hash.words.1)
    }

    /// Keeps the image with the later seq (batches of the trail are checked in any order), and
    /// of one entry's images of a row the last (they come in payload order, and an entry is
    /// never split between batches).
    mutating func record(_ table: Int, id: Int64, _ recorded: Recorded) {
        guard id >= 1, id <= denseLimits[table] else {
            if (sparse[table][id]?.seq ?? 0) <= recorded.seq { sparse[table][id] = recorded }
            return
        }
        if tables[table].count < id {
            tables[table].append(contentsOf: repeatElement(Recorded(seq: 0, digest: Digest(high: 0, low: 0)), count: max(Int(id) - tables[table].count, tables[table].count)))
        }
        if tables[table][Int(id) - 1].seq <= recorded.seq { tables[table][Int(id) - 1] = recorded }
    }

    /// The recorded image of a row, removed so that what remains at the end is gone from the tables.
    mutating func take(_ table: Int, id: Int64) -> Recorded? {
        guard id >= 1, id <= denseLimits[table] else { return sparse[table].removeValue(forKey: id) }
        guard id <= tables[table].count, tables[table][Int(id) - 1].seq != 0 else { return nil }
        defer { tables[table][Int(id) - 1].seq = 0 }
        return tables[table][Int(id) - 1]
    }

    /// The fingerprints (`TableFingerprints`) of the digests recorded, as the tables must
    /// give them; nil when a recorded id lies outside the ids kept by place (only a tampered
    /// trail records one), which the row by row comparison then names.
    func fingerprints() -> TableFingerprints? {
        guard sparse.allSatisfy(\.isEmpty) else { return nil }
        var fingerprints = TableFingerprints()
        for (table, recorded) in tables.enumerated() {
            var block: TableBlock?
            var hasher = SHA256Hasher()
            for (index, row) in recorded.enumerated() where row.seq != 0 {
                let id = Int64(index + 1)
                let rowBlock = TableBlock(table: table, id: id)
                if rowBlock != block {
                    if let block { fingerprints[block] = hasher.finalize() }
                    block = rowBlock
                    hasher = SHA256Hasher()
                }
                TableFingerprints.fold(&hasher, id: id, digest: row.digest)
            }
            if let block { fingerprints[block] = hasher.finalize() }
        }
        return fingerprints
    }

    /// Every recorded row not taken: (table, id, seq).
    func remaining() -> [(Int, Int64, Int64)] {
        tables.indices.flatMap { table in
            let dense = tables[table].enumerated().filter { $0.element.seq != 0 }.map { (table, Int64($0.offset + 1), $0.element.seq) }
            let far = sparse[table].map { (table, $0.key, $0.value.seq) }
            return dense + far
        }
    }
}
