import Foundation
import Testing
@testable import LedgerCore
@testable import MaintLedgerCLI

/// How listings are written, below the commands that use them.
@Suite struct ListWriterTests {
    /// A CSV row asks for the item's cells once, however many columns it prints: asked once
    /// per column, `audit:overdue --csv` of 705,000 rows took 15 s of CPU against NDJSON's 6 s.
    @Test(arguments: [OutputFormat.csv, .ndjson, .json, .table])
    func eachItemIsRenderedOnce(_ format: OutputFormat) throws {
        let rendered = Counter()
        let layout = RecordLayout<Int>(json: { .object([("n", .int(Int64($0)))]) }, headers: ["a", "b", "c", "d"],
                                       cells: { item in rendered.add(); return ["\(item)", "b", "c", "d"] })
        let sink = BufferedWriter(descriptor: open("/dev/null", O_WRONLY), destination: "/dev/null")
        let writer = ListWriter(format, layout, sink: sink)
        for item in 0..<10 { writer.write(item) }
        try writer.finish()
        #expect(rendered.value == (format == .csv || format == .table ? 10 : 0))
    }

    final class Counter: @unchecked Sendable {
        private(set) var value = 0
        func add() { value += 1 }
    }
}
