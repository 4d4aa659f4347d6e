import LedgerCore
import LedgerStore

/// A maintenance as users see it: Heroku's maintenance object, with its add-on and app.
/// An add-on with no maintenance yet is shown with status `none`.
public struct MaintenanceView: Sendable {
    public let addon: AddonRecord
    public let app: AppRecord
    public let attachments: [String]
    public let addonWindow: WeeklyWindow?
    public let maintenance: MaintenanceRecord?

    /// The view with the add-on's attachments and window as they were at `moment`.
    static func load(addon: AddonRecord, maintenance: MaintenanceRecord?, at moment: Moment = .now, _ db: LedgerSQL) throws -> MaintenanceView {
        MaintenanceView(addon: addon, app: try AppRecord.withID(addon.appID, db), attachments: try addon.attachmentNames(at: moment, db),
                        addonWindow: try addon.window(at: moment, db)?.window, maintenance: maintenance)
    }

    static func load(addon: AddonRecord, maintenanceID: Int64, _ db: LedgerSQL) throws -> MaintenanceView {
        let maintenance = try db.one(MaintenanceRecord.self, "SELECT * FROM maintenances WHERE id = ?", [maintenanceID])
        return try load(addon: addon, maintenance: maintenance, db)
    }

    public var status: String { maintenance?.status.rawValue ?? "none" }

    /// Heroku's maintenance object (`--json`, `--ndjson`).
    public var json: JSONValue { HerokuMaintenance(self).json }

    /// The `data:maintenances:info` block: the object flattened (`addon.name` → `addon_name`),
    /// uuids and our extension flags dropped, `duration_approximate` added, unset keys left out.
    public var infoFields: [(String, String)] {
        var fields: [(String, String)] = []
        guard case .object(let members) = json else { return fields }
        let hidden: Set<String> = ["uuid", "customer_requested", "emergency", "outside_window"]
        for (key, value) in members where !hidden.contains(key) {
            if case .object(let nested) = value {
                for (nestedKey, nestedValue) in nested where nestedKey != "uuid" {
                    if let text = Self.text(nestedValue) { fields.append(("\(key)_\(nestedKey)", text)) }
                }
            } else if let text = Self.text(value) {
                fields.append((key, text))
            }
        }
        if let seconds = maintenance?.durationSeconds {
            fields.append(("duration_approximate", "~ " + DurationWording.approximate(seconds: seconds)))
        }
        return fields.sorted { $0.0 < $1.0 }
    }

    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case .null: nil
        case .string(let text): text
        case .int(let number): String(number)
        case .bool(let flag): String(flag)
        case .array(let items): items.isEmpty ? nil : items.compactMap(text).joined(separator: ", ")
        default: value.compactText
        }
    }
}

/// date-fns `formatDistance` wording, as Heroku's CLI prints `duration_approximate`.
public enum DurationWording {
    public static func approximate(seconds: Int64) -> String {
        // JavaScript's Math.round: halves round up.
        func round(_ value: Double) -> Int64 { Int64((value + 0.5).rounded(.down)) }
        let minutes = round(Double(seconds) / 60)
        switch minutes {
        case ..<1: return "less than a minute"
        case 1: return "1 minute"
        case ..<45: return "\(minutes) minutes"
        case ..<90: return "about 1 hour"
        case ..<1440: return "about \(round(Double(minutes) / 60)) hours"
        case ..<2520: return "1 day"
        case ..<43200: return "\(round(Double(minutes) / 1440)) days"
        case ..<86400: return "about \(round(Double(minutes) / 43200)) month" + (round(Double(minutes) / 43200) == 1 ? "" : "s")
        default:
            let months = round(Double(minutes) / 43200)
            if months < 12 { return "\(months) months" }
            let years = months / 12, remainder = months % 12
            if remainder < 3 { return "about \(years) year" + (years == 1 ? "" : "s") }
            if remainder < 9 { return "over \(years) year" + (years == 1 ? "" : "s") }
            return "almost \(years + 1) years"
        }
    }
}
