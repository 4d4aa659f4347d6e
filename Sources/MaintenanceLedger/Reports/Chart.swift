/// The charts of `audit:report`, drawn as inline SVG: a few hundred shapes each, whatever the
/// size of the ledger, each bar with a `<title>` saying its numbers.
struct Chart {
    /// The full size, for the page's main charts; the charts per plan are lower.
    static let full = Chart(height: 170), low = Chart(height: 90)

    private let width = 1000.0, left = 40.0, bottom = 22.0, top = 14.0
    let height: Double

    /// Per week, stacked: started inside the window, outside it, neither; emergencies marked
    /// above. `weeks`: every week of the axis, so that each chart of the page lines up.
    func weekly(_ weeks: [String], _ figures: [String: AuditSummary.Figures]) -> String {
        let peak = weeks.compactMap { figures[$0]?.ended }.max() ?? 0
        let step = (width - left) / Double(max(weeks.count, 1))
        var shapes = axis(peak: Double(peak), label: { "\($0)" })
        // The first week of a month is labelled with it, unless too close to the last label.
        let labelSpacing = max(4, Int(48 / step) + 1)
        var lastLabel = -labelSpacing
        for (index, week) in weeks.enumerated() {
            let x = left + Double(index) * step
            if index - lastLabel >= labelSpacing, x < width - 40, index == 0 || week.prefix(7) != weeks[index - 1].prefix(7) {
                shapes += "<text x=\"\(Self.number(x))\" y=\"\(Self.number(height - 6))\">\(week.prefix(7))</text>"
                lastLabel = index
            }
            guard let week = figures[week], week.ended > 0 else { continue }
            let stack = [("in", week.startedInWindow), ("out", week.startedOutsideWindow),
                         ("other", week.ended - week.startedInWindow - week.startedOutsideWindow)]
            var base = 0
            let title = "<title>week of \(weeks[index]): \(week.ended) ended, \(week.startedInWindow) started in window, "
                + "\(week.startedOutsideWindow) outside, \(week.row.emergency) emergencies</title>"
            shapes += "<g>\(title)"
            for (kind, count) in stack where count > 0 {
                shapes += rect(x: x, width: max(step - 1, 1), from: Double(base), to: Double(base + count), peak: Double(peak), kind: kind)
                base += count
            }
            if week.row.emergency > 0 {
                let y = scale(Double(week.ended), peak: Double(peak)) - 4
                shapes += "<circle class=\"emergency\" cx=\"\(Self.number(x + step / 2))\" cy=\"\(Self.number(y))\" r=\"3\"/>"
                    + "<text x=\"\(Self.number(x + step / 2 + 4))\" y=\"\(Self.number(y - 2))\">\(week.row.emergency)</text>"
            }
            shapes += "</g>"
        }
        return svg(shapes)
    }

    /// Shares (0…1) per label, as bars with their percentage; nil draws no bar.
    func shares(_ values: [(label: String, share: Double?)]) -> String {
        bars(values.map { ($0.label, $0.share.map { $0 * 100 }, $0.share.map { "\(Self.number($0 * 100))%" } ?? "–") }, peak: 100,
             axisLabel: { "\($0)%" })
    }

    /// Counts per bucket.
    func histogram(_ counts: [Int], labels: [String]) -> String {
        bars(zip(labels, counts).map { ($0, Double($1), "\($1)") }, peak: Double(counts.max() ?? 0), axisLabel: { "\($0)" })
    }

    private func bars(_ values: [(label: String, value: Double?, text: String)], peak: Double, axisLabel: (Int) -> String) -> String {
        let step = (width - left) / Double(max(values.count, 1))
        // Labels need about 48 pixels: with narrower bars the values go (each bar's title
        // keeps its own) and every few bars is labelled.
        let labelEvery = Int((48 / step).rounded(.up))
        var shapes = axis(peak: peak, label: axisLabel)
        for (index, bar) in values.enumerated() {
            let x = left + Double(index) * step
            shapes += "<g><title>\(escaped(bar.label)): \(bar.text)</title>"
            if let value = bar.value, value > 0 {
                shapes += rect(x: x + step * 0.1, width: step * 0.8, from: 0, to: value, peak: peak, kind: "bar")
            }
            if labelEvery == 1 {
                shapes += "<text x=\"\(Self.number(x + step / 2))\" y=\"\(Self.number(scale(bar.value ?? 0, peak: peak) - 3))\" text-anchor=\"middle\">\(bar.text)</text>"
            }
            if index % labelEvery == 0 {
                shapes += "<text x=\"\(Self.number(x + step / 2))\" y=\"\(Self.number(height - 6))\" text-anchor=\"middle\">\(escaped(bar.label))</text>"
            }
            shapes += "</g>"
        }
        return svg(shapes)
    }

    /// The baseline, and the peak's value at the top left.
    private func axis(peak: Double, label: (Int) -> String) -> String {
        "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
            + "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(width)\" y2=\"\(top)\" stroke=\"#eee\"/>"
            + "<text x=\"\(left - 4)\" y=\"\(top + 4)\" text-anchor=\"end\">\(label(Int(peak.rounded())))</text>"
            + "<text x=\"\(left - 4)\" y=\"\(height - bottom)\" text-anchor=\"end\">0</text>"
    }

    private func rect(x: Double, width: Double, from: Double, to: Double, peak: Double, kind: String) -> String {
        let y = scale(to, peak: peak)
        return "<rect class=\"\(kind)\" x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" height=\"\(Self.number(scale(from, peak: peak) - y))\"/>"
    }

    /// The y of a value on a chart whose top is `peak`.
    private func scale(_ value: Double, peak: Double) -> Double {
        guard peak > 0 else { return height - bottom }
        return height - bottom - value / peak * (height - bottom - top)
    }

    private func svg(_ shapes: String) -> String {
        // 20 pixels to the right of the last bar, for the end of its centred label.
        "<svg viewBox=\"0 0 \(Self.number(width + 20)) \(Self.number(height))\" width=\"\(Self.number(width + 20))\" height=\"\(Self.number(height))\" role=\"img\">\(shapes)</svg>"
    }

    /// At most one decimal, none when whole: "85.7", "300".
    static func number(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int64(tenths / 10))" : "\(tenths / 10)"
    }
}
