import LedgerCore
import Foundation
import MaintenanceLedger

// How the audit reports look as tables and CSV. Their JSON is the library's, and so are the CSV's
// column names: the JSON's keys (snake_case, stable for programs); only tables have labels.

private func fixed(_ value: Double, digits: Int) -> String { String(format: "%.\(digits)f", value) }

extension OverdueRow {
    fileprivate func cells(missing: String, time: (Timestamp) -> String) -> [String] {
        [kind.rawValue, app, addon, maintenance ?? missing, status?.rawValue ?? missing, requiredBy.map(time) ?? missing,
         gapFrom.map(time) ?? missing, gapTo.map(time) ?? missing, gapDays.map { fixed($0, digits: 2) } ?? missing]
    }

    static var layout: RecordLayout<OverdueRow> {
        RecordLayout(json: \.json,
                     headers: ["Kind", "App", "Add-on", "Maintenance", "Status", "Required by", "Gap from", "Gap to", "Gap (days)"],
                     cells: { $0.cells(missing: "-", time: \.listText) },
                     csvHeaders: keys, csvCells: { $0.cells(missing: "", time: \.isoText) })
    }
}

extension ComplianceRow {
    fileprivate func cells(missing: String) -> [String] {
        [String(completed), String(failed), String(cancelled), String(emergency),
         inWindowShare.map { fixed($0, digits: 4) } ?? missing, deadlineMetShare.map { fixed($0, digits: 4) } ?? missing,
         durationP50.map(String.init) ?? missing, durationP95.map(String.init) ?? missing, durationMax.map(String.init) ?? missing,
         longestGapDays.map { fixed($0, digits: 2) } ?? missing]
    }

    /// The columns, led by the group's (named after `by`) when there is one.
    static func layout(by: ComplianceGrouping?) -> RecordLayout<ComplianceRow> {
        func group(_ row: ComplianceRow, missing: String) -> [String] { by == nil ? [] : [row.group ?? missing] }
        return RecordLayout(json: { $0.json(by: by) },
                            headers: (by.map { [$0.rawValue.capitalized] } ?? []) + [
                                "Completed", "Failed", "Cancelled", "Emergency", "In window", "Deadline met", "p50 (s)", "p95 (s)",
                                "Max (s)", "Longest gap (days)",
                            ],
                            cells: { group($0, missing: "-") + $0.cells(missing: "-") },
                            csvHeaders: keys(by: by), csvCells: { group($0, missing: "") + $0.cells(missing: "") })
    }
}

extension WindowChange {
    fileprivate func cells(missing: String, time: (Timestamp) -> String) -> [String] {
        [app, addon, previousWindow?.text ?? missing, window.text, setBy, time(setAt), source]
    }

    static var layout: RecordLayout<WindowChange> {
        RecordLayout(json: \.json, headers: ["App", "Add-on", "Previous window", "Window", "Set by", "Set at", "Source"],
                     cells: { $0.cells(missing: "-", time: \.listText) },
                     csvHeaders: keys, csvCells: { $0.cells(missing: "", time: \.isoText) })
    }
}
