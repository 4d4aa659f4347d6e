import Crypto
import Foundation
import LedgerCore
import LedgerStore

/// Writes result rows straight from the SQLite statement, by column index: no Row values, no
/// Strings per cell. Columns are the query's (a view's, with names already joined in).
struct ExportRowEncoder {
    private struct Field {
        let column: Int32
        let boolean: Bool
        let json: Bool
    }

    private let format: ExportFormat
    private let fields: [Field]
    private let headers: [String]
    /// NDJSON: what precedes each value, `{"id":` then `,"uuid":` and so on.
    private let keys: [[UInt8]]

    /// `leavingOut`: columns of the query the file does not have (an earlier format's).
    init(entity: ExportEntity, format: ExportFormat, columns: [String], leavingOut: Set<String>) {
        self.format = format
        let kept = columns.indices.filter { !leavingOut.contains(columns[$0]) }
        fields = kept.map { index in
            Field(column: Int32(index), boolean: entity.booleanColumns.contains(columns[index]), json: entity == .trail && columns[index] == "payload")
        }
        headers = kept.map { columns[$0] }
        keys = headers.enumerated().map { index, header in
            Array(((index == 0 ? "{" : ",") + JSONValue.string(header).compactText + ":").utf8)
        }
    }

    func writeHeader(to file: BufferedWriter) throws {
        if format == .csv { try file.append(Array(CSV.row(headers).utf8)) }
    }

    func writeRow(_ row: RawColumns, to file: BufferedWriter) throws {
        for (index, field) in fields.enumerated() {
            switch format {
            case .ndjson: try file.append(keys[index])
            case .csv: if index > 0 { try file.append(UInt8(ascii: ",")) }
            }
            try writeValue(row, field.column, boolean: field.boolean, json: field.json, to: file)
        }
        switch format {
        case .ndjson: try file.append(Self.ndjsonEnd)
        case .csv: try file.append(Self.csvEnd)
        }
    }

    private static let ndjsonEnd = Array("}\n".utf8)
    private static let csvEnd = Array("\r\n".utf8)
    private static let null = Array("null".utf8)
    private static let `true` = Array("true".utf8)
    private static let `false` = Array("false".utf8)

    private func writeValue(_ row: RawColumns, _ column: Int32, boolean: Bool, json: Bool, to file: BufferedWriter) throws {
        switch row.kind(column) {
        case .null:
            if format == .ndjson { try file.append(Self.null) }
        case .integer:
            let value = row.int64(column)
            if boolean {
                try file.append(value != 0 ? Self.true : Self.false)
            } else {
                try file.appendDecimal(value)
            }
        case .real:
            let value = row.double(column)
            try file.append(Array((value.isFinite || format == .csv ? String(value) : "null").utf8))
        case .text where json:
            // A format 1 payload, JSON text maintledger wrote (verification checks it is).
            if format == .ndjson { try file.append(row.text(column)) } else { try writeText(row.text(column), to: file) }
        case .blob where json:
            // A format 2 payload, as JSON (`null` if it does not decode: only a tampered one).
            let recordedAt = String(decoding: row.text(1), as: UTF8.self), actor = String(decoding: row.text(2), as: UTF8.self)
            let text = Array((CompactPayloadJSON.render(Array(row.blob(column)), recordedAt: recordedAt, actor: actor) ?? .null).compactText.utf8)
            if format == .ndjson { try file.append(text) } else { try writeText(text, to: file) }
        case .text, .blob:
            try writeText(row.text(column), to: file)
        }
    }

    private func writeText(_ text: [UInt8], to file: BufferedWriter) throws {
        try text.withUnsafeBytes { try writeText($0, to: file) }
    }

    /// A JSON string (escaped as `JSONValue` does), or a CSV field (quoted as `CSV.row` does).
    private func writeText(_ text: UnsafeRawBufferPointer, to file: BufferedWriter) throws {
        let quote = UInt8(ascii: "\"")
        switch format {
        case .ndjson:
            // Most text needs no escaping: copy it whole.
            guard JSONBytes.needsEscaping(text) else {
                try file.append(quote)
                try file.append(text)
                return try file.append(quote)
            }
            var escaped: [UInt8] = []
            JSONBytes.appendString(text, to: &escaped)
            try file.append(escaped)
        case .csv:
            guard CSV.needsQuoting(text) else { return try file.append(text) }
            var quoted: [UInt8] = []
            CSV.appendField(text, to: &quoted)
            try file.append(quoted)
        }
    }
}
