import Foundation
import LedgerCore
import LedgerStore

/// Replays trail entries, in seq order, into a rebuilt ledger: each entry's changes applied to
/// the rows they name, the entry itself and the Merkle tree's nodes it completes.
///
/// Rows are kept as their plain encoding (`CompactTrail.appendPlain`), the form a format 2
/// update's digest covers: an update sets its columns in the row as it stood and the result
/// must have the digest the entry recorded. The rows an entry touches are written when the
/// entry ends, each once, as they stand then (a maintenance a tick prepared, started and
/// completed is one UPDATE, not four): every state a ledger committed, one per entry, is thus
/// held to the schema's constraints, and the first entry whose state breaks one is named. Rows
/// of the tables commands update stay in memory after (the latest first, within a bound), so
/// that an update needs no read of the row it changes; one not kept is read back.
final class TrailReplay {
    private let writer: RebuildWriter
    private var tree = TreeCheck()
    private var cache = RowCache()
    /// The rows the current entry touched, in the order it first touched them.
    private var touched: [TouchedRow] = []
    private var touchedIndex: [RowKey: Int] = [:]
    /// A format 2 update's columns as set, by position.
    private var setColumns: [(Int, CompactValueRef)] = []
    private var columnRanges: [Range<Int>] = []
    /// The first problem the current entry's changes met (a visitor of the payload cannot throw).
    private var problem: (any Error)?
    private(set) var count: Int64 = 0
    private(set) var head: [UInt8] = []

    init(_ writer: RebuildWriter) {
        self.writer = writer
    }

    /// Tables whose rows commands update (apps' maintenance mode, add-ons' deprovisioning,
    /// attachments' detaching, maintenances' every step): the rows kept in memory.
    private static let updated: [Bool] = LedgerTable.allCases.map { [.apps, .addons, .attachments, .maintenances].contains($0) }
    private static let imageKeys = LedgerTable.allCases.map { RowImage.keys($0.columns) }

    /// Applies the entry; throws `badData` naming its seq when it does not replay.
    func apply(_ entry: ReadEntry) throws {
        do {
            try entry.withTexts { texts in
                try entry.payload.withUnsafeBytes { payload in
                    if entry.compact { try change(entry, payload, texts) } else { try changeImages(entry, payload) }
                    try flush(entry, payload)
                    try entry.hash.withUnsafeBytes { hash in
                        try entry.prevHash.withUnsafeBytes { prevHash in
                            try writer.appendEntry(seq: entry.seq, texts: texts, payload: payload, prevHash: entry.compact ? nil : prevHash, hash: hash)
                        }
                    }
                }
            }
            try entry.rawHash.withUnsafeBytes { hash in
                try tree.add(seq: entry.seq, hash: hash) { level, node in
                    try node.withUnsafeBytes { try writer.addNode(lastSeq: entry.seq, level: level, hash: $0) }
                }
            }
        } catch let refused as ReplayRefused {
            throw LedgerError.badData("seq \(entry.seq) (\(entry.place)) does not replay: \(refused.reason)", hint: TrailLineReader.hint)
        }
        touched.removeAll(keepingCapacity: true)
        touchedIndex.removeAll(keepingCapacity: true)
        count = entry.seq
        head = entry.rawHash
    }

    /// A format 2 payload, through the parser `audit:verify` reads it with.
    private func change(_ entry: ReadEntry, _ payload: UnsafeRawBufferPointer, _ texts: [UnsafeRawBufferPointer]) throws {
        var parser = CompactPayloadParser(payload: payload, recordedAt: texts[0], actor: texts[1])
        var visitor = Visitor(replay: self, parser: parser)
        problem = nil
        if let malformed = parser.parse(&visitor) {
            throw ReplayRefused(reason: "its payload is not one maintledger writes (\(malformed))")
        }
        if let problem { throw problem }
    }

    private struct Visitor: CompactChangeVisitor {
        let replay: TrailReplay
        let parser: CompactPayloadParser
        private var table = LedgerTable.apps
        private var id: Int64 = 0
        private var inserting = false
        /// An inserted row's plain encoding as its values come.
        private var row: [UInt8] = []

        init(replay: TrailReplay, parser: CompactPayloadParser) {
            self.replay = replay
            self.parser = parser
        }

        mutating func change(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64) {
            self.table = table
            self.id = id
            inserting = operation == .insert
            row.removeAll(keepingCapacity: true)
            replay.setColumns.removeAll(keepingCapacity: true)
            if inserting { CompactTrail.appendPlain(.integer(id), to: &row) }
        }

        mutating func value(column: Int, _ value: CompactValueRef) {
            replay.check(value, table, column)
            if inserting {
                parser.appendPlain(value, to: &row)
            } else {
                replay.setColumns.append((column, value))
            }
        }

        mutating func endChange(digest: Range<Int>?) {
            guard replay.problem == nil else { return }
            if !inserting, let digest {
                replay.update(table, id, parser, digest: RecordedImages.Digest(UnsafeRawBufferPointer(rebasing: parser.payload[digest])))
            } else {
                replay.insert(table, id, row)
            }
        }
    }

    /// A value the column would not store as it is: the row would not be the one recorded.
    private func check(_ value: CompactValueRef, _ table: LedgerTable, _ column: Int) {
        let tag: CompactTrail.Tag = switch value {
        case .null: .null
        case .integer: .integer
        case .real: .real
        case .blob: .blob
        case .text, .time, .recordedAt, .actor, .uuid: .text
        }
        check(tag, table, column)
    }

    private func check(_ tag: CompactTrail.Tag, _ table: LedgerTable, _ column: Int) {
        guard problem == nil, writer.keptTags[table.ordinal][column] & (1 << tag.rawValue) == 0 else { return }
        problem = ReplayRefused(reason: "\(table.rawValue).\(table.columns[column]) would not keep the value the trail records")
    }

    private func insert(_ table: LedgerTable, _ id: Int64, _ row: [UInt8]) {
        let key = RowKey(table: table, id: id)
        guard touchedIndex[key] == nil else {
            problem = ReplayRefused(reason: "it inserts \(table.rawValue) row \(id) twice")
            return
        }
        touchedIndex[key] = touched.count
        touched.append(TouchedRow(key: key, inserted: true, columns: 0, row: row))
    }

    /// Sets `setColumns` in the row as it stands, and holds the result to `digest`.
    private func update(_ table: LedgerTable, _ id: Int64, _ parser: CompactPayloadParser, digest: RecordedImages.Digest) {
        do {
            let key = RowKey(table: table, id: id)
            let index = try touchedRow(key)
            var updated: [UInt8] = []
            var columns = touched[index].columns
            touched[index].row.withUnsafeBytes { old in
                columnRanges.removeAll(keepingCapacity: true)
                _ = CompactTrail.eachPlainValue(old) { _, range in columnRanges.append(range) }
                var set = setColumns.makeIterator()
                var next = set.next()
                updated.reserveCapacity(old.count + 64)
                for (column, range) in columnRanges.enumerated() {
                    if let (setColumn, value) = next, setColumn == column {
                        parser.appendPlain(value, to: &updated)
                        columns |= 1 << column
                        next = set.next()
                    } else {
                        updated.append(contentsOf: old[range])
                    }
                }
            }
            guard updated.withUnsafeBytes(RecordedImages.digest) == digest else {
                throw ReplayRefused(reason: "\(table.rawValue) row \(id) after its update is not the row its digest records")
            }
            touched[index].row = updated
            touched[index].columns = columns
        } catch {
            problem = error
        }
    }

    /// The touched row's place in `touched`, taking it there from memory or from the file.
    private func touchedRow(_ key: RowKey) throws -> Int {
        if let index = touchedIndex[key] { return index }
        guard let row = try cache.row(key) ?? writer.row(key.table, id: key.id) else {
            throw ReplayRefused(reason: "it updates \(key.table.rawValue) row \(key.id), which does not exist")
        }
        touchedIndex[key] = touched.count
        touched.append(TouchedRow(key: key, inserted: false, columns: 0, row: row))
        return touched.count - 1
    }

    /// A format 1 payload: every touched row's JSON image, whole.
    private func changeImages(_ entry: ReadEntry, _ payload: UnsafeRawBufferPointer) throws {
        var changes: [(insert: Bool?, table: Int, id: Int64, image: Range<Int>)] = []
        guard PayloadScanner.rowChanges(payload, { changes.append(($0, $1, $2, $3)) }) else {
            throw ReplayRefused(reason: "its payload is not a list of row changes")
        }
        problem = nil
        for change in changes {
            let table = LedgerTable.allCases[change.table]
            guard let insert = change.insert, let row = plainRow(table, UnsafeRawBufferPointer(rebasing: payload[change.image])) else {
                throw ReplayRefused(reason: "its change of \(table.rawValue) row \(change.id) is not one maintledger writes")
            }
            if let problem { throw problem }
            let key = RowKey(table: table, id: change.id)
            if insert {
                self.insert(table, change.id, row)
            } else {
                let index = try touchedRow(key)
                touched[index].row = row
                touched[index].columns |= ((1 << table.columnCount) - 1) & ~1 // every column but the id
            }
            if let problem { throw problem }
            touched[touchedIndex[key]!].image = change.image
        }
    }

    /// A row image of a format 1 entry (`{"id":…,…}`, every column in order) as its plain encoding.
    private func plainRow(_ table: LedgerTable, _ image: UnsafeRawBufferPointer) -> [UInt8]? {
        var scanner = PayloadScanner(image)
        var row: [UInt8] = []
        for (column, key) in Self.imageKeys[table.ordinal].enumerated() {
            guard scanner.expect(key), let value = scanner.scalar() else { return nil }
            let plain: CompactValue = switch value {
            case .null: .null
            case .integer(let number): .integer(number)
            case .real(let number): .real(number)
            case .text(let range): .text(Array(image[range]))
            case .escaped(let text): .text(text)
            }
            CompactTrail.appendPlain(plain, to: &row)
            check(Self.tag(of: plain), table, column)
        }
        return scanner.expect("}") && scanner.atEnd && Self.id(of: row) != nil ? row : nil
    }

    private static func tag(of value: CompactValue) -> CompactTrail.Tag {
        switch value {
        case .null: .null
        case .integer: .integer
        case .real: .real
        case .text: .text
        case .blob: .blob
        }
    }

    private static func id(of row: [UInt8]) -> Int64? {
        var id: Int64?
        row.withUnsafeBytes { row in
            _ = CompactTrail.eachPlainValue(row) { value, _ in
                if id == nil, case .integer(let number) = value { id = number }
            }
        }
        return id
    }

    /// Writes the rows the entry touched, each once, as they stand at its end; keeps those of
    /// the tables commands update in memory. A format 1 entry's rows are read back and held to
    /// the images it recorded (`audit:verify` compares them so).
    private func flush(_ entry: ReadEntry, _ payload: UnsafeRawBufferPointer) throws {
        for row in touched {
            try row.row.withUnsafeBytes { plain in
                do {
                    if row.inserted {
                        try writer.insert(row.key.table, row: plain)
                    } else {
                        try writer.update(row.key.table, columns: row.columns, row: plain)
                    }
                } catch let refused as ReplayRefused {
                    throw ReplayRefused(reason: "\(row.key.table.rawValue) row \(row.key.id): \(refused.reason)")
                }
            }
            if let image = row.image {
                let stored = try writer.image(row.key.table, id: row.key.id, keys: Self.imageKeys[row.key.table.ordinal])
                guard let stored, stored.elementsEqual(payload[image]) else {
                    throw ReplayRefused(reason: "\(row.key.table.rawValue) row \(row.key.id) would not be stored as its image records it")
                }
            }
            if Self.updated[row.key.table.ordinal] { cache.store(row.key, row.row) }
        }
    }

    /// The tree's nodes are written as entries complete them; the last entry's hash is the head.
    var headHash: String { Hex.string(head) }
}

/// A row of a table, as the replay keeps it.
private struct RowKey: Hashable {
    let table: LedgerTable
    let id: Int64
}

private struct TouchedRow {
    let key: RowKey
    /// Inserted by the entry (written whole), or updated (its `columns` written).
    let inserted: Bool
    /// The columns the entry set, one bit each (bit n: column n).
    var columns: UInt64
    var row: [UInt8]
    /// A format 1 entry's last image of the row (a range of its payload).
    var image: Range<Int>?

    init(key: RowKey, inserted: Bool, columns: UInt64, row: [UInt8]) {
        self.key = key
        self.inserted = inserted
        self.columns = columns
        self.row = row
    }
}

/// The latest rows written, within a bound: two generations, the young one taking every row
/// stored or found; when it is full it becomes the old one and the old one goes. A maintenance
/// is updated within days of its creation, a few generations of a fleet's rows at most.
private struct RowCache {
    static let generation = 1 << 18
    private var young: [RowKey: [UInt8]] = [:]
    private var old: [RowKey: [UInt8]] = [:]

    mutating func row(_ key: RowKey) -> [UInt8]? {
        if let row = young[key] { return row }
        guard let row = old.removeValue(forKey: key) else { return nil }
        store(key, row)
        return row
    }

    mutating func store(_ key: RowKey, _ row: [UInt8]) {
        young[key] = row
        if young.count >= Self.generation {
            old = young
            young = Dictionary(minimumCapacity: Self.generation)
        }
    }
}
