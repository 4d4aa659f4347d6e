import LedgerCore
import LedgerStore

/// What the engine holds of an add-on besides its maintenance, read once and again after a
/// customer changes the add-on: the window it has now and whom its notices name (reading
/// them for every maintenance was a tenth of a simulation).
package struct AddonSurroundings: Sendable {
    let window: WindowRecord?
    let addressees: Ledger.NoticeAddressees

    package init(of addon: AddonRecord, _ db: LedgerSQL) throws {
        window = try addon.currentWindow(db)
        addressees = try Ledger.NoticeAddressees(of: addon, db)
    }

    /// The window in force at `time`: the current one unless it was set later.
    func window(at time: Timestamp, of addon: AddonRecord, _ db: LedgerSQL) throws -> WeeklyWindow? {
        guard let window, window.setAt > time else { return window?.window }
        return try addon.window(at: time, db)?.window
    }
}

/// What the platform's automation records (the engine decides when; the rules are here). The
/// engine hands these commands what it holds (the add-on, its surroundings, its open
/// maintenance) instead of their reading it again: it keeps its holdings up to date from what
/// each command returns and re-reads an add-on a customer changed, and a maintenance updated
/// from a stale hold is refused (`Mutation.update(_:id:from:set:)`).
extension Ledger {
    /// A routine maintenance: at the first window start at least `Cadence.leadDays` ahead that
    /// lies before the deadline; on plans without windows, at an hour the platform picks
    /// (`pickHour`: milliseconds into the day, asked only then). The engine requires one only of
    /// an add-on it holds no open maintenance of (the schema's unique index holds that too).
    package func requireRoutineMaintenance(of addon: AddonRecord, _ surroundings: AddonSurroundings, requiredBy: Timestamp,
                                           pickHour: () -> Int64) throws -> MaintenanceRecord {
        try database.record(context) { mutation in
            let slot = Self.platformSlot(surroundings.window?.window, from: context.now, requiredBy: requiredBy, pickHour: pickHour)
            return try insertPendingMaintenance(addon, window: try surroundings.window(at: context.now, of: addon, mutation.sql),
                                                addressees: surroundings.addressees, slot: slot, requiredBy: requiredBy,
                                                reason: .routineMaintenance, method: nil, emergency: false, at: context.now, mutation)
        }
    }

    /// Gives a pending maintenance that has no time (plans without windows) one: `open`.
    package func assignPlatformTime(to open: MaintenanceRecord, of addon: AddonRecord, _ surroundings: AddonSurroundings,
                                    pickHour: () -> Int64) throws -> MaintenanceRecord {
        try database.record(context) { mutation in
            let slot = Self.platformSlot(surroundings.window?.window, from: context.now, requiredBy: open.requiredBy,
                                         pickHour: pickHour)
            mutation.describe(action: "platform:maintenances:schedule", subject: "addon:\(addon.name)")
            let scheduled = try mutation.update(open, set: ["scheduled_for": RowValue(slot.scheduledFor),
                                                            "outside_window": RowValue(slot.outsideWindow)])
            try mutation.recordMove(ofMaintenance: open.id, from: open.scheduledFor, to: slot.scheduledFor, at: context.now, by: context.actor, cause: .platform)
            try recordNotice(scheduled, of: addon, to: surroundings.addressees, kind: .scheduled, mutation)
            return scheduled
        }
    }

    /// `window`: the add-on's current one.
    private static func platformSlot(_ window: WeeklyWindow?, from time: Timestamp, requiredBy: Timestamp,
                                     pickHour: () -> Int64) -> MaintenanceSlot {
        let earliest = time.adding(days: Cadence.leadDays)
        if let window {
            let start = window.start(onOrAfter: earliest)
            // A week's notice when the deadline allows it; else the first window that still fits.
            return window.fits(startingAt: start, before: requiredBy) ? MaintenanceSlot(at: start, outsideWindow: false)
                                                                      : MaintenanceSlot(window: window, from: time, requiredBy: requiredBy)
        }
        // No window: some hour of the day a week out, but still ending before the deadline.
        let latest = requiredBy.adding(minutes: -Int64(WeeklyWindow.lengthMinutes))
        return MaintenanceSlot(at: max(time, min(earliest.adding(milliseconds: pickHour()), latest)), outsideWindow: false)
    }

    /// `platform:tick`'s record of how far the engine has processed (at `context.now`).
    package func recordTick(seed: UInt64, failureRate: Double) throws {
        try database.record(context) { mutation in
            mutation.describe(action: "platform:tick", subject: "engine")
            try mutation.insert(.engineTicks, ["ticked_until": context.now, "seed": Int64(bitPattern: seed),
                                               "failures_per_million": Int64((failureRate * 1_000_000).rounded()),
                                               "recorded_at": context.now])
        }
    }
}
