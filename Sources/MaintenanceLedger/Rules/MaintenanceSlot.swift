import LedgerCore
import LedgerStore
/// Where a maintenance lands: the first window after `from` that lies before `requiredBy`
/// (the whole 4-hour window, so that work started at its start can finish in time); if none
/// fits, the latest moment a 4-hour slot still ends by `requiredBy`, flagged as outside the
/// window. Plans without windows leave the time to the platform.
package struct MaintenanceSlot: Equatable {
    package let scheduledFor: Timestamp?
    package let outsideWindow: Bool

    package init(window: WeeklyWindow?, from: Timestamp, requiredBy: Timestamp) {
        guard let window else {
            (scheduledFor, outsideWindow) = (nil, false)
            return
        }
        let start = window.start(onOrAfter: from)
        if window.fits(startingAt: start, before: requiredBy) {
            (scheduledFor, outsideWindow) = (start, false)
        } else {
            let latest = requiredBy.adding(minutes: -Int64(WeeklyWindow.lengthMinutes))
            let time = max(from, latest)
            (scheduledFor, outsideWindow) = (time, !window.contains(time))
        }
    }
}

extension MaintenanceSlot {
    /// Emergencies start at once, wherever that falls.
    package init(emergencyAt time: Timestamp, window: WeeklyWindow?) {
        scheduledFor = time
        outsideWindow = window.map { !$0.contains(time) } ?? false
    }

    /// A time the platform chose.
    package init(at time: Timestamp, outsideWindow: Bool) {
        scheduledFor = time
        self.outsideWindow = outsideWindow
    }
}
