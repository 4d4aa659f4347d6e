import Crypto
import Foundation
import GRDB
import Testing
@testable import LedgerCore
@testable import LedgerStore
@testable import MaintenanceLedger

/// Format 2 as docs/trail-format.md defines it: the writer's bytes are the document's, every
/// value comes back from the reader as SQLite held it, and the reader refuses any other bytes.
@Suite struct TrailFormatTests {
    static let recordedAt = "2024-12-10T19:01:02.695Z"
    static let actor = "platform"

    /// What the writer makes of a row written to `table` (a stand-in with the same number of
    /// columns, no rules): an insert, or an update of `changed`.
    static func encode(_ table: LedgerTable, _ values: [DatabaseValue], changed: [Int32]? = nil) throws -> [UInt8] {
        try encodeAndStore(table, values, changed: changed).payload
    }

    /// `encode`, and the row as SQLite stored it (GRDB binds a text only up to a NUL).
    static func encodeAndStore(_ table: LedgerTable, _ values: [DatabaseValue], changed: [Int32]? = nil) throws -> (payload: [UInt8], stored: [DatabaseValue]) {
        let db = try DatabaseQueue()
        return try db.write { db in
            let columns = table.columns.enumerated().map { $0.offset == 0 ? "id INTEGER PRIMARY KEY" : "c\($0.offset)" }
            try db.execute(sql: "CREATE TABLE t (\(columns.joined(separator: ", ")))")
            try db.execute(sql: "INSERT INTO t VALUES (\(values.map { _ in "?" }.joined(separator: ", ")))", arguments: StatementArguments(values))
            var writer = CompactPayloadWriter(recordedAt: recordedAt, actor: actor)
            let statement = try db.makeStatement(sql: "SELECT * FROM t")
            _ = try statement.fetchFirst(arguments: []) { row in
                if let changed {
                    writer.update(table, row, columns: Int32(values.count), changed: changed)
                } else {
                    writer.insert(table, row, columns: Int32(values.count))
                }
            }
            let stored = Array(try Row.fetchOne(db, sql: "SELECT * FROM t")!.databaseValues)
            return (writer.bytes, stored)
        }
    }

    /// Every change the reader finds: table, id, each value as SQLite holds it, the digest.
    struct Collected: CompactChangeVisitor {
        let parser: CompactPayloadParser
        var changes: [(operation: CompactTrail.Operation, table: LedgerTable, id: Int64, values: [(Int, CompactValue)], digest: [UInt8]?)] = []

        mutating func change(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64) {
            changes.append((operation, table, id, [], nil))
        }

        mutating func value(column: Int, _ value: CompactValueRef) {
            changes[changes.count - 1].values.append((column, parser.resolve(value)))
            // Verification renders a value straight from the payload: the same bytes.
            var rendered: [UInt8] = [], plain: [UInt8] = []
            parser.appendPlain(value, to: &rendered)
            CompactTrail.appendPlain(parser.resolve(value), to: &plain)
            #expect(rendered == plain)
        }

        mutating func endChange(digest: Range<Int>?) {
            changes[changes.count - 1].digest = digest.map { Array(parser.payload[$0]) }
        }
    }

    /// The changes in `payload` of an entry of that time and actor, or what is wrong with it.
    static func read(_ payload: [UInt8], recordedAt: String = recordedAt, actor: String = actor)
        -> Result<[(operation: CompactTrail.Operation, table: LedgerTable, id: Int64, values: [(Int, CompactValue)], digest: [UInt8]?)], ParseProblem> {
        CompactPayloadParser.withParser(payload, recordedAt: recordedAt, actor: actor) { parser in
            var collected = Collected(parser: parser)
            if let problem = parser.parse(&collected) { return .failure(ParseProblem(text: problem)) }
            return .success(collected.changes)
        }
    }

    struct ParseProblem: Error, Equatable {
        let text: String
    }

    /// docs/trail-format.md's example, byte for byte: a maintenance started at the entry's time
    /// by its actor, and its status change.
    @Test func theDocumentsExampleIsWhatTheWriterWrites() throws {
        var row: [DatabaseValue] = MaintenanceRecord.columns.map { _ in .null }
        row[0] = 332.databaseValue
        row[1] = "d6bac5fb-96d0-4435-b326-77b1134ab499".databaseValue
        row[3] = "running".databaseValue
        row[11] = Self.recordedAt.databaseValue
        let update = try Self.encode(.maintenances, row, changed: [3, 11])
        var plain: [UInt8] = []
        for value in row {
            switch value.storage {
            case .null: CompactTrail.appendPlain(.null, to: &plain)
            case .int64(let number): CompactTrail.appendPlain(.integer(number), to: &plain)
            case .string(let text): CompactTrail.appendPlain(.text(Array(text.utf8)), to: &plain)
            default: Issue.record("no such value here")
            }
        }
        let digest = Array(SHA256.hash(data: plain).prefix(16))
        #expect(update == [0x25, 0xCC, 0x02, 0x02, 0x03, 0x03, 0x07] + Array("running".utf8) + [0x0B, 0x06] + digest)

        let change: [DatabaseValue] = [1481.databaseValue, 332.databaseValue, "ready".databaseValue, "running".databaseValue,
                                       Self.recordedAt.databaseValue, Self.actor.databaseValue]
        let insert = try Self.encode(.maintenanceStatusChanges, change)
        #expect(insert == [0x16, 0xC9, 0x0B, 0x05, 0x01, 0x98, 0x05, 0x03, 0x05] + Array("ready".utf8) + [0x03, 0x07] + Array("running".utf8) + [0x06, 0x07])
    }

    /// Every kind of value, the texts each special form covers and those just outside it, and
    /// integers at their limits: written, read back exactly as SQLite held them.
    static let rows: [[DatabaseValue]] = {
        let texts = { (texts: [String]) in texts.map(\.databaseValue) }
        return [
            [.null, .null, .null, .null],
            [Int64.min.databaseValue, Int64.max.databaseValue, Int64(0).databaseValue, Int64(-1).databaseValue],
            [Double(1.5).databaseValue, Double(-0.0).databaseValue, Double.greatestFiniteMagnitude.databaseValue, Data([0, 255, 7]).databaseValue],
            texts([recordedAt, actor, "2023-04-28T18:04:21.141Z", "0000-01-01T00:00:00.000Z"]),
            texts(["9999-12-31T23:59:59.999Z", "2023-04-28T18:04:21.141z", "2023-04-28T18:04:21Z", "2023-02-29T00:00:00.000Z"]),
            texts(["d6bac5fb-96d0-4435-b326-77b1134ab499", "D6BAC5FB-96D0-4435-B326-77B1134AB499", "d6bac5fb96d04435b32677b1134ab499----", ""]),
            texts(["é ☃ \u{0} \"quoted\" \\", String(repeating: "x", count: 300), "Platform", " platform"]),
        ]
    }()

    @Test(arguments: rows)
    func everyValueComesBackAsSQLiteHeldIt(values: [DatabaseValue]) throws {
        let (insert, row) = try Self.encodeAndStore(.apps, [7.databaseValue] + values)
        let values = Array(row.dropFirst())
        let read = try Self.read(insert).get()
        #expect(read.count == 1 && read[0].operation == .insert && read[0].table == .apps && read[0].id == 7 && read[0].digest == nil)
        #expect(read[0].values.map(\.0) == [1, 2, 3, 4])
        #expect(read[0].values.map(\.1) == values.map(Self.compact))

        let update = try Self.encode(.apps, row, changed: [2, 4])
        let changed = try Self.read(update).get()
        #expect(changed[0].operation == .update && changed[0].values.map(\.0) == [2, 4])
        #expect(changed[0].values.map(\.1) == [values[1], values[3]].map(Self.compact))
        // Its digest is that of the whole row's plain encoding, which an insert's values give too.
        var plain: [UInt8] = []
        for value in row.map(Self.compact) { CompactTrail.appendPlain(value, to: &plain) }
        #expect(changed[0].digest == Array(SHA256.hash(data: plain).prefix(16)))
    }

    static func compact(_ value: DatabaseValue) -> CompactValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(Array(text.utf8))
        case .blob(let data): .blob(Array(data))
        }
    }

    /// Texts take their shortest form: the entry's time and actor one byte, a stored time about
    /// seven, a uuid seventeen; near misses stay text.
    @Test func textsTakeTheFormTheFormatFixes() throws {
        let tags = { (text: String) throws -> UInt8 in try Self.encode(.apps, [1.databaseValue, text.databaseValue, .null, .null, .null])[3] }
        #expect(try tags(Self.recordedAt) == 0x06)
        #expect(try tags(Self.actor) == 0x07)
        #expect(try tags("2023-04-28T18:04:21.141Z") == 0x05)
        #expect(try tags("d6bac5fb-96d0-4435-b326-77b1134ab499") == 0x08)
        for nearMiss in ["2023-04-28T18:04:21.141z", "2023-04-28 18:04:21.141Z", "D6BAC5FB-96D0-4435-B326-77B1134AB499", "platform "] {
            #expect(try tags(nearMiss) == 0x03, "\(nearMiss)")
        }
    }

    /// Verification keeps its tables by `ordinal` and reads a change's width as `columnCount`.
    @Test func tablesAreNumberedAsAllCasesListsThem() {
        for (index, table) in LedgerTable.allCases.enumerated() {
            #expect(table.ordinal == index)
            #expect(table.columnCount == table.columns.count)
            #expect(LedgerTable(code: table.code) == table)
        }
        #expect(LedgerTable(code: 0) == nil && LedgerTable(code: 11) == nil)
    }

    /// Bytes the writer would not write are refused, not read some other way.
    @Test(arguments: [
        ([0x11, 0x81, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00], "the change at byte 0 has no row id"), // overlong varint id
        ([0x11, 0x01, 0x04, 0x00, 0x00, 0x00], "the value of column 4 of the change at byte 0 is not one maintledger writes"), // cut short
        ([0x11, 0x01, 0x04, 0x03, 0x18] + Array("2023-04-28T18:04:21.141Z".utf8) + [0x00, 0x00, 0x00],
         "the value of column 1 of the change at byte 0 is not one maintledger writes"), // a time as plain text
        ([0x11, 0x01, 0x04, 0x03, 0x08] + Array("platform".utf8) + [0x00, 0x00, 0x00],
         "the value of column 1 of the change at byte 0 is not one maintledger writes"), // the actor as plain text
        ([0x11, 0x01, 0x04, 0x05, 0xCE, 0xF1, 0x91, 0x9F, 0xF6, 0x64, 0x00, 0x00, 0x00],
         "the value of column 1 of the change at byte 0 is not one maintledger writes"), // the entry's time as a time
        ([0x11, 0x01, 0x04, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x00],
         "the value of column 1 of the change at byte 0 is not one maintledger writes"), // a time past year 9999
        ([0x11, 0x01, 0x04, 0x09, 0x00, 0x00, 0x00], "the value of column 1 of the change at byte 0 is not one maintledger writes"), // tag 9
        ([0x21, 0x01, 0x01, 0x05, 0x00] + Array(repeating: 0, count: 16), "the update at byte 0 names its columns out of order"), // column 5 of 5
        ([0x21, 0x01, 0x00] + Array(repeating: 0, count: 16), "the update at byte 0 sets 0 columns"),
        ([0x1B, 0x01, 0x00], "byte 0 is not a change's code"), // table 11
    ] as [([UInt8], String)])
    func bytesTheWriterWouldNotWriteAreRefused(payload: [UInt8], problem: String) {
        #expect(throws: ParseProblem(text: problem)) { try Self.read(payload).get() }
    }

    /// Whatever the bytes, the reader answers (a shortened fuzz run; fuzz/trail runs it for longer, checking more).
    @Test func anyBytesAreReadOrRefusedWithoutTrapping() {
        var random = SplitMix64(seed: 17)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...40, using: &random)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty { bytes[0] = [0x11, 0x15, 0x25, 0x16][Int.random(in: 0...3, using: &random)] }
            _ = Self.read(bytes)
            _ = TrailEntry(hashedBytes: [0x02] + Array(repeating: 0, count: 32) + [0x01, 0x00, 0x00, 0x00, 0x00] + bytes)?.parsedPayload
        }
    }
}
