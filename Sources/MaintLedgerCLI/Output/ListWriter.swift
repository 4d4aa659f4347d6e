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

/// How tables (and CSV) are cut to shape, with the flags `heroku` users know.
struct TableShape {
    /// The layout's columns to print, in order.
    var columns: [Int]
    var sortColumn: Int?
    var descending = false
    var header = true
    /// The terminal width to fit a table into; nil prints it whole.
    var width: Int?

    /// Every column, in the layout's order, whole.
    static func all(_ count: Int) -> TableShape { TableShape(columns: Array(0..<count)) }

    /// `names`' positions among `headers`, matched without regard to case; an unknown name is
    /// refused with the list of columns.
    static func positions(of names: [String], in headers: [String]) throws -> [Int] {
        try names.map { name in
            guard let index = headers.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
                throw LedgerError.invalidInput("there is no column '\(name.escapingControlCharacters)'",
                                               hint: "The columns: \(headers.map(\.escapingControlCharacters).joined(separator: ", ")).")
            }
            return index
        }
    }
}

/// Writes items one at a time in the chosen format. JSON, NDJSON and CSV stream; a table sizes
/// its columns on its first `tableSample` rows and streams the rest in those widths. Sorted
/// rows (`--sort`) are held until the end.
final class ListWriter<Item> {
    private let format: OutputFormat
    private let layout: RecordLayout<Item>
    private let shape: TableShape
    private let sink: BufferedWriter
    private var pendingRows: [[String]] = []
    private var tableWidths: [Int]?
    private(set) var count = 0
    static var tableSample: Int { 1000 }

    init(_ format: OutputFormat, _ layout: RecordLayout<Item>, shape: TableShape? = nil, sink: BufferedWriter) {
        self.format = format
        self.layout = layout
        self.shape = shape ?? .all(format == .csv ? layout.csvHeaders.count : layout.headers.count)
        self.sink = sink
        switch format {
        case .csv where self.shape.header: sink.write(CSV.row(self.shape.columns.map { layout.csvHeaders[$0] }))
        case .json: sink.write("[")
        case .table, .ndjson, .csv: break
        }
    }

    func write(_ item: Item) {
        switch format {
        case .json:
            sink.write(count == 0 ? "\n  " : ",\n  ")
            sink.write(layout.json(item).prettyText(level: 1))
        case .ndjson:
            sink.write(layout.json(item).compactText + "\n")
        case .csv where shape.sortColumn != nil:
            pendingRows.append(layout.csvCells(item))
        case .csv:
            let cells = layout.csvCells(item)
            sink.write(CSV.row(shape.columns.map { cells[$0] }))
        case .table:
            // What users typed (a description) is shown with its control characters written out.
            let cells = layout.cells(item).map(\.escapingControlCharacters)
            if let tableWidths {
                sink.write(tableLine(cells, widths: tableWidths) + "\n")
            } else {
                pendingRows.append(cells)
                if pendingRows.count >= Self.tableSample && shape.sortColumn == nil { flushTableHead() }
            }
        }
        count += 1
    }

    /// Ends the output (closing the JSON array, printing a short table) and flushes it. An
    /// empty table prints nothing when `emptyTable` is false (the caller says so on stderr).
    func finish(emptyTable: Bool = true) throws {
        sortPendingRows()
        switch format {
        case .table where count == 0 && !emptyTable: break
        case .json: sink.write(count == 0 ? "]\n" : "\n]\n")
        case .table where tableWidths == nil: flushTableHead()
        case .csv: for row in pendingRows { sink.write(CSV.row(shape.columns.map { row[$0] })) }
        case .table, .ndjson: break
        }
        try sink.finish()
    }

    /// A stable sort on the `--sort` column, numbers by value (`9` before `10`).
    private func sortPendingRows() {
        guard let column = shape.sortColumn else { return }
        pendingRows = pendingRows.enumerated().sorted { left, right in
            switch left.element[column].compare(right.element[column], options: [.numeric, .caseInsensitive]) {
            case .orderedSame: left.offset < right.offset
            case .orderedAscending: !shape.descending
            case .orderedDescending: shape.descending
            }
        }.map(\.element)
    }

    private func flushTableHead() {
        let headers = layout.headers.map(\.escapingControlCharacters) // `sql`'s are the query's
        var widths = TextFormat.columnWidths(headers: headers, rows: pendingRows)
        widths = shape.columns.map { widths[$0] }
        if let width = shape.width { widths = TextFormat.fit(widths, into: width) }
        tableWidths = widths
        if shape.header {
            sink.write(tableLine(headers, widths: widths, painted: false) + "\n" + TextFormat.rule(widths: widths) + "\n")
        }
        for row in pendingRows { sink.write(tableLine(row, widths: widths) + "\n") }
        pendingRows = []
    }

    /// Where the Status column is printed, if it is.
    private lazy var statusPosition = shape.columns.firstIndex { layout.headers[$0] == "Status" }

    /// The shape's columns of one row, cut to the widths when the table fits a terminal, and
    /// the statuses in their colours.
    private func tableLine(_ cells: [String], widths: [Int], painted: Bool = true) -> String {
        let status = painted ? statusPosition : nil
        return TextFormat.tableLine(shape.columns.map { cells[$0] }, widths: widths, truncating: shape.width != nil) { column, cell in
            column == status ? Terminal.standardOutputColor(for: cell) : nil
        }
    }
}
