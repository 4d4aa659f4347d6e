import LedgerCore

/// Rows to insert whole (`Mutation.insert(_:of:filling:)`) in one command, made ready on another thread than
/// the one recording them: their texts (times rendered) already laid out for SQLite to read in
/// place, and each value already in the trail's encoding. An import prepares a batch's rows
/// beside the recording of the batch before, so that the thread holding the write lock only
/// binds, steps and copies bytes (rendering, copying and encoding each value there was a fifth
/// of its time). A batch's rows share two buffers: an allocation per row, freed on the other
/// thread, cost the recording thread more than the work it saved (glibc's arena lock).
///
/// One column of a row, `open`, is left to fill when it is recorded: the id of the row it
/// belongs to (a maintenance's add-on, a status change's maintenance), known only then.
package struct PreparedRows: Sendable {
    /// A row: where its columns are in `columns`.
    package struct Row: Sendable {
        package let table: LedgerTable
        /// The position of the column left open, among the columns after id.
        let open: Int
        /// Its columns after id, in table order.
        let columns: Range<Int>
        /// Where its encodings start in `bytes` (they end where its last column's does).
        let encodedStart: Int
    }

    /// A column: how it is bound, and where its encoding ends in `bytes`.
    struct Column {
        enum Kind { case null, integer, text }
        let kind: Kind
        /// The integer; for a text, where it starts in `bytes`.
        let number: Int64
        /// A text's length in bytes.
        let count: Int32
        let encodedEnd: Int
    }

    private(set) var columns: [Column] = []
    /// Each row's texts back to back, then its values' trail encodings back to back.
    private(set) var bytes: [UInt8] = []
    /// The entry's time and actor the encodings were made for (tags 0x06 and 0x07 depend on them).
    let encodedFor: Entry
    /// Where each row's encodings are made before they join `bytes`.
    private var encoding: CompactPayloadWriter

    /// The time and actor an entry is recorded with.
    struct Entry: Equatable {
        let recordedAt: Timestamp
        let actor: String
    }

    /// None yet, for the entry of a command in `context`.
    package init(for context: LedgerContext) {
        encodedFor = Entry(recordedAt: context.now, actor: context.actor)
        encoding = CompactPayloadWriter(recordedAt: context.now.storageText, actor: context.actor)
    }

    /// Who the entry is recorded by.
    package var actor: String { encodedFor.actor }

    /// Prepares a row: `values` are its columns after id, in table order, the one at `open` a
    /// placeholder for the id given when it is recorded.
    package mutating func prepare(_ table: LedgerTable, _ values: [RowValue], open: Int) -> Row {
        precondition(values.count == table.columnCount - 1 && values.indices.contains(open),
                     "a prepared row of \(table.rawValue) needs every column after id")
        let first = columns.count
        encoding.removeAll()
        for (position, value) in values.enumerated() {
            if position != open { encoding.append(value) }
            // Where its encoding ends among the row's encodings, for now.
            let end = encoding.bytes.count
            let start = bytes.count
            switch value {
            case .null: columns.append(Column(kind: .null, number: 0, count: 0, encodedEnd: end))
            case .integer(let number): columns.append(Column(kind: .integer, number: number, count: 0, encodedEnd: end))
            case .text(let text):
                bytes.append(contentsOf: text.utf8)
                columns.append(Column(kind: .text, number: Int64(start), count: Int32(bytes.count - start), encodedEnd: end))
            case .time(let time):
                time.appendStorageText(to: &bytes)
                columns.append(Column(kind: .text, number: Int64(start), count: Int32(bytes.count - start), encodedEnd: end))
            }
        }
        // The encodings follow the texts: their ends so far count from the encodings' start.
        let encodedStart = bytes.count
        bytes.append(contentsOf: encoding.bytes)
        for index in first..<columns.count {
            let column = columns[index]
            columns[index] = Column(kind: column.kind, number: column.number, count: column.count, encodedEnd: encodedStart + column.encodedEnd)
        }
        return Row(table: table, open: open, columns: first..<columns.count, encodedStart: encodedStart)
    }

    /// Whether SQLite stores every value of `row` as it is bound, as `Mutation.insert(_:row:)`
    /// requires (the open column is an id, an integer).
    func fits(_ row: Row, _ affinities: [ColumnAffinity]) -> Bool {
        affinities.count == row.columns.count && zip(affinities, row.columns).allSatisfy { affinity, index in
            return switch index - row.columns.lowerBound == row.open ? .integer : columns[index].kind {
            case .null: true
            case .integer: affinity.keeps(.integer(0))
            case .text: affinity.keeps(.text(""))
            }
        }
    }
}
