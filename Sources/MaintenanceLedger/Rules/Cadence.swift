import LedgerCore
import LedgerStore
/// How often the platform maintains an add-on, as Heroku states it: at least every 90 days,
/// announced at least a week ahead (the engine schedules; the reports measure gaps against it).
package enum Cadence {
    /// The longest an add-on may go without a completed maintenance.
    package static let days: Int64 = 90
    /// How long before the deadline the engine requires the next maintenance.
    package static let noticeDays: Int64 = 14
    /// How far ahead the engine schedules a routine maintenance.
    package static let leadDays: Int64 = 7
}
