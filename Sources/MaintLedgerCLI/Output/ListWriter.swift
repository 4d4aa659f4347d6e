import MaintenanceLedger
import LedgerCore
import Foundation

/// The one output family of every listing: a table for people, or JSON, NDJSON, CSV for programs.
enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, ndjson, csv
}

/// How one kind of item looks in every format: its JSON object (Heroku's shape where one
/// exists), its table cells, and its CSV cells (full values where the table abbreviates).
struct RecordLayout<Item> {
    let headers: [String]
    let json: (Item) -> JSONValue
    let cells: (Item) -> [String]
    let csvHeaders: [String]
    let csvCells: (Item) -> [String]

    /// CSV repeats the table's columns unless given its own (`csvHeaders` with `csvCells`).
    init(json: @escaping (Item) -> JSONValue, headers: [String], cells: @escaping (Item) -> [String],
                csvHeaders: [String]? = nil, csvCells: ((Item) -> [String])? = nil) {
        self.headers = headers
        self.json = json
        self.cells = cells
        self.csvHeaders = csvHeaders ?? headers
        self.csvCells = csvCells ?? cells
    }
}

/// Writes items one at a time in the chosen format. JSON, NDJSON and CSV stream; a table sizes
/// its columns on its first `tableSample` rows and streams the rest in those widths.
final class ListWriter<Item> {
    private let format: OutputFormat
    private let layout: RecordLayout<Item>
    private let sink: BufferedWriter
    private var pendingTableRows: [[String]] = []
    private var tableWidths: [Int]?
    private(set) var count = 0
    static var tableSample: Int { 1000 }

    init(_ format: OutputFormat, _ layout: RecordLayout<Item>, sink: BufferedWriter) {
        self.format = format
        self.layout = layout
        self.sink = sink
        switch format {
        case .csv: sink.write(CSV.row(layout.csvHeaders))
        case .json: sink.write("[")
        case .table, .ndjson: break
        }
    }

    func write(_ item: Item) {
        switch format {
        case .json:
            sink.write(count == 0 ? "\n  " : ",\n  ")
            sink.write(layout.json(item).prettyText(level: 1))
        case .ndjson:
            sink.write(layout.json(item).compactText + "\n")
        case .csv:
            sink.write(CSV.row(layout.csvCells(item)))
        case .table:
            // What users typed (a description) is shown with its control characters written out.
            let cells = layout.cells(item).map(\.escapingControlCharacters)
            if let tableWidths {
                sink.write(TextFormat.tableLine(cells, widths: tableWidths) + "\n")
            } else {
                pendingTableRows.append(cells)
                if pendingTableRows.count >= Self.tableSample { flushTableHead() }
            }
        }
        count += 1
    }

    /// Ends the output (closing the JSON array, printing a short table) and flushes it. An
    /// empty table prints nothing when `emptyTable` is false (the caller says so on stderr).
    func finish(emptyTable: Bool = true) throws {
        switch format {
        case .table where count == 0 && !emptyTable: break
        case .json: sink.write(count == 0 ? "]\n" : "\n]\n")
        case .table where tableWidths == nil: flushTableHead()
        case .table, .ndjson, .csv: break
        }
        try sink.finish()
    }

    private func flushTableHead() {
        let headers = layout.headers.map(\.escapingControlCharacters) // `sql`'s are the query's
        let widths = TextFormat.columnWidths(headers: headers, rows: pendingTableRows)
        sink.write(TextFormat.table(headers: headers, rows: pendingTableRows, widths: widths) + "\n")
        tableWidths = widths
        pendingTableRows = []
    }
}

