import LedgerCore
import LedgerStore
import MaintenanceLedger
import Foundation

/// How the engine's pseudo-random choices come out: the same settings give the same ledger.
public struct EngineSettings: Sendable {
    public var seed: UInt64
    /// The share of maintenances that end `failed`, 0…1.
    public var failureRate: Double

    public init(seed: UInt64 = 0, failureRate: Double = 0.01) {
        self.seed = seed
        self.failureRate = failureRate
    }
}

public struct TickSummary: Sendable, Equatable {
    public var required = 0
    public var scheduled = 0
    public var started = 0
    public var completed = 0
    public var failed = 0
    public var otherSteps = 0

    public var events: Int { required + scheduled + started + completed + failed + otherSteps }
}

/// The platform's automatic maintenance, driven through the same command layer as a person
/// (actor `platform`): every live add-on gets a routine maintenance required 90 days after its
/// last completed one (or its server's creation), created 14 days ahead and scheduled at the
/// first window start at least 7 days out; at that time it is prepared, readied, started and,
/// after a seeded duration, completed or (rarely) failed. A failed or cancelled maintenance is
/// followed at once by a new one.
///
/// Each add-on has at most one next step; the steps of all add-ons are taken in time order.
public final class MaintenanceEngine {
    public static let actor = "platform"

    let database: LedgerDatabase
    public let settings: EngineSettings
    private var agenda = Agenda()
    private var states: [Int64: AddonState] = [:]

    /// Loads the next step of every live add-on.
    public init(database: LedgerDatabase, settings: EngineSettings) throws {
        self.database = database
        self.settings = settings
        let ids = try database.read { db in try db.values(Int64.self, "SELECT id FROM addons WHERE deprovisioned_at IS NULL") }
        for id in ids { try refresh(addonID: id) }
    }

    /// How far the engine has processed, if it ever ticked.
    public func lastTick() throws -> Timestamp? {
        try database.read { db in try db.value(Timestamp.self, "SELECT max(ticked_until) FROM engine_ticks") }
    }

    /// `platform:tick`: takes every step due up to `until`, in time order, in one transaction,
    /// and records the tick. A tick to the time of the last one changes nothing.
    public func tick(until: Timestamp, now: Timestamp) throws -> TickSummary {
        guard until <= now else {
            throw LedgerError.refused("--until \(until.isoText) is in the future (now is \(now.isoText))",
                                           hint: "The engine records what has happened; tick up to now at the latest.")
        }
        if let last = try lastTick() {
            guard until >= last else {
                throw LedgerError.refused("the engine has already ticked to \(last.isoText); --until \(until.isoText) is in its past",
                                          hint: "Ticks only move forward.")
            }
            if until == last { return TickSummary() }
        }
        return try database.batch {
            let summary = try advance(until: until)
            try recordTick(until: until)
            return summary
        }
    }

    /// Takes every step due up to `until` (inside the caller's batch).
    func advance(until: Timestamp) throws -> TickSummary {
        var summary = TickSummary()
        while let step = agenda.popFirst(notAfter: until) {
            guard var state = states[step.addonID] else { preconditionFailure("a step for an add-on the engine does not know") }
            try take(step, &state, &summary)
            plan(state)
        }
        return summary
    }

    /// Records how far the engine has processed.
    func recordTick(until: Timestamp) throws {
        let context = LedgerContext(now: until, actor: Self.actor, seed: settings.seed)
        try database.record(context) { mutation in
            mutation.describe(action: "platform:tick", subject: "engine")
            try mutation.insert(.engineTicks, ["ticked_until": until, "seed": Int64(bitPattern: settings.seed),
                                               "failures_per_million": Int64((settings.failureRate * 1_000_000).rounded()),
                                               "recorded_at": until])
        }
    }

    /// Re-reads an add-on's state after something else (a customer) changed it, and plans its next step.
    public func refresh(addonID: Int64) throws {
        let state = try database.read { db in try AddonState.load(addonID: addonID, db) }
        guard state.addon.isLive else {
            states[addonID] = nil
            agenda.set(nil, for: addonID)
            return
        }
        plan(state)
    }

    private func plan(_ state: AddonState) {
        states[state.addon.id] = state
        agenda.set(Self.nextStep(state, settings: settings), for: state.addon.id)
    }

    // MARK: Planning

    enum Action: Equatable {
        case require(requiredBy: Timestamp)
        case assignTime
        case change(StatusChange)
        case finish
    }

    struct Step: Equatable {
        let time: Timestamp
        let addonID: Int64
        let action: Action
    }

    /// What the engine knows of a live add-on: enough to plan its next step without reading.
    /// Loaded once, then kept up to date from what each of its commands returns.
    struct AddonState {
        let addon: AddonRecord
        /// The maintenance under way, and when its status last changed.
        var open: (maintenance: MaintenanceRecord, changedAt: Timestamp)?
        /// The newest maintenance when none is open: its status, and when it ended.
        var latestClosed: (status: MaintenanceStatus, endedAt: Timestamp)?
        var lastCompletion: Timestamp?

        static func load(addonID: Int64, _ db: LedgerSQL) throws -> AddonState {
            let addon = try AddonRecord.withID(addonID, db)
            var state = AddonState(addon: addon, lastCompletion: try addon.lastCompletion(db))
            if let open = try addon.openMaintenance(db) {
                state.open = (open, try open.lastChangeAt(db))
            } else if let latest = try addon.latestMaintenance(db) {
                state.latestClosed = (latest.status, try latest.lastChangeAt(db))
            }
            return state
        }

        /// After a command changed the open maintenance at `time`.
        mutating func record(_ maintenance: MaintenanceRecord, changedAt time: Timestamp) {
            guard maintenance.status.isOpen else {
                open = nil
                latestClosed = (maintenance.status, time)
                if maintenance.status == .completed { lastCompletion = time }
                return
            }
            open = (maintenance, time)
        }
    }

    static func nextStep(_ state: AddonState, settings: EngineSettings) -> Step? {
        let addon = state.addon
        if let (open, last) = state.open {
            let dice = Dice(settings.seed, Self.diceSubject(addon, open))
            switch open.status {
            case .pending:
                guard let scheduledFor = open.scheduledFor else { return Step(time: last, addonID: addon.id, action: .assignTime) }
                return Step(time: max(scheduledFor, last), addonID: addon.id, action: .change(.prepare))
            case .preparing:
                return Step(time: last.adding(milliseconds: dice.milliseconds("ready", 20_000...60_000)), addonID: addon.id, action: .change(.ready))
            case .ready:
                return Step(time: last.adding(milliseconds: dice.milliseconds("start", 10_000...90_000)), addonID: addon.id, action: .change(.start))
            case .running:
                let end = open.startedAt!.adding(milliseconds: Self.durationMilliseconds(open.method, dice))
                return Step(time: max(end, last), addonID: addon.id, action: .finish)
            case .completed, .failed, .cancelled:
                preconditionFailure("an open maintenance is pending through running")
            }
        }
        let base = state.lastCompletion ?? addon.serverCreatedAt
        let deadline = base.adding(days: Cadence.days)
        var due = deadline.adding(days: -Cadence.noticeDays)
        if let latest = state.latestClosed {
            // A failed or cancelled maintenance still has to happen: require the next one at once.
            due = latest.status == .completed ? max(due, latest.endedAt) : latest.endedAt
        }
        due = max(due, addon.provisionedAt)
        // The cadence's deadline while it is still ahead; an overdue add-on gets two weeks.
        let requiredBy = deadline > due ? deadline : due.adding(days: Cadence.noticeDays)
        return Step(time: due, addonID: addon.id, action: .require(requiredBy: requiredBy))
    }

    /// What a maintenance's durations and outcome are drawn from: its add-on and the time it was
    /// required, both fixed by the history itself (not by how ticks were cut, as uuids are).
    static func diceSubject(_ addon: AddonRecord, _ maintenance: MaintenanceRecord) -> String {
        "\(addon.uuid)@\(maintenance.createdAt.storageText)"
    }

    /// A failover mostly takes 2–10 minutes (log-normal around its median) with a long tail.
    static func durationMilliseconds(_ method: MaintenanceMethod, _ dice: Dice) -> Int64 {
        let median: Double = switch method {
        case .failover: 240
        case .changeover: 360
        case .rollingRestart: 1500
        }
        var seconds = median * exp(0.45 * dice.normal("duration"))
        if dice.unit("tail") < 0.03 { seconds *= 3 + 7 * dice.unit("tail-length") }
        return Int64(max(30, seconds) * 1000)
    }

    // MARK: Acting

    private func take(_ step: Step, _ state: inout AddonState, _ summary: inout TickSummary) throws {
        let ledger = Ledger(database: database, context: LedgerContext(now: step.time, actor: Self.actor, seed: settings.seed))
        switch step.action {
        case .require(let requiredBy):
            let maintenance = try ledger.requireRoutineMaintenance(addonID: step.addonID, requiredBy: requiredBy, settings: settings)
            state.record(maintenance, changedAt: step.time)
            summary.required += 1
        case .assignTime:
            let maintenance = try ledger.assignPlatformTime(addonID: step.addonID, settings: settings)
            state.open?.maintenance = maintenance
            summary.scheduled += 1
        case .change(let change):
            state.record(try ledger.changeStatus(addonID: step.addonID, change), changedAt: step.time)
            if change == .start { summary.started += 1 } else { summary.otherSteps += 1 }
        case .finish:
            let fails = Dice(settings.seed, Self.diceSubject(state.addon, state.open!.maintenance)).unit("outcome") < settings.failureRate
            state.record(try ledger.changeStatus(addonID: step.addonID, fails ? .fail : .complete), changedAt: step.time)
            if fails { summary.failed += 1 } else { summary.completed += 1 }
        }
    }
}

extension Ledger {
    /// The engine's routine maintenance: at the first window start at least 7 days ahead that
    /// lies before the deadline; on plans without windows, at a time the platform picks.
    func requireRoutineMaintenance(addonID: Int64, requiredBy: Timestamp, settings: EngineSettings) throws -> MaintenanceRecord {
        try database.record(context) { mutation in
            let addon = try AddonRecord.withID(addonID, mutation.sql)
            let slot = try Self.platformSlot(for: addon, from: context.now, requiredBy: requiredBy, settings: settings, mutation.sql)
            return try insertPendingMaintenance(addon, slot: slot, requiredBy: requiredBy, reason: .routineMaintenance, method: nil,
                                             emergency: false, at: context.now, mutation)
        }
    }

    /// Gives a pending maintenance that has no time (plans without windows) one.
    func assignPlatformTime(addonID: Int64, settings: EngineSettings) throws -> MaintenanceRecord {
        try database.record(context) { mutation in
            let addon = try AddonRecord.withID(addonID, mutation.sql)
            let open = try addon.openMaintenance(mutation.sql)!
            let slot = try Self.platformSlot(for: addon, from: context.now, requiredBy: open.requiredBy, settings: settings, mutation.sql)
            mutation.describe(action: "platform:maintenances:schedule", subject: "addon:\(addon.name)")
            let scheduled = try mutation.update(.maintenances, id: open.id, ["scheduled_for": slot.scheduledFor, "outside_window": slot.outsideWindow],
                                                as: MaintenanceRecord.self)
            try recordNotice(scheduled, kind: "scheduled", mutation)
            return scheduled
        }
    }

    static func platformSlot(for addon: AddonRecord, from time: Timestamp, requiredBy: Timestamp, settings: EngineSettings,
                             _ db: LedgerSQL) throws -> MaintenanceSlot {
        let earliest = time.adding(days: Cadence.leadDays)
        if let window = try addon.currentWindow(db)?.window {
            let start = window.start(onOrAfter: earliest)
            // A week's notice when the deadline allows it; else the first window that still fits.
            return window.fits(startingAt: start, before: requiredBy) ? MaintenanceSlot(at: start, outsideWindow: false)
                                                                      : MaintenanceSlot(window: window, from: time, requiredBy: requiredBy)
        }
        // No window: some hour of the day a week out, but still ending before the deadline.
        let offset = Dice(settings.seed, "\(addon.uuid)@\(time.storageText)").milliseconds("hour", 0...(Timestamp.millisecondsPerDay - 1))
        let latest = requiredBy.adding(minutes: -Int64(WeeklyWindow.lengthMinutes))
        return MaintenanceSlot(at: max(time, min(earliest.adding(milliseconds: offset), latest)), outsideWindow: false)
    }
}

/// Reproducible randomness per (seed, subject, purpose): the same maintenance gets the same
/// duration and outcome however the engine's ticks are cut.
struct Dice {
    private let base: UInt64

    init(_ seed: UInt64, _ subject: String) {
        base = seed ^ Self.fnv1a(subject)
    }

    private static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    private func generator(_ purpose: String) -> SplitMix64 { SplitMix64(seed: base ^ Self.fnv1a(purpose)) }

    /// Uniform in [0, 1).
    func unit(_ purpose: String) -> Double {
        var generator = generator(purpose)
        return Double(generator.next() >> 11) / Double(1 << 53)
    }

    func milliseconds(_ purpose: String, _ range: ClosedRange<Int64>) -> Int64 {
        var generator = generator(purpose)
        return Int64.random(in: range, using: &generator)
    }

    /// Standard normal (Box–Muller).
    func normal(_ purpose: String) -> Double {
        let u1 = max(unit(purpose + ".1"), Double.leastNonzeroMagnitude)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * unit(purpose + ".2"))
    }
}

/// Each add-on's next step, earliest first (ties by add-on id, so runs repeat exactly).
private struct Agenda {
    private var heap: [MaintenanceEngine.Step] = []
    private var current: [Int64: MaintenanceEngine.Step] = [:]

    mutating func set(_ step: MaintenanceEngine.Step?, for addonID: Int64) {
        current[addonID] = step
        if let step { push(step) }
    }

    /// The earliest current step at or before `limit`, removed; stale heap entries are skipped.
    mutating func popFirst(notAfter limit: Timestamp) -> MaintenanceEngine.Step? {
        while let first = heap.first, first.time <= limit {
            removeFirst()
            if current[first.addonID] == first {
                current[first.addonID] = nil
                return first
            }
        }
        return nil
    }

    private static func precedes(_ a: MaintenanceEngine.Step, _ b: MaintenanceEngine.Step) -> Bool {
        (a.time, a.addonID) < (b.time, b.addonID)
    }

    private mutating func push(_ step: MaintenanceEngine.Step) {
        heap.append(step)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func removeFirst() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
