import Foundation
import LedgerCore
import LedgerStore

/// Heroku's maintenance object, as `heroku data:maintenances:info --json` prints it: the one
/// shape maintledger prints (`data:maintenances:info --json`, `history --json` and `--ndjson`)
/// and imports. Keys are Heroku's; our three flags (`customer_requested`, `emergency`,
/// `outside_window`) and the uuids ride along. An add-on with no maintenance yet has status
/// `none` and no maintenance fields.
///
/// It is read and written through `JSONValue`, not Foundation's `Codable`: the output keeps its
/// byte-exact order and layout, and an import names the field that is wrong in the order the
/// object is checked (the maintenance's own fields, then its app, then its add-on).
public struct HerokuMaintenance: Equatable, Sendable {
    public struct App: Equatable, Sendable {
        public var name: String
        public var uuid: String?
    }

    public struct Addon: Equatable, Sendable {
        public var attachments: [String]
        public var kind: Service
        public var name: String
        /// Always printed; an import needs it only to create the add-on.
        public var plan: String?
        public var uuid: String?
        public var window: String?
    }

    public var uuid: String?
    public var status: MaintenanceStatus?
    public var reason: MaintenanceReason?
    public var method: MaintenanceMethod?
    public var requiredBy: Timestamp?
    public var scheduledFor: Timestamp?
    public var previouslyScheduledFor: Timestamp?
    public var window: String?
    public var outsideWindow: Bool
    public var startedAt: Timestamp?
    public var completedAt: Timestamp?
    public var durationSeconds: Int64?
    public var serverCreatedAt: Timestamp
    public var customerRequested: Bool
    public var emergency: Bool
    public var app: App
    public var addon: Addon
    public var addonDescription: String?

    /// A maintenance as users see it (the add-on's server when it has none yet).
    public init(_ view: MaintenanceView) {
        let m = view.maintenance
        uuid = m?.uuid
        status = m?.status
        reason = m?.reason
        method = m?.method
        requiredBy = m?.requiredBy
        scheduledFor = m?.scheduledFor
        previouslyScheduledFor = m?.previouslyScheduledFor
        window = m?.window
        outsideWindow = m?.outsideWindow ?? false
        startedAt = m?.startedAt
        completedAt = m?.completedAt
        durationSeconds = m?.durationSeconds
        serverCreatedAt = m?.serverCreatedAt ?? view.addon.serverCreatedAt
        customerRequested = m?.customerRequested ?? false
        emergency = m?.emergency ?? false
        app = App(name: view.app.name, uuid: view.app.uuid)
        addon = Addon(attachments: view.attachments, kind: view.addon.service, name: view.addon.name, plan: view.addon.plan.name,
                      uuid: view.addon.uuid, window: view.addonWindow?.text)
        addonDescription = view.addon.description
    }

    /// The object, keys in alphabetical order.
    public var json: JSONValue {
        .object([
            ("addon", .object([
                ("attachments", .array(addon.attachments.map(JSONValue.string))),
                ("kind", .string(addon.kind.rawValue)),
                ("name", .string(addon.name)),
                ("plan", .optional(addon.plan)),
                ("uuid", .optional(addon.uuid)),
                ("window", .optional(addon.window)),
            ])),
            ("addon_description", .optional(addonDescription)),
            ("app", .object([("name", .string(app.name)), ("uuid", .optional(app.uuid))])),
            ("completed_at", .optional(completedAt?.isoText)),
            ("customer_requested", .bool(customerRequested)),
            ("duration_seconds", durationSeconds.map(JSONValue.int) ?? .null),
            ("emergency", .bool(emergency)),
            ("method", .optional(method?.rawValue)),
            ("outside_window", .bool(outsideWindow)),
            ("previously_scheduled_for", .optional(previouslyScheduledFor?.isoText)),
            ("reason", .optional(reason?.rawValue)),
            ("required_by", .optional(requiredBy?.isoText)),
            ("scheduled_for", .optional(scheduledFor?.isoText)),
            ("server_created_at", .string(serverCreatedAt.isoText)),
            ("started_at", .optional(startedAt?.isoText)),
            ("status", .string(status?.rawValue ?? "none")),
            ("uuid", .optional(uuid)),
            ("window", .optional(window)),
        ])
    }

    /// Reads a maintenance to import. A maintenance must have what makes it one (a uuid, status,
    /// reason, method, required_by and server_created_at, and the times its status implies);
    /// errors name the field (`addon.kind`).
    init(json object: JSONValue) throws {
        let fields = JSONFields(object)
        let uuid = try fields.string("uuid").lowercased()
        // The canonical form is checked in place; Foundation's parser (sscanf, a twentieth of
        // an import's parsing) decides the rest, which it also accepts in other forms.
        guard UUIDText.isCanonical(uuid) || (uuid.count == 36 && UUID(uuidString: uuid) != nil) else {
            throw LedgerError.invalidInput("uuid '\(uuid)' is not a UUID", hint: nil)
        }
        self.uuid = uuid
        let status = try fields.choice("status", MaintenanceStatus.self)
        self.status = status
        reason = try fields.choice("reason", MaintenanceReason.self)
        method = try fields.choice("method", MaintenanceMethod.self)
        requiredBy = try fields.time("required_by")
        scheduledFor = try fields.optionalTime("scheduled_for")
        previouslyScheduledFor = try fields.optionalTime("previously_scheduled_for")
        window = try fields.optionalString("window")
        outsideWindow = try fields.flag("outside_window")
        startedAt = try fields.optionalTime("started_at")
        completedAt = try fields.optionalTime("completed_at")
        durationSeconds = try fields.optionalInteger("duration_seconds")
        serverCreatedAt = try fields.time("server_created_at")
        customerRequested = try fields.flag("customer_requested")
        emergency = try fields.flag("emergency")
        if status == .completed, completedAt == nil { throw LedgerError.invalidInput("a completed maintenance needs completed_at", hint: nil) }
        if [.running, .completed, .failed].contains(status), startedAt == nil {
            throw LedgerError.invalidInput("a \(status.rawValue) maintenance needs started_at", hint: nil)
        }
        // In the order an import has always checked them: the app, then the add-on's name and
        // kind, what describes a new one, and its attachments.
        let app = try fields.nested("app")
        let appName = try app.string("name")
        self.app = App(name: appName, uuid: try app.optionalString("uuid"))
        let addon = try fields.nested("addon")
        let name = try addon.string("name")
        let kind = try addon.service("kind")
        let plan = try addon.optionalString("plan")
        let addonUUID = try addon.optionalString("uuid")
        addonDescription = try fields.optionalString("addon_description")
        let addonWindow = try addon.optionalString("window")
        self.addon = Addon(attachments: try addon.strings("attachments"), kind: kind, name: name, plan: plan, uuid: addonUUID, window: addonWindow)
    }
}

/// Typed access to a decoded JSON object, with errors naming the field.
private struct JSONFields {
    let object: JSONValue
    let path: String

    init(_ object: JSONValue, path: String = "") {
        self.object = object
        self.path = path
    }

    private func name(_ key: String) -> String { path + key }

    func optionalString(_ key: String) throws -> String? {
        switch object[key] {
        case nil, .null: return nil
        case .string(let text): return text
        default: throw LedgerError.invalidInput("\(name(key)) is not a string", hint: nil)
        }
    }

    func string(_ key: String) throws -> String {
        guard let text = try optionalString(key) else { throw LedgerError.invalidInput("\(name(key)) is missing", hint: nil) }
        return text
    }

    func strings(_ key: String) throws -> [String] {
        switch object[key] {
        case nil, .null: return []
        case .array(let items):
            return try items.map { item in
                guard case .string(let text) = item else { throw LedgerError.invalidInput("\(name(key)) holds a non-string", hint: nil) }
                return text
            }
        default: throw LedgerError.invalidInput("\(name(key)) is not an array", hint: nil)
        }
    }

    func optionalTime(_ key: String) throws -> Timestamp? {
        guard let text = try optionalString(key) else { return nil }
        guard let time = Timestamp(iso: text) else { throw LedgerError.invalidInput("\(name(key)) '\(text)' is not an ISO 8601 time", hint: nil) }
        return time
    }

    func time(_ key: String) throws -> Timestamp {
        guard let time = try optionalTime(key) else { throw LedgerError.invalidInput("\(name(key)) is missing", hint: nil) }
        return time
    }

    func flag(_ key: String) throws -> Bool {
        switch object[key] {
        case nil, .null: return false
        case .bool(let flag): return flag
        default: throw LedgerError.invalidInput("\(name(key)) is not true or false", hint: nil)
        }
    }

    func optionalInteger(_ key: String) throws -> Int64? {
        switch object[key] {
        case nil, .null: return nil
        case .int(let number): return number
        case .double(let number) where number == number.rounded() && abs(number) < 9.0e18: return Int64(number)
        default: throw LedgerError.invalidInput("\(name(key)) is not a whole number", hint: nil)
        }
    }

    func choice<T: RawRepresentable>(_ key: String, _ type: T.Type) throws -> T where T.RawValue == String, T: CaseIterable {
        let text = try string(key)
        guard let value = T(rawValue: text) else {
            throw LedgerError.invalidInput("\(name(key)) '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", hint: nil)
        }
        return value
    }

    func service(_ key: String) throws -> Service {
        let text = try string(key)
        guard let service = Service(kind: text) else {
            throw LedgerError.invalidInput("\(name(key)) '\(text)' is not one of \(Service.allCases.map(\.rawValue).joined(separator: ", "))", hint: nil)
        }
        return service
    }

    func nested(_ key: String) throws -> JSONFields {
        guard let nested = object[key], case .object = nested else { throw LedgerError.invalidInput("\(name(key)) is missing or not an object", hint: nil) }
        return JSONFields(nested, path: name(key) + ".")
    }
}
