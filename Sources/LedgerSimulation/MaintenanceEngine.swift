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
    private var states: [Int64: MaintenanceState] = [:]

    /// Loads the next step of every live add-on.
    public init(database: LedgerDatabase, settings: EngineSettings) throws {
        self.database = database
        self.settings = settings
        try refreshAll()
    }

    /// How far the engine has processed, if it ever ticked.
    public func lastTick() throws -> Timestamp? {
        try database.lastTick()
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
        return try database.batch { try advance(until: until, recordingTick: true) }
    }

    /// Takes every step due up to `until` (inside the caller's batch) and, with `recordingTick`,
    /// records how far the engine has processed. The steps (each a command with its own rules
    /// and time) are one trail entry, `platform:tick` at `until`: one tick is one command.
    func advance(until: Timestamp, recordingTick: Bool = false) throws -> TickSummary {
        var summary = TickSummary()
        let context = LedgerContext(now: until, actor: Self.actor, seed: settings.seed)
        try database.recordAsOneEntry(context, action: "platform:tick", subject: "engine") {
            while let step = agenda.popFirst(notAfter: until) {
                guard let held = states.index(forKey: step.addonID) else { preconditionFailure("a step for an add-on the engine does not know") }
                // Taken on the state where it is held: a copy out and back in was a retain and
                // a release of each of its texts at every step.
                try take(step, &states.values[held], &summary)
                agenda.set(Self.nextStep(states.values[held], settings: settings), for: step.addonID)
            }
            if recordingTick {
                try Ledger(database: database, context: context).recordTick(seed: settings.seed, failureRate: settings.failureRate)
            }
        }
        return summary
    }

    /// Re-reads an add-on's state after something else (a customer) changed it, and plans its next step.
    public func refresh(addonID: Int64) throws {
        let state = try database.maintenanceState(addonID: addonID)
        guard state.addon.isLive else {
            states[addonID] = nil
            agenda.set(nil, for: addonID)
            return
        }
        plan(state)
    }

    /// `refresh` of every add-on, after something else changed who knows what.
    func refreshAll() throws {
        states = [:]
        agenda = Agenda()
        for state in try database.liveMaintenanceStates() { plan(state) }
    }

    private func plan(_ state: MaintenanceState) {
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

    static func nextStep(_ state: MaintenanceState, settings: EngineSettings) -> Step? {
        let addon = state.addon
        if let (open, last) = state.open {
            // Made only where it is drawn from: a pending maintenance's next step draws nothing.
            var dice: Dice { Self.dice(addon, open, settings: settings) }
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
    static func dice(_ addon: AddonRecord, _ maintenance: MaintenanceRecord, settings: EngineSettings) -> Dice {
        Dice(settings.seed, addon.uuid, at: maintenance.createdAt)
    }

    /// The hour the platform picks for an add-on without a window, as milliseconds into the day:
    /// drawn from the add-on and the time it is scheduled at.
    static func platformHour(_ addon: AddonRecord, at time: Timestamp, settings: EngineSettings) -> Int64 {
        Dice(settings.seed, addon.uuid, at: time).milliseconds("hour", 0...(Timestamp.millisecondsPerDay - 1))
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

    private func take(_ step: Step, _ state: inout MaintenanceState, _ summary: inout TickSummary) throws {
        let ledger = Ledger(database: database, context: LedgerContext(now: step.time, actor: Self.actor, seed: settings.seed))
        switch step.action {
        case .require(let requiredBy):
            let maintenance = try ledger.requireRoutineMaintenance(of: state.addon, try surroundings(&state), requiredBy: requiredBy) {
                Self.platformHour(state.addon, at: step.time, settings: settings)
            }
            state.record(maintenance, changedAt: step.time)
            summary.required += 1
        case .assignTime:
            let maintenance = try ledger.assignPlatformTime(to: state.open!.maintenance, of: state.addon, try surroundings(&state)) {
                Self.platformHour(state.addon, at: step.time, settings: settings)
            }
            state.open?.maintenance = maintenance
            summary.scheduled += 1
        case .change(let change):
            state.record(try changeStatus(state, change, ledger), changedAt: step.time)
            if change == .start { summary.started += 1 } else { summary.otherSteps += 1 }
        case .finish:
            let fails = Self.dice(state.addon, state.open!.maintenance, settings: settings).unit("outcome") < settings.failureRate
            state.record(try changeStatus(state, fails ? .fail : .complete, ledger), changedAt: step.time)
            if fails { summary.failed += 1 } else { summary.completed += 1 }
        }
    }
}

extension MaintenanceEngine {
    /// The add-on's surroundings, read the first time they are needed since it was (re)loaded.
    private func surroundings(_ state: inout MaintenanceState) throws -> AddonSurroundings {
        if let surroundings = state.surroundings { return surroundings }
        let surroundings = try database.surroundings(of: state.addon)
        state.surroundings = surroundings
        return surroundings
    }

    private func changeStatus(_ state: MaintenanceState, _ change: StatusChange, _ ledger: Ledger) throws -> MaintenanceRecord {
        let (open, changedAt) = state.open!
        return try ledger.changeStatus(of: open, lastChangedAt: changedAt, addon: state.addon, change)
    }
}

/// Reproducible randomness per (seed, subject, purpose): the same maintenance gets the same
/// duration and outcome however the engine's ticks are cut.
struct Dice {
    private let base: UInt64

    /// Drawn from `"\(subject)@\(time.storageText)"`, hashed without making that text (the
    /// engine draws at almost every step).
    init(_ seed: UInt64, _ subject: String, at time: Timestamp) {
        let prefix = Self.fnv1a(CollectionOfOne(UInt8(ascii: "@")), from: Self.fnv1a(subject.utf8))
        guard time.isStorable else {
            base = seed ^ Self.fnv1a(time.storageText.utf8, from: prefix)
            return
        }
        base = withUnsafeTemporaryAllocation(byteCount: Timestamp.storageTextCount, alignment: 1) { text in
            time.writeStorageText(to: text.baseAddress!)
            return seed ^ Self.fnv1a(UnsafeRawBufferPointer(text), from: prefix)
        }
    }

    /// FNV-1a of `bytes`, continuing from `hash` (the offset basis to start).
    private static func fnv1a(_ bytes: some Sequence<UInt8>, from hash: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var hash = hash
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    private func generator(_ purpose: String) -> SplitMix64 { SplitMix64(seed: base ^ Self.fnv1a(purpose.utf8)) }

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
