import LedgerCore
import LedgerStore

/// What the platform's automation records (the engine decides when; the rules are here).
extension Ledger {
    /// A routine maintenance: at the first window start at least `Cadence.leadDays` ahead that
    /// lies before the deadline; on plans without windows, at an hour the platform picks
    /// (`pickHour`: milliseconds into the day, asked only then).
    package func requireRoutineMaintenance(addonID: Int64, requiredBy: Timestamp, pickHour: () -> Int64) throws -> MaintenanceRecord {
        try database.record(context) { mutation in
            let addon = try AddonRecord.withID(addonID, mutation.sql)
            let slot = try Self.platformSlot(for: addon, from: context.now, requiredBy: requiredBy, pickHour: pickHour, mutation.sql)
            return try insertPendingMaintenance(addon, slot: slot, requiredBy: requiredBy, reason: .routineMaintenance, method: nil,
                                                emergency: false, at: context.now, mutation)
        }
    }

    /// Gives a pending maintenance that has no time (plans without windows) one.
    package func assignPlatformTime(addonID: Int64, pickHour: () -> Int64) throws -> MaintenanceRecord {
        try database.record(context) { mutation in
            let addon = try AddonRecord.withID(addonID, mutation.sql)
            let open = try addon.openMaintenance(mutation.sql)!
            let slot = try Self.platformSlot(for: addon, from: context.now, requiredBy: open.requiredBy, pickHour: pickHour, mutation.sql)
            mutation.describe(action: "platform:maintenances:schedule", subject: "addon:\(addon.name)")
            let scheduled = try mutation.update(.maintenances, id: open.id, ["scheduled_for": slot.scheduledFor, "outside_window": slot.outsideWindow],
                                                as: MaintenanceRecord.self)
            try recordNotice(scheduled, kind: .scheduled, mutation)
            return scheduled
        }
    }

    private static func platformSlot(for addon: AddonRecord, from time: Timestamp, requiredBy: Timestamp, pickHour: () -> Int64,
                                     _ db: LedgerSQL) throws -> MaintenanceSlot {
        let earliest = time.adding(days: Cadence.leadDays)
        if let window = try addon.currentWindow(db)?.window {
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
