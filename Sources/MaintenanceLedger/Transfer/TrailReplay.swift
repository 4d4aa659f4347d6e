import Foundation
import LedgerCore
import LedgerStore

/// A change of a trail entry as the replay applies it, decoded on the reading thread
/// (`RowChanges.decode`): the row's table and id and, as plain encodings (the form a format 2
/// update's digest covers, `CompactTrail.appendPlain`), an insert's whole row or an update's
/// columns set.
struct RowChange: Sendable {
    let table: LedgerTable
    let id: Int64
    /// An insert's row, or a format 1 update's (whole: `image`), id first; a format 2 update's
    /// values, those of the columns it set back to back in column order. A range of `RowChanges.values`.
    let values: Range<Int>
    /// The columns an update set (bit n: column n); 0 for an insert.
    let columns: UInt64
    /// A format 2 update's digest of the row after it.
    let digest: RecordedImages.Digest?
    /// A format 1 change's row image, a range of the entry's payload.
    let image: Range<Int>?

    var inserts: Bool { columns == 0 }
}

/// The changes of one entry, in payload order.
struct RowChanges: Sendable {
    var changes: [RowChange] = []
    var values: [UInt8] = []

    /// Decodes an entry's payload (format 2 through the parser `audit:verify` reads it with,
    /// format 1 through its scanner), holding every value to what its column keeps (`keptTags`,
    /// see `RebuiltLedger`). What is wrong with it, or nil.
    static func decode(_ payload: UnsafeRawBufferPointer, compact: Bool, texts: [UnsafeRawBufferPointer],
                       keptTags: [[UInt8]], into decoded: inout RowChanges) -> String? {
        guard compact else { return decodeImages(payload, keptTags: keptTags, into: &decoded) }
        var parser = CompactPayloadParser(payload: payload, recordedAt: texts[0], actor: texts[1])
        var visitor = Decoder(parser: parser, keptTags: keptTags, decoded: RowChanges())
        if let malformed = parser.parse(&visitor) { return "its payload is not one maintledger writes (\(malformed))" }
        decoded = visitor.decoded
        return visitor.problem
    }

    private struct Decoder: CompactChangeVisitor {
        let parser: CompactPayloadParser
        let keptTags: [[UInt8]]
        var decoded: RowChanges
        var problem: String?
        private var table = LedgerTable.apps
        private var id: Int64 = 0
        private var inserting = false
        private var start = 0
        private var columns: UInt64 = 0

        init(parser: CompactPayloadParser, keptTags: [[UInt8]], decoded: RowChanges) {
            self.parser = parser
            self.keptTags = keptTags
            self.decoded = decoded
        }

        mutating func change(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64) {
            (self.table, self.id, inserting, start, columns) = (table, id, operation == .insert, decoded.values.count, 0)
            if inserting { CompactTrail.appendPlain(.integer(id), to: &decoded.values) }
        }

        mutating func value(column: Int, _ value: CompactValueRef) {
            let tag: CompactTrail.Tag = switch value {
            case .null: .null
            case .integer: .integer
            case .real: .real
            case .blob: .blob
            case .text, .time, .recordedAt, .actor, .uuid: .text
            }
            if problem == nil { problem = RowChanges.unkept(tag, table, column, keptTags) }
            if !inserting { columns |= 1 << column }
            parser.appendPlain(value, to: &decoded.values)
        }

        mutating func endChange(digest: Range<Int>?) {
            decoded.changes.append(RowChange(table: table, id: id, values: start..<decoded.values.count, columns: columns,
                                             digest: digest.map { RecordedImages.Digest(UnsafeRawBufferPointer(rebasing: parser.payload[$0])) },
                                             image: nil))
        }
    }

    /// A value a column would not store as it is: the row would not be the one recorded.
    private static func unkept(_ tag: CompactTrail.Tag, _ table: LedgerTable, _ column: Int, _ keptTags: [[UInt8]]) -> String? {
        guard keptTags[table.ordinal][column] & (1 << tag.rawValue) == 0 else { return nil }
        return "\(table.rawValue).\(table.columns[column]) would not keep the value the trail records"
    }

    /// What precedes each column's value in a format 1 row image, per table (`RowImage.keys`).
    static let imageKeys = LedgerTable.allCases.map { RowImage.keys($0.columns) }

    /// A format 1 payload: every touched row's JSON image, whole.
    private static func decodeImages(_ payload: UnsafeRawBufferPointer, keptTags: [[UInt8]], into decoded: inout RowChanges) -> String? {
        decoded = RowChanges()
        var problem: String?
        let wellFormed = PayloadScanner.rowChanges(payload) { insert, ordinal, id, image in
            let table = LedgerTable.allCases[ordinal]
            let start = decoded.values.count
            guard problem == nil else { return }
            guard let insert, appendRow(table, UnsafeRawBufferPointer(rebasing: payload[image]), keptTags, to: &decoded.values, problem: &problem) else {
                problem = problem ?? "its change of \(table.rawValue) row \(id) is not one maintledger writes"
                return
            }
            // A format 1 update gives the whole row: every column but the id is set.
            decoded.changes.append(RowChange(table: table, id: id, values: start..<decoded.values.count,
                                             columns: insert ? 0 : ((1 << table.columnCount) - 1) & ~1, digest: nil, image: image))
        }
        return wellFormed ? problem : "its payload is not a list of row changes"
    }

    /// A row image (`{"id":…,…}`, every column in order, as `RowImage` writes it) as its plain encoding.
    private static func appendRow(_ table: LedgerTable, _ image: UnsafeRawBufferPointer, _ keptTags: [[UInt8]],
                                  to row: inout [UInt8], problem: inout String?) -> Bool {
        var scanner = PayloadScanner(image)
        for (column, key) in imageKeys[table.ordinal].enumerated() {
            guard scanner.expect(key), let value = scanner.scalar() else { return false }
            let (plain, tag): (CompactValue, CompactTrail.Tag) = switch value {
            case .null: (.null, .null)
            case .integer(let number): (.integer(number), .integer)
            case .real(let number): (.real(number), .real)
            case .text(let range): (.text(Array(image[range])), .text)
            case .escaped(let text): (.text(text), .text)
            }
            guard column > 0 || tag == .integer else { return false }
            problem = problem ?? unkept(tag, table, column, keptTags)
            CompactTrail.appendPlain(plain, to: &row)
        }
        return scanner.expect("}") && scanner.atEnd
    }
}

/// Replays trail entries, in seq order, into a rebuilt ledger: each entry's changes applied to
/// the rows they name, the entry itself and the Merkle tree's nodes it completes.
///
/// An update sets its columns in the row as it stood, and the result must have the digest the
/// entry recorded; an update of a row that is not there is named by its entry at once. Rows are
/// written a batch of entries at a time, each row once, as the batch leaves it (a maintenance
/// required, prepared, started and completed within a batch is one INSERT, not an INSERT and
/// four UPDATEs), inserts several rows a statement: the schema's constraints then hold each
/// batch's end state. When SQLite refuses a batch, the rebuild starts again `exact`ly, writing
/// each entry's rows at its end, which names the first entry whose state breaks a constraint.
/// Rows of the tables commands update stay in memory after (the latest, within a bound), so
/// that an update needs no read of the row it changes; one not kept is read from the file.
struct TrailReplay {
    private let writer: RebuildWriter
    /// Whether each entry is written at its end (a batch of one entry).
    private let exact: Bool
    /// Rows touched before a batch is written.
    private let batchRows: Int
    private var cache: RowCache
    /// The batch's rows, each the plain encoding at its `TouchedRow.row` (an updated row is
    /// written anew at the end; what it was stays until the batch is written).
    private var rows: [UInt8] = []
    /// The rows the batch touched, in the order it first touched them.
    private var touched: [TouchedRow] = []
    /// Where the batch's rows of the tables commands update are in `touched`. (Rows of the
    /// others are only ever inserted; one updated all the same is looked for in `touched`.)
    private var touchedIndex: [RowKey: Int] = [:]
    /// The rows the batch inserts, by table: their places in `touched`.
    private var inserts: [[Int]] = Array(repeating: [], count: LedgerTable.allCases.count)
    /// The batch's entries and tree nodes as rows of `audit_trail` and `trail_tree`, plain encodings back to back.
    private var entryRows: [UInt8] = []
    private var nodeRows: [UInt8] = []
    /// The batch's first entry (its seq and where it was read).
    private var batchStart: (seq: Int64, place: String)?
    /// Where each column of a row, and each value an update sets, lies.
    private var columnRanges: [Range<Int>] = []
    private var setRanges: [Range<Int>] = []
    private var rowRanges: [Range<Int>] = []
    /// An updated row as it is made.
    private var updated: [UInt8] = []
    private(set) var count: Int64 = 0
    private(set) var head: [UInt8] = []

    /// `batchRows` and `cacheRows`: tests make them tiny, so that rows cross batches and leave
    /// the memory all the time.
    init(_ writer: RebuildWriter, exact: Bool, batchRows: Int = TrailReplay.batchRows, cacheRows: Int = RowCache.generation) {
        self.writer = writer
        self.exact = exact
        self.batchRows = batchRows
        cache = RowCache(generation: cacheRows)
    }

    /// Rows touched before a batch is written: about 28 days of a 10,000-app fleet's ticks,
    /// twice the time from a maintenance's requirement to its completion (some 40 MB in memory).
    static let batchRows = 1 << 17

    /// Tables whose rows commands update (apps' maintenance mode, add-ons' deprovisioning,
    /// attachments' detaching, maintenances' every step): the rows kept in memory.
    private static let cached: [Bool] = LedgerTable.allCases.map { [.apps, .addons, .attachments, .maintenances].contains($0) }

    /// Applies the entry; throws `badData` naming its seq when it does not replay, or
    /// `BatchRefused` when SQLite refuses the batch it ends.
    mutating func apply(_ entry: ReadEntry) throws {
        do {
            try entry.changes.values.withUnsafeBytes { values in
                try entry.payload.withUnsafeBytes { payload in
                    for change in entry.changes.changes {
                        let row = UnsafeRawBufferPointer(rebasing: values[change.values])
                        let image = change.image.map { Array(UnsafeRawBufferPointer(rebasing: payload[$0])) }
                        if change.inserts { try insert(change, row, image) } else { try update(change, row, image) }
                    }
                }
            }
        } catch let refused as ReplayRefused {
            throw LedgerError.badData("seq \(entry.seq) (\(entry.place)) does not replay: \(refused.reason)", hint: TrailLineReader.hint)
        }
        entryRows.append(contentsOf: entry.trailRow)
        nodeRows.append(contentsOf: entry.nodeRows)
        if batchStart == nil { batchStart = (entry.seq, entry.place) }
        count = entry.seq
        head = entry.rawHash
        if exact || touched.count >= batchRows { try flush() }
    }

    /// Writes what the last batch holds.
    mutating func finish() throws {
        try flush()
    }

    private mutating func insert(_ change: RowChange, _ row: UnsafeRawBufferPointer, _ image: [UInt8]?) throws {
        let key = RowKey(table: change.table, id: change.id)
        let index = touched.count
        if Self.cached[change.table.ordinal] {
            // A row the batch touched again: SQLite would refuse it, here it is named.
            guard touchedIndex.updateValue(index, forKey: key) == nil else { throw ReplayRefused(reason: "it inserts \(change.table.rawValue) row \(change.id) again") }
        }
        let start = rows.count
        rows.append(contentsOf: row)
        touched.append(TouchedRow(key: key, inserted: true, columns: 0, row: start..<rows.count, image: image))
        inserts[change.table.ordinal].append(index)
    }

    /// Sets the change's columns in the row as it stands, and holds the result to its digest.
    private mutating func update(_ change: RowChange, _ values: UnsafeRawBufferPointer, _ image: [UInt8]?) throws {
        let index = try touchedRow(RowKey(table: change.table, id: change.id))
        touched[index].columns |= change.columns
        touched[index].image = image
        let start = rows.count
        guard let digest = change.digest else {
            rows.append(contentsOf: values) // a format 1 update: the whole row
            touched[index].row = start..<rows.count
            return
        }
        updated.removeAll(keepingCapacity: true)
        rows.withUnsafeBytes { rows in
            let old = UnsafeRawBufferPointer(rebasing: rows[touched[index].row])
            columnRanges.removeAll(keepingCapacity: true)
            setRanges.removeAll(keepingCapacity: true)
            _ = CompactTrail.eachPlainValue(old) { _, range in columnRanges.append(range) }
            _ = CompactTrail.eachPlainValue(values) { _, range in setRanges.append(range) }
            var set = setRanges.makeIterator()
            for (column, range) in columnRanges.enumerated() {
                // The set columns' values come back to back, in column order.
                if change.columns & (1 << column) != 0, let value = set.next() {
                    updated.append(contentsOf: UnsafeRawBufferPointer(rebasing: values[value]))
                } else {
                    updated.append(contentsOf: UnsafeRawBufferPointer(rebasing: old[range]))
                }
            }
        }
        guard updated.withUnsafeBytes(RecordedImages.digest) == digest else {
            throw ReplayRefused(reason: "\(change.table.rawValue) row \(change.id) after its update is not the row its digest records")
        }
        rows.append(contentsOf: updated)
        touched[index].row = start..<rows.count
    }

    /// The touched row's place in `touched`, taking it there from memory or from the file.
    private mutating func touchedRow(_ key: RowKey) throws -> Int {
        let cached = Self.cached[key.table.ordinal]
        if cached, let index = touchedIndex[key] { return index }
        if !cached, let index = touched.lastIndex(where: { $0.key == key }) { return index }
        guard let row = try cache.row(key) ?? writer.row(key.table, id: key.id) else {
            throw ReplayRefused(reason: "it updates \(key.table.rawValue) row \(key.id), which does not exist")
        }
        let index = touched.count
        if cached { touchedIndex[key] = index }
        let start = rows.count
        rows.append(contentsOf: row)
        touched.append(TouchedRow(key: key, inserted: false, columns: 0, row: start..<rows.count, image: nil))
        return index
    }

    /// Writes the batch: the rows it touched, each once, as they stand at its end; then its
    /// entries and tree nodes. Keeps the rows of the tables commands update in memory. Format 1
    /// rows are read back and held to the images recorded, as `audit:verify` compares them.
    private mutating func flush() throws {
        guard let start = batchStart else { return }
        do {
            try rows.withUnsafeBytes { rows in
                try writeRows(rows)
                for row in touched where Self.cached[row.key.table.ordinal] {
                    cache.store(row.key, Array(UnsafeRawBufferPointer(rebasing: rows[row.row])))
                }
            }
            try entryRows.withUnsafeBytes { try writer.appendEntries(rows: $0) }
            try nodeRows.withUnsafeBytes { try writer.addNodes(rows: $0) }
            for row in touched {
                guard let image = row.image else { continue }
                guard let stored = try writer.image(row.key.table, id: row.key.id, keys: RowChanges.imageKeys[row.key.table.ordinal]), stored == image else {
                    throw ReplayRefused(reason: "\(row.key.table.rawValue) row \(row.key.id) would not be stored as its image records it")
                }
            }
        } catch let refused as ReplayRefused {
            guard start.seq == count else { throw BatchRefused() }
            throw LedgerError.badData("seq \(count) (\(start.place)) does not replay: \(refused.reason)", hint: TrailLineReader.hint)
        }
        rows.removeAll(keepingCapacity: true)
        touched.removeAll(keepingCapacity: true)
        touchedIndex.removeAll(keepingCapacity: true)
        for table in inserts.indices { inserts[table].removeAll(keepingCapacity: true) }
        entryRows.removeAll(keepingCapacity: true)
        nodeRows.removeAll(keepingCapacity: true)
        batchStart = nil
    }

    /// Updates first, in the order the batch first touched their rows; then inserts, a table at
    /// a time in the order of `LedgerTable` (parents first, as foreign keys want). A row an
    /// update moves out of the way of a unique index (the add-on's open maintenance that a
    /// failure closes before the next is required) is then out of the way of the new row.
    private mutating func writeRows(_ rows: UnsafeRawBufferPointer) throws {
        for row in touched where !row.inserted {
            do {
                try writer.update(row.key.table, columns: row.columns, row: UnsafeRawBufferPointer(rebasing: rows[row.row]))
            } catch let refused as ReplayRefused {
                throw ReplayRefused(reason: "\(row.key.table.rawValue) row \(row.key.id): \(refused.reason)")
            }
        }
        for (ordinal, places) in inserts.enumerated() where !places.isEmpty {
            let table = LedgerTable.allCases[ordinal]
            rowRanges.removeAll(keepingCapacity: true)
            for place in places { rowRanges.append(touched[place].row) }
            do {
                try writer.insert(table, rows: rows, at: rowRanges)
            } catch let refused as ReplayRefused {
                throw ReplayRefused(reason: "\(places.count == 1 ? "\(table.rawValue) row \(touched[places[0]].key.id)" : "its \(table.rawValue) rows"): \(refused.reason)")
            }
        }
    }

    /// The last entry's hash, hex: the head.
    var headHash: String { Hex.string(head) }
}

/// SQLite refused a batch of entries: the rebuild starts again writing each entry at its end,
/// to name the one that breaks the constraint.
struct BatchRefused: Error {}

/// A row of a table, as the replay keeps it.
private struct RowKey: Hashable {
    let table: LedgerTable
    let id: Int64

    /// One number (a table's name, which `LedgerTable` would hash, is a string).
    func hash(into hasher: inout Hasher) {
        hasher.combine(id &<< 4 | Int64(table.ordinal))
    }
}

private struct TouchedRow {
    let key: RowKey
    /// Inserted by the batch (written whole), or updated (its `columns` written).
    let inserted: Bool
    /// The columns the batch set, one bit each (bit n: column n).
    var columns: UInt64
    /// Where the row is in `TrailReplay.rows`.
    var row: Range<Int>
    /// A format 1 entry's last image of the row.
    var image: [UInt8]?
}

/// The latest rows written, within a bound: two generations, the young one taking every row
/// stored or found; when it is full it becomes the old one and the old one goes. A maintenance
/// is updated within weeks of its creation; a generation of 65,536 rows of the tables commands
/// update is half a year of a 10,000-app fleet (some 20 MB). A row not kept is read back.
struct RowCache {
    static let generation = 1 << 16
    /// Rows a generation holds.
    let generation: Int
    private var young: [RowKey: [UInt8]] = [:]
    private var old: [RowKey: [UInt8]] = [:]

    init(generation: Int) {
        self.generation = generation
    }

    fileprivate mutating func row(_ key: RowKey) -> [UInt8]? {
        if let row = young[key] { return row }
        guard let row = old.removeValue(forKey: key) else { return nil }
        store(key, row)
        return row
    }

    fileprivate mutating func store(_ key: RowKey, _ row: [UInt8]) {
        young[key] = row
        if young.count >= generation {
            old = young
            young = Dictionary(minimumCapacity: generation)
        }
    }
}
