import LedgerCore
import LedgerStore

// What `audit:report` shows, added up from the other audit reports' queries: the verdict of
// `audit:verify`, the tallies of `audit:compliance` overall and by plan, month and week, the
// findings of `audit:overdue` and the changes of `audit:windows`. Aggregates only, so that a
// ledger of a million maintenances gives a page of a few hundred kilobytes: the lists keep their
// first (or latest) rows and say how many there were.

/// The period and moment `audit:report` is about.
public struct AuditSummaryRequest: Sendable {
    /// Maintenances that ended in `[since, until)`, as `audit:compliance` counts them.
    public var since: Timestamp?
    public var until: Timestamp?
    public var moment: Moment

    public init(since: Timestamp? = nil, until: Timestamp? = nil, moment: Moment = .now) {
        self.since = since
        self.until = until
        self.moment = moment
    }
}

public struct AuditSummary: Sendable {
    /// The latest checkpoint recorded, which still holds.
    public struct CheckpointHeld: Sendable {
        public let origin: String
        public let size: Int64
        public let rootBase64: String
        public let recordedAt: Timestamp
    }

    /// The figures of a group's maintenances: `audit:compliance`'s row, the counts behind the
    /// window and emergency marks of the timeline, and the durations' histogram.
    public struct Figures: Sendable {
        public let row: ComplianceRow
        public let ended: Int
        public let startedInWindow: Int
        public let startedOutsideWindow: Int
        /// Completed maintenances per bucket of `durationBuckets`.
        public let durationHistogram: [Int]

        init(_ tally: ComplianceTally, group: String?) {
            row = tally.row(group: group)
            ended = tally.ended
            startedInWindow = tally.startedInWindow
            startedOutsideWindow = tally.startedWithWindow - tally.startedInWindow
            var histogram = [Int](repeating: 0, count: AuditSummary.durationBuckets.count + 1)
            for duration in tally.durations {
                histogram[AuditSummary.durationBuckets.firstIndex { duration < $0 } ?? AuditSummary.durationBuckets.count] += 1
            }
            durationHistogram = histogram
        }
    }

    /// A plan (`heroku-redis:premium-0`) and its figures, overall and per week.
    public struct PlanFigures: Sendable {
        public let plan: String
        public var kind: String { String(plan.prefix { $0 != ":" }) }
        public let figures: Figures
        public let weeks: [String: Figures]
    }

    /// An add-on with maintenances overdue at the moment.
    public struct OverdueAddon: Sendable {
        public let app: String
        public let addon: String
        public let plan: String
        public let maintenances: Int
        public let oldestRequiredBy: Timestamp
    }

    /// A finding of `audit:overdue` or change of `audit:windows`, with its add-on's plan.
    public struct Planned<Item: Sendable>: Sendable {
        public let item: Item
        public let plan: String
    }

    /// Upper bounds, in seconds, of the durations' buckets; the last bucket has none.
    public static let durationBuckets: [Int64] = [60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200, 14_400]
    /// How many rows each list keeps.
    public static let listLimit = 500

    public let request: AuditSummaryRequest
    public let generatedAt: Timestamp
    public let ledgerPath: String
    public let verification: VerificationReport
    public let checkpoint: CheckpointHeld?
    public let overall: Figures
    /// The weeks (their Mondays, `2023-04-24`) in which maintenances ended, in order.
    public let weeks: [String]
    public let byWeek: [String: Figures]
    /// Months (`2023-04`) in order.
    public let byMonth: [(month: String, figures: Figures)]
    public let byPlan: [PlanFigures]
    /// The add-ons with overdue maintenances, oldest deadline first (at most `listLimit`) …
    public let overdueAddons: [OverdueAddon]
    /// … of this many add-ons, with this many maintenances overdue.
    public let overdueAddonCount: Int
    public let overdueMaintenanceCount: Int
    /// The longest gaps that overlap the period, longest first (at most `listLimit`), of how many.
    public let longestGaps: [Planned<OverdueRow>]
    public let gapCount: Int
    /// The windows changed in the period, latest first (at most `listLimit`), of how many.
    public let windowChanges: [Planned<WindowChange>]
    public let windowChangeCount: Int
}

/// An add-on by its app's name and its own.
private struct AddonKey: Hashable {
    let app: String, addon: String
}

extension LedgerQuerying {
    /// `audit:report`'s figures. Refused when the ledger held no maintenance at the moment;
    /// exit 3 when the ledger does not verify (a report would present altered figures as true).
    ///
    /// Verification and every figure read one committed state, in one read transaction: the
    /// head hash the page prints is that of the state its figures were computed on, whatever a
    /// writer records meanwhile. (With --as-of the figures are rebuilt as of that time from the
    /// same state; the verdict is of the whole ledger in it.)
    public func auditSummary(_ request: AuditSummaryRequest) throws -> AuditSummary {
        try ComplianceFilter.checkPeriod(since: request.since, until: request.until)
        return try verify(before: { db in try Self.refuseEmpty(request.moment, db) }, after: { db, verification in
            try auditSummary(request, verification: verification, in: db)
        })
    }

    private static func refuseEmpty(_ moment: Moment, _ db: LedgerSQL) throws {
        let maintenances = try db.value(Int.self, "SELECT count(*) FROM \(moment.maintenancesSource) m") ?? 0
        guard maintenances == 0 else { return }
        throw LedgerError.refused("the ledger held no maintenance \(moment.asOf.map { "at \($0.isoText)" } ?? "yet"): there is nothing to report",
                                  hint: moment.asOf == nil ? "Report on a ledger that has recorded maintenances (`maintledger demo` builds one)."
                                                             : "Give a later --as-of, when the ledger held maintenances.")
    }

    /// The figures, read on `db` in the transaction that verified the ledger.
    private func auditSummary(_ request: AuditSummaryRequest, verification: VerificationReport, in db: LedgerSQL) throws -> AuditSummary {
        let moment = request.moment
        let week = "date(m.ended_at, '-6 days', 'weekday 1')"
        let plan = "a.service || ':' || a.plan"
        let tallies = try complianceTallies(since: request.since, until: request.until, at: moment,
                                            groupedBy: ["NULL", week, "substr(m.ended_at, 1, 7)", plan, "\(plan) || ' ' || \(week)"], in: db)
        let plans = try Self.plansByAddon(db)
        func planOf(_ app: String, _ addon: String) -> String { plans[AddonKey(app: app, addon: addon)] ?? "" }

        let overdue = try overdueFindings(request, in: db, planOf: planOf)
        let changes = try latestWindowChanges(request, in: db, planOf: planOf)
        let byPlanWeek = Dictionary(grouping: tallies[4].compactMap { key, tally in
            key.flatMap { key -> (plan: String, week: String, tally: ComplianceTally)? in
                guard let space = key.lastIndex(of: " ") else { return nil }
                return (String(key[..<space]), String(key[key.index(after: space)...]), tally)
            }
        }, by: \.plan)
        return AuditSummary(
            request: request, generatedAt: context.now, ledgerPath: reader.path,
            verification: verification, checkpoint: try Self.checkpointHeld(db),
            overall: .init(tallies[0][nil] ?? ComplianceTally(), group: nil),
            weeks: tallies[1].sortedByGroup.compactMap(\.group),
            byWeek: Dictionary(uniqueKeysWithValues: tallies[1].compactMap { key, tally in key.map { ($0, .init(tally, group: $0)) } }),
            byMonth: tallies[2].sortedByGroup.compactMap { group, tally in group.map { ($0, .init(tally, group: $0)) } },
            byPlan: tallies[3].sortedByGroup.compactMap { group, tally in
                group.map { plan in
                    .init(plan: plan, figures: .init(tally, group: plan),
                          weeks: Dictionary(uniqueKeysWithValues: (byPlanWeek[plan] ?? []).map { ($0.week, .init($0.tally, group: $0.week)) }))
                }
            },
            overdueAddons: overdue.addons, overdueAddonCount: overdue.addonCount, overdueMaintenanceCount: overdue.maintenances,
            longestGaps: overdue.gaps, gapCount: overdue.gapCount,
            windowChanges: changes.latest, windowChangeCount: changes.count)
    }

    /// Every add-on's plan, by app and name: the lists carry it for the page's filters.
    private static func plansByAddon(_ db: LedgerSQL) throws -> [AddonKey: String] {
        var plans: [AddonKey: String] = [:]
        try db.rows("SELECT apps.name AS app, a.name AS addon, a.service || ':' || a.plan AS plan FROM addons a JOIN apps ON apps.id = a.app_id") { row in
            plans[AddonKey(app: row["app"], addon: row["addon"])] = row["plan"]
        }
        return plans
    }

    /// `audit:overdue`, added up: its overdue maintenances by add-on, and the gaps that overlap
    /// the period, the longest kept.
    private func overdueFindings(_ request: AuditSummaryRequest, in db: LedgerSQL, planOf: (String, String) -> String) throws
        -> (addons: [AuditSummary.OverdueAddon], addonCount: Int, maintenances: Int, gaps: [AuditSummary.Planned<OverdueRow>], gapCount: Int) {
        var addons: [AddonKey: (count: Int, oldest: Timestamp)] = [:]
        var maintenances = 0
        var gaps: [OverdueRow] = [], gapCount = 0
        let longestFirst = { (left: OverdueRow, right: OverdueRow) in (left.gapDays ?? 0) > (right.gapDays ?? 0) }
        try overdue(at: request.moment, in: db) { row in
            switch row.kind {
            case .overdue:
                guard let requiredBy = row.requiredBy else { return }
                maintenances += 1
                let key = AddonKey(app: row.app, addon: row.addon)
                let earlier = addons[key]
                addons[key] = ((earlier?.count ?? 0) + 1, min(earlier?.oldest ?? requiredBy, requiredBy))
            case .gap:
                guard let from = row.gapFrom, let to = row.gapTo,
                      request.until.map({ from < $0 }) ?? true, request.since.map({ to > $0 }) ?? true else { return }
                gapCount += 1
                gaps.append(row)
                if gaps.count >= 2 * AuditSummary.listLimit { // only the longest are kept
                    gaps = Array(gaps.sorted(by: longestFirst).prefix(AuditSummary.listLimit))
                }
            }
        }
        let listed = addons.sorted { ($0.value.oldest, $0.key.app, $0.key.addon) < ($1.value.oldest, $1.key.app, $1.key.addon) }
            .prefix(AuditSummary.listLimit)
            .map { AuditSummary.OverdueAddon(app: $0.key.app, addon: $0.key.addon, plan: planOf($0.key.app, $0.key.addon),
                                             maintenances: $0.value.count, oldestRequiredBy: $0.value.oldest) }
        let longest = gaps.sorted(by: longestFirst).prefix(AuditSummary.listLimit)
            .map { AuditSummary.Planned(item: $0, plan: planOf($0.app, $0.addon)) }
        return (listed, addons.count, maintenances, longest, gapCount)
    }

    /// `audit:windows`' changes in the period (an add-on's first window is no change), the
    /// latest kept.
    private func latestWindowChanges(_ request: AuditSummaryRequest, in db: LedgerSQL, planOf: (String, String) -> String) throws
        -> (latest: [AuditSummary.Planned<WindowChange>], count: Int) {
        var latest: [WindowChange] = []
        var count = 0
        try windowChanges(WindowChangeFilter(since: request.since), at: request.moment, in: db) { change in
            guard change.previousWindow != nil, request.until.map({ change.setAt < $0 }) ?? true else { return }
            count += 1
            latest.append(change)
            if latest.count >= 2 * AuditSummary.listLimit { latest.removeFirst(AuditSummary.listLimit) }
        }
        return (latest.suffix(AuditSummary.listLimit).reversed().map { AuditSummary.Planned(item: $0, plan: planOf($0.app, $0.addon)) }, count)
    }

    /// The latest checkpoint recorded (`verify` has checked that every one still holds).
    private static func checkpointHeld(_ db: LedgerSQL) throws -> AuditSummary.CheckpointHeld? {
        var held: AuditSummary.CheckpointHeld?
        try db.rows("SELECT origin, tree_size, root_hash, recorded_at FROM checkpoints ORDER BY tree_size DESC, id DESC LIMIT 1") { row in
            held = .init(origin: row["origin"], size: row["tree_size"], rootBase64: row["root_hash"], recordedAt: row["recorded_at"])
        }
        return held
    }
}
