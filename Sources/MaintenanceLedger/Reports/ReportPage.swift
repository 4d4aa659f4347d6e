import LedgerCore

/// The page `audit:report` writes: one HTML file that needs nothing else (styles inline, charts
/// drawn here as inline SVG, no script or font from anywhere), whose every number is readable
/// without script; a small inline script only adds the filters by app, kind and plan.
///
/// Every string from the ledger goes through `escaped` (app names may hold `<script>`). The
/// figures of `audit:compliance` are also carried as `data-*` attributes named after its JSON
/// keys (`deadline_met_share` → `data-deadline-met-share`), so that a program can check them.
struct ReportPage {
    let summary: AuditSummary

    var html: String {
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Maintenance audit report</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <h1>Maintenance audit report</h1>
            <p class="about">\(about)</p>

            """
        page += verdict + filters + figures + timeline + deadlines + durations + overdue + windows
        page += "<script>\(Self.script)</script>\n</body>\n</html>\n"
        return page
    }

    // MARK: Sections

    private var about: String {
        let request = summary.request
        let period = switch (request.since, request.until) {
        case (nil, nil): "every maintenance that ended"
        case let (since?, nil): "maintenances that ended from \(since.isoText)"
        case let (nil, until?): "maintenances that ended before \(until.isoText)"
        case let (since?, until?): "maintenances that ended from \(since.isoText) to before \(until.isoText)"
        }
        let moment = request.moment.asOf.map { "as the ledger stood at \($0.isoText)" } ?? "as the ledger stands"
        return "Ledger <code>\(escaped(summary.ledgerPath))</code>: \(period), \(moment). Generated at \(summary.generatedAt.isoText) by maintledger audit:report."
    }

    private var verdict: String {
        let verification = summary.verification
        var section = """
            <section id="verification" data-verified="true" data-entries="\(verification.entryCount)" data-head="\(verification.headHash)">
            <h2>Verification</h2>
            <p class="ok">✔ ok: \(verification.entryCount) entries verified, head <code>\(verification.headHash)</code></p>
            <p id="state">\(state)</p>

            """
        if let checkpoint = summary.checkpoint {
            section += """
                <p class="ok" id="checkpoint" data-size="\(checkpoint.size)" data-root="\(escaped(checkpoint.rootBase64))">✔ the latest checkpoint \
                recorded holds: \(escaped(checkpoint.origin)), \(checkpoint.size) entries, root <code>\(escaped(checkpoint.rootBase64))</code>, \
                recorded at \(checkpoint.recordedAt.isoText)</p>

                """
        } else {
            section += "<p id=\"checkpoint\">No checkpoint recorded (<code>maintledger audit:checkpoint</code> signs one).</p>\n"
        }
        return section + "</section>\n"
    }

    /// Which state the verdict and the figures describe: one committed state, read in one
    /// transaction; with --as-of, the figures are rebuilt from it as of an earlier time.
    private var state: String {
        let head = "the ledger as it stood when the report was generated (entry \(summary.verification.entryCount) its head)"
        guard let asOf = summary.request.moment.asOf else {
            return "One committed state: the verdict and every figure on this page are of \(head)."
        }
        return "One committed state: the verdict is of \(head), not as of \(asOf.isoText); every figure on this page was rebuilt "
            + "from that same state as the ledger stood at \(asOf.isoText)."
    }

    private var filters: String {
        let kinds = Set(summary.byPlan.map(\.kind)).sorted()
        func options(_ values: [String]) -> String {
            values.map { "<option>\(escaped($0))</option>" }.joined()
        }
        return """
            <nav id="filters" hidden>
            <label>App <input id="filter-app" type="search" placeholder="name contains"></label>
            <label>Kind <select id="filter-kind"><option value="">all</option>\(options(kinds))</select></label>
            <label>Plan <select id="filter-plan"><option value="">all</option>\(options(summary.byPlan.map(\.plan)))</select></label>
            <span class="note">Charts and rows by plan follow the kind and plan (choosing one opens the charts by plan); the lists follow all three.</span>
            </nav>

            """
    }

    private var figures: String {
        let overall = summary.overall.row
        let cards: [(String, String)] = [
            ("Ended", "\(summary.overall.ended)"), ("Completed", "\(overall.completed)"), ("Failed", "\(overall.failed)"),
            ("Cancelled", "\(overall.cancelled)"), ("Emergencies", "\(overall.emergency)"),
            ("Started in window", percent(overall.inWindowShare)), ("Deadline met", percent(overall.deadlineMetShare)),
            ("Duration p50 / p95", "\(duration(overall.durationP50)) / \(duration(overall.durationP95))"),
            ("Longest gap", overall.longestGapDays.map { "\(number($0)) days" } ?? "–"),
            ("Overdue now", "\(summary.overdueMaintenanceCount) on \(summary.overdueAddonCount) add-ons"),
            ("Window changes", "\(summary.windowChangeCount)"),
        ]
        return """
            <section id="figures">
            <h2>Overall</h2>
            <div class="cards">\(cards.map { "<div><span>\($0.0)</span><b>\($0.1)</b></div>" }.joined())</div>
            \(complianceTable(id: "compliance-overall", first: "", rows: [(overall.json(by: nil), "<td>all plans</td>", "")]))
            </section>

            """
    }

    private var timeline: String {
        let weeks = allWeeks
        var section = """
            <section id="timeline">
            <h2>Maintenances per week</h2>
            <p class="note">By the week (Monday, UTC) each ended. <span class="key in"></span> started inside its window \
            <span class="key out"></span> started outside it <span class="key other"></span> no window, or never started \
            <span class="key emergency"></span> emergencies (count above the bar).</p>
            <figure><figcaption>All plans</figcaption>\(Chart.full.weekly(weeks, summary.byWeek))</figure>
            <details class="by-plan"><summary>By plan</summary>

            """
        for plan in summary.byPlan {
            section += "<figure \(planAttributes(plan))><figcaption>\(escaped(plan.plan))</figcaption>\(Chart.low.weekly(weeks, plan.weeks))</figure>\n"
        }
        return section + "</details>\n</section>\n"
    }

    private var deadlines: String {
        let months = summary.byMonth
        let monthRows = months.map { ($0.figures.row.json(by: nil), "<td>\($0.month)</td>", " data-month=\"\($0.month)\"") }
        let planRows = summary.byPlan.map {
            ($0.figures.row.json(by: .plan), "<td>\(escaped($0.plan))</td>", " " + planAttributes($0))
        }
        return """
            <section id="deadlines">
            <h2>Completion within deadline</h2>
            <figure><figcaption>Share of maintenances with a deadline that met it, by month they ended</figcaption>\
            \(Chart.full.shares(months.map { ($0.month, $0.figures.row.deadlineMetShare) }))</figure>
            <h3>By month</h3>
            \(complianceTable(id: "compliance-by-month", first: "Month", rows: monthRows))
            <h3>By plan</h3>
            \(complianceTable(id: "compliance-by-plan", first: "Plan", rows: planRows))
            </section>

            """
    }

    private var durations: String {
        var section = """
            <section id="durations">
            <h2>Durations of completed maintenances</h2>
            <figure><figcaption>All plans</figcaption>\(Chart.full.histogram(summary.overall.durationHistogram, labels: Self.bucketLabels))</figure>
            <details class="by-plan"><summary>By plan</summary>

            """
        for plan in summary.byPlan {
            section += "<figure \(planAttributes(plan))><figcaption>\(escaped(plan.plan))</figcaption>"
                + "\(Chart.low.histogram(plan.figures.durationHistogram, labels: Self.bucketLabels))</figure>\n"
        }
        return section + "</details>\n</section>\n"
    }

    private var overdue: String {
        let addons = summary.overdueAddons.map { addon in
            "<tr \(itemAttributes(app: addon.app, plan: addon.plan))><td>\(escaped(addon.app))</td><td>\(escaped(addon.addon))</td>"
                + "<td>\(escaped(addon.plan))</td><td class=\"n\">\(addon.maintenances)</td><td>\(addon.oldestRequiredBy.isoText)</td></tr>"
        }
        let gaps = summary.longestGaps.map { gap in
            let row = gap.item
            return "<tr \(itemAttributes(app: row.app, plan: gap.plan))><td>\(escaped(row.app))</td><td>\(escaped(row.addon))</td>"
                + "<td>\(escaped(gap.plan))</td><td class=\"n\">\(row.gapDays.map(number) ?? "–")</td>"
                + "<td>\(row.gapFrom?.isoText ?? "")</td><td>\(row.gapTo?.isoText ?? "")</td></tr>"
        }
        return """
            <section id="overdue" data-overdue-maintenances="\(summary.overdueMaintenanceCount)" data-overdue-addons="\(summary.overdueAddonCount)" data-gaps="\(summary.gapCount)">
            <h2>Overdue add-ons</h2>
            <p class="note">\(summary.overdueMaintenanceCount) maintenances past their deadline on \(summary.overdueAddonCount) add-ons at the moment\
            \(shown(addons.count, of: summary.overdueAddonCount, "oldest deadline first", command: "audit:overdue"))</p>
            \(table(["App", "Add-on", "Plan", "Overdue", "Oldest deadline"], addons, id: "overdue-addons"))
            <h2>Longest gaps without a completed maintenance</h2>
            <p class="note">\(summary.gapCount) gaps of more than 90 days overlap the period\
            \(shown(gaps.count, of: summary.gapCount, "longest first", command: "audit:overdue"))</p>
            \(table(["App", "Add-on", "Plan", "Days", "From", "To"], gaps, id: "longest-gaps"))
            </section>

            """
    }

    private var windows: String {
        let rows = summary.windowChanges.map { change in
            let item = change.item
            return "<tr \(itemAttributes(app: item.app, plan: change.plan))><td>\(item.setAt.isoText)</td><td>\(escaped(item.setBy))</td>"
                + "<td>\(escaped(item.app))</td><td>\(escaped(item.addon))</td><td>\(escaped(change.plan))</td>"
                + "<td>\(escaped(item.previousWindow?.text ?? ""))</td><td>\(escaped(item.window.text))</td></tr>"
        }
        return """
            <section id="windows" data-window-changes="\(summary.windowChangeCount)">
            <h2>Window changes</h2>
            <p class="note">\(summary.windowChangeCount) windows changed in the period\
            \(shown(rows.count, of: summary.windowChangeCount, "latest first", command: "audit:windows"))</p>
            \(table(["Set at", "By", "App", "Add-on", "Plan", "From", "To"], rows, id: "window-changes"))
            </section>

            """
    }

    // MARK: Pieces

    /// Every Monday from the first week with a maintenance to the last.
    private var allWeeks: [String] {
        guard let first = summary.weeks.first.flatMap({ Timestamp(iso: $0 + "T00:00:00Z") }),
              let last = summary.weeks.last.flatMap({ Timestamp(iso: $0 + "T00:00:00Z") }) else { return [] }
        return stride(from: 0, through: first.milliseconds(until: last) / Timestamp.millisecondsPerWeek, by: 1).map {
            String(first.adding(weeks: $0).storageText.prefix(10))
        }
    }

    /// A table of `audit:compliance` rows, each `<tr>` carrying its JSON as attributes.
    private func complianceTable(id: String, first: String, rows: [(json: JSONValue, label: String, attributes: String)]) -> String {
        let headers = [first, "Ended", "Completed", "Failed", "Cancelled", "Emergencies", "In window", "Deadline met",
                       "p50", "p95", "Max", "Longest gap (days)"]
        let body = rows.map { json, label, attributes in
            guard case .object(let members) = json else { return "" }
            let data = members.map { key, value in " data-\(key.replacingOccurrences(of: "_", with: "-"))=\"\(escaped(Self.attributeText(value)))\"" }
            let value = { (key: String) in json[key] ?? .null }
            let cells = [
                Self.count(value("completed")) + Self.count(value("failed")) + Self.count(value("cancelled")),
                Self.count(value("completed")), Self.count(value("failed")), Self.count(value("cancelled")), Self.count(value("emergency")),
            ].map { "<td class=\"n\">\($0)</td>" }
            let shares = [percent(value("in_window_share")), percent(value("deadline_met_share")),
                          duration(value("duration_p50_seconds")), duration(value("duration_p95_seconds")),
                          duration(value("duration_max_seconds")), value("longest_gap_days").double.map(number) ?? "–"]
                .map { "<td class=\"n\">\($0)</td>" }
            return "<tr\(attributes)\(data.joined())>\(label)\((cells + shares).joined())</tr>"
        }
        return table(headers, body, id: id)
    }

    private func table(_ headers: [String], _ rows: [String], id: String? = nil) -> String {
        guard !rows.isEmpty else { return "<p class=\"none\">None.</p>" }
        return "<table\(id.map { " id=\"\($0)\"" } ?? "")><thead><tr>\(headers.map { "<th>\($0)</th>" }.joined())</tr></thead><tbody>\n"
            + rows.joined(separator: "\n") + "\n</tbody></table>"
    }

    private func shown(_ count: Int, of total: Int, _ order: String, command: String) -> String {
        count < total ? "; the \(count) shown are the first, \(order) (<code>maintledger \(command)</code> lists them all)." : "."
    }

    private func planAttributes(_ plan: AuditSummary.PlanFigures) -> String {
        "data-kind=\"\(escaped(plan.kind))\" data-plan=\"\(escaped(plan.plan))\""
    }

    private func itemAttributes(app: String, plan: String) -> String {
        "data-app=\"\(escaped(app))\" data-kind=\"\(escaped(String(plan.prefix { $0 != ":" })))\" data-plan=\"\(escaped(plan))\""
    }

    private static let bucketLabels: [String] = {
        let bounds = AuditSummary.durationBuckets.map { $0 < 3_600 ? "\($0 / 60)m" : "\($0 / 3_600)h" }
        return ["< \(bounds[0])"] + zip(bounds, bounds.dropFirst()).map { "\($0)–\($1)" } + ["≥ \(bounds.last!)"]
    }()

    /// How an attribute carries a JSON value: a string as it is, anything else as JSON text.
    private static func attributeText(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return value.compactText
    }

    private static func count(_ value: JSONValue) -> Int64 {
        if case .int(let count) = value { return count }
        return 0
    }

    private func percent(_ value: JSONValue) -> String { percent(value.double) }
    private func percent(_ share: Double?) -> String { share.map { "\(number($0 * 100))%" } ?? "–" }
    private func duration(_ value: JSONValue) -> String { duration(value.double.map { Int64($0) }) }

    /// Seconds as "4m 05s" or "1h 02m".
    private func duration(_ seconds: Int64?) -> String {
        guard let seconds else { return "–" }
        if seconds < 3_600 { return "\(seconds / 60)m \(String(format2: seconds % 60))s" }
        return "\(seconds / 3_600)h \(String(format2: seconds % 3_600 / 60))m"
    }

    private func number(_ value: Double) -> String { Chart.number(value) }

    // MARK: Style and script

    private static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}
        h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}.about,.note{color:#555}
        code{font-size:12px;word-break:break-all}.ok{color:#11652b}
        .cards{display:flex;flex-wrap:wrap;gap:.5em}.cards div{border:1px solid #ddd;border-radius:4px;padding:.4em .7em}
        .cards span{display:block;color:#666;font-size:12px}.cards b{font-size:17px}
        table{border-collapse:collapse;margin:.5em 0;font-size:13px}th,td{border-bottom:1px solid #eee;padding:2px 8px;text-align:left}
        td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}figure{margin:.8em 0}figcaption{font-weight:600}
        nav{position:sticky;top:0;background:#f6f6f6;padding:.5em;border:1px solid #ddd;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
        svg{display:block;max-width:100%}svg text{font-size:10px;fill:#444}
        .key{display:inline-block;width:10px;height:10px;margin-left:.6em}.key.in,.in{fill:#2e8b57;background:#2e8b57}
        .key.out,.out{fill:#e08a1e;background:#e08a1e}.key.other,.other{fill:#aab;background:#aab}
        .key.emergency,.emergency{fill:#c62828;background:#c62828}.bar{fill:#4a78b5}
        """

    /// Shows the filters, and hides what they rule out: an element with `data-app`, `data-kind`
    /// or `data-plan` that the app (contains, any case), kind or plan chosen does not match.
    /// A link may choose them: `report.html#kind=heroku-redis&app=shop`.
    private static let script = """
        (function(){var f=document.getElementById('filters');f.hidden=false;
        var app=document.getElementById('filter-app'),kind=document.getElementById('filter-kind'),plan=document.getElementById('filter-plan');
        function apply(){var a=app.value.trim().toLowerCase(),k=kind.value,p=plan.value;
        document.querySelectorAll('[data-app],[data-kind],[data-plan]').forEach(function(e){if(e.closest('#filters'))return;var d=e.dataset;
        var show=(!a||d.app===undefined||d.app.toLowerCase().indexOf(a)>=0)&&(!k||d.kind===undefined||d.kind===k)&&(!p||d.plan===undefined||d.plan===p);
        e.hidden=!show;});
        document.querySelectorAll('details.by-plan').forEach(function(e){e.open=!!(k||p);});}
        var given=new URLSearchParams(location.hash.slice(1));app.value=given.get('app')||'';kind.value=given.get('kind')||'';plan.value=given.get('plan')||'';apply();
        app.addEventListener('input',apply);kind.addEventListener('change',apply);plan.addEventListener('change',apply);})();
        """
}

/// Text for HTML, in an element or in a quoted attribute.
func escaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text.unicodeScalars {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(character)
        }
    }
    return out
}

private extension JSONValue {
    var double: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

private extension String {
    /// Two digits, zero-padded.
    init(format2 value: Int64) { self = value < 10 ? "0\(value)" : "\(value)" }
}

/// What `audit:report` did.
public struct AuditReportResult: Sendable {
    public let summary: AuditSummary
    /// The page's size.
    public let bytes: Int
    /// Temporary files of interrupted reports that this run removed from the folder.
    public let removed: [String]
}

extension LedgerQuerying {
    /// `audit:report --to FILE`: the page of `request`'s figures at FILE, whole; or, if anything
    /// fails or the run is killed, nothing at FILE (see `NewFile`). The target is checked before
    /// the figures are added up, and again before the page takes its name.
    public func writeAuditReport(_ request: AuditSummaryRequest, to file: String, replacing: Bool) throws -> AuditReportResult {
        let target = try NewFile(file, ledger: reader.path, replacing: replacing, wording: .report)
        defer { target.discard() }
        let summary = try auditSummary(request)
        let page = Array(ReportPage(summary: summary).html.utf8)
        let removed = target.removeAbandonedCopies()
        _ = try target.create()
        try target.write(page)
        try target.putInPlace()
        return AuditReportResult(summary: summary, bytes: page.count, removed: removed)
    }
}
