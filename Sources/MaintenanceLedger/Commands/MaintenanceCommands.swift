import LedgerCore
import LedgerStore

extension Ledger {
    // MARK: Platform

    /// `platform:maintenances:require`: a new pending maintenance, scheduled into the window.
    public func requireMaintenance(_ selector: AddonSelector, requiredBy: Timestamp, reason: MaintenanceReason = .routineMaintenance,
                                   method: MaintenanceMethod? = nil, emergency: Bool = false, at: Timestamp? = nil) throws -> MaintenanceView {
        let time = try validateEventTime(at)
        guard requiredBy > time else {
            throw LedgerError.refused("--required-by \(requiredBy.isoText) is not after \(time.isoText)",
                                           hint: "A maintenance is required by a time still ahead.")
        }
        return try database.record(context) { mutation in
            let (addon, _) = try selector.resolveLive(mutation.sql)
            guard time >= addon.provisionedAt else {
                throw LedgerError.refused("--at \(time.isoText) is before \(addon.name) was provisioned (\(addon.provisionedAt.isoText))", hint: nil)
            }
            try Self.refuseSecondOpenMaintenance(addon, mutation.sql)
            let window = try addon.window(at: time, mutation.sql)?.window
            let slot = emergency
                ? MaintenanceSlot(emergencyAt: time, window: window)
                : MaintenanceSlot(window: window, from: time, requiredBy: requiredBy)
            let maintenance = try insertPendingMaintenance(addon, window: window, slot: slot, requiredBy: requiredBy, reason: reason,
                                                           method: method, emergency: emergency, at: time, mutation)
            return try MaintenanceView.load(addon: addon, maintenanceID: maintenance.id, mutation.sql)
        }
    }

    /// An add-on has one open maintenance at a time (the schema's unique index holds it too).
    static func refuseSecondOpenMaintenance(_ addon: AddonRecord, _ db: LedgerSQL) throws {
        if let open = try addon.openMaintenance(db) {
            throw LedgerError.refused("\(addon.name) already has a \(open.status.rawValue) maintenance (required by \(open.requiredBy.listText))",
                                      hint: "Complete, fail or cancel it first; an add-on has one open maintenance at a time.")
        }
    }

    /// Records a new pending maintenance with its first status and, once it has a time, its
    /// notice (to `addressees`, read when not given). `window` is the one in force at `time`;
    /// the caller has made sure that no maintenance of the add-on is open.
    package func insertPendingMaintenance(_ addon: AddonRecord, window: WeeklyWindow?, addressees: NoticeAddressees? = nil, slot: MaintenanceSlot,
                                          requiredBy: Timestamp, reason: MaintenanceReason, method: MaintenanceMethod?, emergency: Bool,
                                          at time: Timestamp, _ mutation: Mutation) throws -> MaintenanceRecord {
        mutation.describe(action: "platform:maintenances:require", subject: "addon:\(addon.name)")
        let maintenance = try mutation.insert(NewMaintenance(
            uuid: mutation.random.uuid(), addonID: addon.id, status: .pending, reason: reason, method: method ?? addon.service.defaultMethod,
            requiredBy: requiredBy, scheduledFor: slot.scheduledFor, window: window?.text, outsideWindow: slot.outsideWindow,
            serverCreatedAt: addon.serverCreatedAt, customerRequested: false, emergency: emergency, createdAt: time))
        try insertStatusChange(maintenanceID: maintenance.id, from: nil, to: .pending, at: time, mutation)
        if slot.scheduledFor != nil { try recordNotice(maintenance, of: addon, to: addressees, kind: .scheduled, at: time, mutation) }
        return maintenance
    }

    /// The upcoming-maintenance notice for the maintenance as it now stands.
    /// Made `at` the time of the scheduling (a backfilled maintenance's `--at`), so that
    /// `--as-of` finds the schedule from then on.
    package func recordNotice(_ maintenance: MaintenanceRecord, of addon: AddonRecord, to addressees: NoticeAddressees? = nil, kind: NoticeKind,
                              at time: Timestamp? = nil, _ mutation: Mutation) throws {
        let to = try addressees ?? NoticeAddressees(of: addon, mutation.sql)
        try mutation.insert(.notices, row: [
            "maintenance_id": RowValue(maintenance.id), "kind": RowValue(kind.rawValue), "app": RowValue(to.app),
            "addon": RowValue(addon.name), "attachments": RowValue(to.attachments), "window": RowValue(maintenance.window),
            "scheduled_for": RowValue(maintenance.scheduledFor), "required_by": RowValue(maintenance.requiredBy),
            "created_at": RowValue(time ?? context.now),
        ])
    }

    /// Whom an add-on's notices name: its app, and its live attachments as a JSON array.
    package struct NoticeAddressees: Sendable {
        let app: String
        let attachments: String

        package init(of addon: AddonRecord, _ db: LedgerSQL) throws {
            app = try AppRecord.withID(addon.appID, db).name
            attachments = JSONValue.array(try addon.attachmentNames(db).map(JSONValue.string)).compactText
        }
    }

    /// `platform:maintenances:prepare|ready|start|complete|fail|cancel`.
    public func changeStatus(_ selector: AddonSelector, _ change: StatusChange, at: Timestamp? = nil,
                             serverCreatedAt: Timestamp? = nil) throws -> MaintenanceView {
        try database.record(context) { mutation in
            let (addon, _) = try selector.resolveLive(mutation.sql)
            let maintenance = try applyStatusChange(to: addon, change, at: at, serverCreatedAt: serverCreatedAt, mutation)
            return try MaintenanceView.load(addon: addon, maintenanceID: maintenance.id, mutation.sql)
        }
    }

    /// The engine's way to the same rules, from what it holds: the add-on, its open maintenance
    /// (the change is refused if that is no longer as held) and when its status last changed.
    /// Returns the maintenance as changed, no view.
    package func changeStatus(of open: MaintenanceRecord, lastChangedAt: Timestamp, addon: AddonRecord,
                              _ change: StatusChange) throws -> MaintenanceRecord {
        try database.record(context) { mutation in
            let time = try checkStatusChange(change, of: open, addon: addon, lastChangedAt: lastChangedAt, at: nil)
            mutation.describe(action: "platform:maintenances:\(change.rawValue)", subject: "addon:\(addon.name)")
            return try recordStatusChange(open, to: change.target, at: time, mutation)
        }
    }

    /// The lifecycle's and the clock's rules for `change` of `open`: returns the time it happens at.
    private func checkStatusChange(_ change: StatusChange, of open: MaintenanceRecord, addon: AddonRecord, lastChangedAt: Timestamp,
                                   at: Timestamp?) throws -> Timestamp {
        guard change.allowedFrom.contains(open.status) else {
            throw LedgerError.refused("cannot \(change.rawValue) the maintenance of \(addon.name): it is \(open.status.rawValue)",
                                      hint: "\(change.rawValue) applies to a maintenance that is \(Self.listing(change.allowedFrom.map(\.rawValue))).")
        }
        return try validateEventTime(at, notBefore: lastChangedAt, what: "its last status change")
    }

    /// Checks the change against the lifecycle and the clock, records it, and returns the maintenance as changed.
    private func applyStatusChange(to addon: AddonRecord, _ change: StatusChange, at: Timestamp?, serverCreatedAt: Timestamp?,
                                   _ mutation: Mutation) throws -> MaintenanceRecord {
        let db = mutation.sql
        guard let open = try addon.openMaintenance(db) else {
            let latest = try addon.latestMaintenance(db)
            throw LedgerError.refused("\(addon.name) has no open maintenance to \(change.rawValue)" + (latest.map { " (the latest is \($0.status.rawValue))" } ?? ""),
                                      hint: "Record one with `maintledger platform:maintenances:require \(addon.name) --required-by TIME`.")
        }
        let time = try checkStatusChange(change, of: open, addon: addon, lastChangedAt: try open.lastChangeAt(db), at: at)
        if let serverCreatedAt {
            guard change == .complete else {
                throw LedgerError.invalidInput("--server-created-at goes with complete only", hint: nil)
            }
            _ = try validateEventTime(serverCreatedAt, flag: "--server-created-at")
        }
        mutation.describe(action: "platform:maintenances:\(change.rawValue)", subject: "addon:\(addon.name)")
        let changed = try recordStatusChange(open, to: change.target, at: time, mutation)
        if let serverCreatedAt {
            try mutation.update(.addons, id: addon.id, ["server_created_at": serverCreatedAt])
        }
        return changed
    }

    /// Moves a maintenance to `status`, with the times that status implies; returns it as changed.
    @discardableResult
    func recordStatusChange(_ maintenance: MaintenanceRecord, to status: MaintenanceStatus, at time: Timestamp,
                            _ mutation: Mutation) throws -> MaintenanceRecord {
        let changed = switch status {
        case .running:
            try mutation.update(maintenance, set: ["status": RowValue(status.rawValue), "started_at": RowValue(time)])
        case .completed:
            try mutation.update(maintenance, set: [
                "status": RowValue(status.rawValue), "completed_at": RowValue(time),
                "duration_seconds": RowValue(maintenance.startedAt!.milliseconds(until: time) / 1000),
            ])
        default:
            try mutation.update(maintenance, set: ["status": RowValue(status.rawValue)])
        }
        try insertStatusChange(maintenanceID: maintenance.id, from: maintenance.status, to: status, at: time, mutation)
        return changed
    }

    private func insertStatusChange(maintenanceID: Int64, from: MaintenanceStatus?, to: MaintenanceStatus, at time: Timestamp,
                                    _ mutation: Mutation) throws {
        try mutation.insert(.maintenanceStatusChanges, row: ["maintenance_id": RowValue(maintenanceID), "from_status": RowValue(from?.rawValue),
                                                             "to_status": RowValue(to.rawValue), "changed_at": RowValue(time),
                                                             "actor": RowValue(context.actor)])
    }

    // MARK: Customer

    /// `data:maintenances:run`: starts the open maintenance now, or records a customer-requested
    /// one. Needs the app in maintenance mode or `--confirm APP`.
    public func runMaintenance(_ selector: AddonSelector, confirm: String?) throws -> MaintenanceView {
        try database.record(context) { mutation in
            let db = mutation.sql
            let (addon, app) = try selector.resolveLive(db)
            try Self.requireCustomerControls(addon, command: "run maintenance manually")
            guard app.maintenanceMode || confirm == app.name else { throw LedgerError.unconfirmedRun(app: app.name) }
            mutation.describe(action: "data:maintenances:run", subject: "addon:\(addon.name)")
            let id: Int64
            if let open = try addon.openMaintenance(db) {
                guard open.status != .running else {
                    throw LedgerError.refused("the maintenance of \(addon.name) is already running",
                                              hint: "Wait for it with `maintledger data:maintenances:wait \(addon.name)`.")
                }
                guard try open.lastChangeAt(db) <= context.now else {
                    throw LedgerError.refused("the maintenance of \(addon.name) changed after now (\(context.now.isoText))", hint: nil)
                }
                let running = try recordStatusChange(open, to: .running, at: context.now, mutation)
                _ = try mutation.update(running, set: ["customer_requested": RowValue(true)])
                id = open.id
            } else {
                let window = try addon.currentWindow(db)?.window
                id = try mutation.insert(NewMaintenance(
                    uuid: mutation.random.uuid(), addonID: addon.id, status: .running, reason: .customerRequest,
                    method: addon.service.defaultMethod, requiredBy: context.now, scheduledFor: context.now, window: window?.text,
                    outsideWindow: window.map { !$0.contains(context.now) } ?? false, startedAt: context.now,
                    serverCreatedAt: addon.serverCreatedAt, customerRequested: true, emergency: false, createdAt: context.now)).id
                try insertStatusChange(maintenanceID: id, from: nil, to: .running, at: context.now, mutation)
            }
            return try MaintenanceView.load(addon: addon, maintenanceID: id, db)
        }
    }

    /// Windows and manual runs exist on Premium, Private and Shield (and Postgres Standard) plans only.
    static func requireCustomerControls(_ addon: AddonRecord, command: String) throws {
        guard addon.plan.hasWindows else {
            let hint = addon.service == .kafka
                ? "Kafka plans have no maintenance windows; the platform schedules their maintenance."
                : "Windows and manual runs exist on Premium, Private and Shield plans (and Postgres Standard)."
            throw LedgerError.refused("cannot \(command) on \(addon.name): its \(addon.service.rawValue):\(addon.plan.name) plan has no maintenance window",
                                      hint: hint)
        }
    }

    /// `a`, `a or b`, `a, b or c`.
    public static func listing(_ items: [String]) -> String {
        items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
    }

    /// `data:maintenances:window:update ADDON DAY TIME`: records the new window (the old one is
    /// kept) and moves a pending maintenance into it.
    public func updateWindow(_ selector: AddonSelector, day: String, time: String) throws -> WindowInfo {
        guard let dayOfWeek = WeeklyWindow.parseDay(day) else {
            throw LedgerError.invalidInput("'\(day)' is not a day of the week", hint: "Write a day like Sunday or sundays.")
        }
        guard let startMinute = WeeklyWindow.parseTime(time) else {
            throw LedgerError.invalidInput("'\(time)' is not a window start time",
                                           hint: "Write the time in UTC as HH:MM or H:MMAM/PM, where MM is 00 or 30 (14:30, 2:30PM).")
        }
        let window = WeeklyWindow(dayOfWeek: dayOfWeek, startMinute: startMinute)
        return try database.record(context) { mutation in
            let db = mutation.sql
            let (addon, _) = try selector.resolveLive(db)
            try Self.requireCustomerControls(addon, command: "set a maintenance window")
            let previous = try addon.currentWindow(db)?.window
            guard previous != window else {
                // Setting the window it already has changes nothing and records nothing.
                let open = try addon.openMaintenance(db)
                let earlier = try db.all(WindowRecord.self, "SELECT * FROM windows WHERE addon_id = ? ORDER BY id DESC LIMIT 2", [addon.id]).dropFirst().first?.window
                return WindowInfo(window: window, previousWindow: earlier, previouslyScheduledAt: open?.previouslyScheduledFor,
                                  scheduledAt: open?.scheduledFor)
            }
            mutation.describe(action: "data:maintenances:window:update", subject: "addon:\(addon.name)")
            try recordWindow(window, source: "customer", addonID: addon.id, mutation)
            guard let open = try addon.openMaintenance(db), open.status == .pending, !open.emergency else {
                let open = try addon.openMaintenance(db)
                return WindowInfo(window: window, previousWindow: previous,
                                    previouslyScheduledAt: open?.previouslyScheduledFor, scheduledAt: open?.scheduledFor)
            }
            let slot = MaintenanceSlot(window: window, from: context.now, requiredBy: open.requiredBy)
            let rescheduled = try mutation.update(open, set: [
                "scheduled_for": RowValue(slot.scheduledFor), "previously_scheduled_for": RowValue(open.scheduledFor),
                "window": RowValue(window.text), "outside_window": RowValue(slot.outsideWindow),
            ])
            try mutation.recordMove(ofMaintenance: open.id, from: open.scheduledFor, to: slot.scheduledFor, at: context.now, by: context.actor, cause: .window)
            try recordNotice(rescheduled, of: addon, kind: open.scheduledFor == nil ? .scheduled : .rescheduled, mutation)
            return WindowInfo(window: window, previousWindow: previous,
                                previouslyScheduledAt: open.scheduledFor, scheduledAt: slot.scheduledFor)
        }
    }

    public struct Rescheduling: Sendable {
        public let addonName: String
        public let previous: Timestamp?
        public let scheduledFor: Timestamp
    }

    public enum ScheduleTarget: Sendable {
        /// Whole weeks from the current schedule (or from the next window when none).
        case weeks(Int)
        /// The first window start on or after that day.
        case week(Timestamp)
    }

    /// `data:maintenances:schedule`: moves the pending maintenance by whole weeks, on its window,
    /// never past its required_by nor into the past.
    public func scheduleMaintenance(_ selector: AddonSelector, to target: ScheduleTarget) throws -> Rescheduling {
        if case .weeks(0) = target {
            throw LedgerError.invalidInput("--weeks 0 moves nothing", hint: "Give a non-zero number of weeks, negative to move earlier.")
        }
        return try database.record(context) { mutation in
            let db = mutation.sql
            let (addon, _) = try selector.resolveLive(db)
            try Self.requireCustomerControls(addon, command: "schedule maintenance")
            guard let open = try addon.openMaintenance(db) else {
                throw LedgerError.refused("\(addon.name) has no pending maintenance to schedule", hint: nil)
            }
            guard open.status == .pending else {
                throw LedgerError.refused("cannot reschedule the maintenance of \(addon.name): it is \(open.status.rawValue)", hint: nil)
            }
            let window = try addon.currentWindow(db)!.window
            let scheduledFor: Timestamp
            switch target {
            case .weeks(let weeks):
                // Checked before any arithmetic: a week count past this overflows the clock.
                guard (-1000...1000).contains(weeks) else {
                    throw LedgerError.invalidInput("--weeks \(weeks) is out of range", hint: "Move it by at most 1000 weeks either way.")
                }
                let base = open.scheduledFor ?? window.start(onOrAfter: context.now)
                scheduledFor = window.start(onOrAfter: base.adding(weeks: Int64(weeks)))
            case .week(let day):
                scheduledFor = window.start(onOrAfter: day)
            }
            guard scheduledFor != open.scheduledFor else {
                return Rescheduling(addonName: addon.name, previous: open.scheduledFor, scheduledFor: scheduledFor)
            }
            guard scheduledFor >= context.now else {
                throw LedgerError.refused("\(scheduledFor.listText) is in the past", hint: "Choose a later week.")
            }
            guard scheduledFor < open.requiredBy else {
                throw LedgerError.refused("\(scheduledFor.listText) is not before the maintenance's required-by time \(open.requiredBy.listText)",
                                          hint: "Choose an earlier week.")
            }
            mutation.describe(action: "data:maintenances:schedule", subject: "addon:\(addon.name)")
            let rescheduled = try mutation.update(open, set: [
                "scheduled_for": RowValue(scheduledFor), "previously_scheduled_for": RowValue(open.scheduledFor),
                "window": RowValue(window.text), "outside_window": RowValue(false),
            ])
            try mutation.recordMove(ofMaintenance: open.id, from: open.scheduledFor, to: scheduledFor, at: context.now, by: context.actor, cause: .schedule)
            try recordNotice(rescheduled, of: addon, kind: open.scheduledFor == nil ? .scheduled : .rescheduled, mutation)
            return Rescheduling(addonName: addon.name, previous: open.scheduledFor, scheduledFor: scheduledFor)
        }
    }
}
