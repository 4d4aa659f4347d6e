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
    /// False when an import's object named its add-on by `--addon` alone, without a kind.
    var addonKindGiven = true

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

    /// The keys of the object, its app's and its add-on's, by their path (what `json` writes).
    fileprivate static let keys: [String: Set<String>] = [
        "": ["addon", "addon_description", "app", "completed_at", "customer_requested", "duration_seconds", "emergency", "method",
             "outside_window", "previously_scheduled_for", "reason", "required_by", "scheduled_for", "server_created_at", "started_at",
             "status", "uuid", "window"],
        "app.": ["name", "uuid"],
        "addon.": ["attachments", "kind", "name", "plan", "uuid", "window"],
    ]

    /// Reads a maintenance to import. A maintenance must have what makes it one (a status,
    /// reason, method, required_by and server_created_at, and the times its status implies, which
    /// must agree with each other and with duration_seconds, and not be after `now`); errors
    /// name the field (`addon.kind`). Heroku's own objects carry no uuid: one is derived (`derivedUUID`). An
    /// object without its app or add-on takes `options`' (`--app`, `--addon`), and one naming
    /// others than those is refused. Keys no field is read from are ignored, and listed in
    /// `unknownKeys`.
    init(json object: JSONValue, options: ImportOptions, now: Timestamp, unknownKeys: inout [String]) throws {
        var fields = JSONFields(object)
        let givenUUID = try fields.optionalString("uuid")?.lowercased()
        if let uuid = givenUUID {
            // The canonical form is checked in place; Foundation's parser (sscanf, a twentieth of
            // an import's parsing) decides the rest, which it also accepts in other forms.
            guard UUIDText.isCanonical(uuid) || (uuid.count == 36 && UUID(uuidString: uuid) != nil) else {
                throw LedgerError.invalidInput("uuid '\(uuid)' is not a UUID", hint: nil)
            }
        }
        let status = try fields.choice("status", MaintenanceStatus.self)
        self.status = status
        let reason = try fields.choice("reason", MaintenanceReason.self)
        self.reason = reason
        method = try fields.choice("method", MaintenanceMethod.self)
        let requiredBy = try fields.time("required_by")
        self.requiredBy = requiredBy
        scheduledFor = try fields.optionalTime("scheduled_for")
        previouslyScheduledFor = try fields.optionalTime("previously_scheduled_for")
        window = try fields.optionalString("window")
        outsideWindow = try fields.flag("outside_window")
        startedAt = try fields.optionalTime("started_at")
        completedAt = try fields.optionalTime("completed_at")
        // What has happened cannot have happened after now.
        for (field, time) in [("started_at", startedAt), ("completed_at", completedAt)] {
            if let time, time > now {
                throw LedgerError.invalidInput("\(field) \(time.isoText) is in the future (now is \(now.isoText))", hint: nil)
            }
        }
        durationSeconds = try Self.duration(try fields.optionalInteger("duration_seconds"), status: status, startedAt: startedAt,
                                            completedAt: completedAt)
        serverCreatedAt = try fields.time("server_created_at")
        customerRequested = try fields.flag("customer_requested")
        emergency = try fields.flag("emergency")
        // In the order an import has always checked them: the app, then the add-on's name and
        // kind, what describes a new one, and its attachments.
        var app = try fields.optionalNested("app")
        let appName = try app?.optionalString("name")
        self.app = App(name: try Self.name("app", given: appName, option: options.app, flag: "--app"), uuid: try app?.optionalString("uuid"))
        var addon = try fields.optionalNested("addon")
        let name = try Self.name("addon", given: try addon?.optionalString("name"), option: options.addon, flag: "--addon")
        let kind = try addon?.optionalService("kind")
        addonKindGiven = kind != nil
        let plan = try addon?.optionalString("plan")
        let addonUUID = try addon?.optionalString("uuid")
        addonDescription = try fields.optionalString("addon_description")
        let addonWindow = try addon?.optionalString("window")
        // An add-on named by `--addon` alone is one the ledger holds, whose kind it knows
        // (`addonKindGiven`); .postgres stands in until then.
        self.addon = Addon(attachments: try addon?.strings("attachments") ?? [], kind: kind ?? .postgres, name: name, plan: plan,
                           uuid: addonUUID, window: addonWindow)
        uuid = givenUUID ?? Self.derivedUUID(addon: name, reason: reason, requiredBy: requiredBy)
        // Counted as read, named only when there are more (no array of the three for every object).
        if fields.hasUnknownKeys { unknownKeys += fields.unknownKeys }
        if let app, app.hasUnknownKeys { unknownKeys += app.unknownKeys }
        if let addon, addon.hasUnknownKeys { unknownKeys += addon.unknownKeys }
    }

    /// An add-on's object without a maintenance (status `none`, as `data:maintenances --json`
    /// prints one) holds nothing to record: none of a maintenance's own fields (one that does
    /// contradicts its status), and no other app or add-on than `--app` and `--addon` name.
    static func checkWithoutMaintenance(_ object: JSONValue, options: ImportOptions) throws {
        for key in ["reason", "method", "required_by", "scheduled_for", "previously_scheduled_for", "started_at", "completed_at", "duration_seconds"] {
            if let value = object[key], value != .null { throw LedgerError.invalidInput("\(key) is given, but status is none", hint: nil) }
        }
        var fields = JSONFields(object)
        for (key, option, flag) in [("app", options.app, "--app"), ("addon", options.addon, "--addon")] {
            var owner = try fields.optionalNested(key)
            if let option, let given = try owner?.optionalString("name") { _ = try name(key, given: given, option: option, flag: flag) }
        }
    }

    /// The name of the object's app or add-on, or the option's when it gives none; an object
    /// naming another than the option is refused (a file mixing two apps' histories, say).
    private static func name(_ key: String, given: String?, option: String?, flag: String) throws -> String {
        switch (given, option) {
        case (let given?, let option?) where given != option:
            throw LedgerError.refused("\(key).name is '\(given)', not \(option) as \(flag) says", hint: nil)
        case (let given?, _): return given
        case (nil, let option?): return option
        case (nil, nil): throw LedgerError.invalidInput("\(key).name is missing (give \(flag) for output that names none)", hint: nil)
        }
    }

    /// The times a maintenance's status implies, in order, and its duration: the whole seconds
    /// from started_at to completed_at, as the ledger counts them (filled in when not given; one
    /// less is also right when both times are to the second, which cut off their milliseconds).
    private static func duration(_ durationSeconds: Int64?, status: MaintenanceStatus, startedAt: Timestamp?,
                                 completedAt: Timestamp?) throws -> Int64? {
        if status == .completed, completedAt == nil { throw LedgerError.invalidInput("a completed maintenance needs completed_at", hint: nil) }
        if [.running, .completed, .failed].contains(status), startedAt == nil {
            throw LedgerError.invalidInput("a \(status.rawValue) maintenance needs started_at", hint: nil)
        }
        if status != .completed, let completedAt {
            throw LedgerError.invalidInput("completed_at \(completedAt.isoText) is given, but status is \(status.rawValue)", hint: nil)
        }
        guard let startedAt, let completedAt else {
            if let durationSeconds { throw LedgerError.invalidInput("duration_seconds \(durationSeconds) is given without completed_at", hint: nil) }
            return nil
        }
        guard startedAt <= completedAt else {
            throw LedgerError.invalidInput("completed_at \(completedAt.isoText) is before started_at \(startedAt.isoText)", hint: nil)
        }
        let elapsed = startedAt.milliseconds(until: completedAt) / 1000
        // Times printed to the second (list views) lost up to a second of the elapsed time.
        let toTheSecond = startedAt.millisecondsSinceEpoch % 1000 == 0 && completedAt.millisecondsSinceEpoch % 1000 == 0
        guard let durationSeconds else { return elapsed }
        guard durationSeconds == elapsed || (toTheSecond && durationSeconds == elapsed - 1) else {
            throw LedgerError.invalidInput("duration_seconds \(durationSeconds) is not completed_at − started_at (\(elapsed) s)", hint: nil)
        }
        return durationSeconds
    }

    /// The uuid of a maintenance given without one, as Heroku prints them: a name-based UUID
    /// (version 8, SHA-256, as RFC 9562 B.2 makes one) over what identifies a maintenance and
    /// stays as it moves on: its add-on's name, its reason and its required_by (the deadline it
    /// is created with, which rescheduling does not move), to the second (list views print no
    /// milliseconds). The same maintenance printed pending one day and completed the next, or by
    /// `info` and by `history`, has the same uuid.
    static func derivedUUID(addon: String, reason: MaintenanceReason, requiredBy: Timestamp) -> String {
        var hasher = SHA256Hasher()
        hasher.update(derivedUUIDNamespace)
        let second = Timestamp(millisecondsSinceEpoch: Timestamp.floorDiv(requiredBy.millisecondsSinceEpoch, 1000) * 1000)
        hasher.update(Array("\(addon)\n\(reason.rawValue)\n\(second.isoText)".utf8))
        var bytes = Array(hasher.finalize().bytes.prefix(16))
        bytes[6] = bytes[6] & 0x0F | 0x80
        bytes[8] = bytes[8] & 0x3F | 0x80
        return String(decoding: UUIDText.text(bytes), as: UTF8.self)
    }

    /// The namespace of derived uuids, 3b10b2a5-a9bc-4a18-bc73-fd9c17761493, as bytes.
    private static let derivedUUIDNamespace: [UInt8] = [
        0x3B, 0x10, 0xB2, 0xA5, 0xA9, 0xBC, 0x4A, 0x18, 0xBC, 0x73, 0xFD, 0x9C, 0x17, 0x76, 0x14, 0x93,
    ]
}

/// Typed access to a decoded JSON object, with errors naming the field, counting the keys read
/// (a count, not their names: the names of the others are only wanted when there are some).
private struct JSONFields {
    let object: JSONValue
    let path: String
    /// The keys the object holds that have been read.
    private var found = 0

    init(_ object: JSONValue, path: String = "") {
        self.object = object
        self.path = path
    }

    private func name(_ key: String) -> String { path + key }

    private mutating func value(_ key: String) -> JSONValue? {
        let value = object[key]
        if value != nil { found += 1 }
        return value
    }

    var hasUnknownKeys: Bool {
        guard case .object(let members) = object else { return false }
        return members.count > found
    }

    /// The keys no field was read from, by their paths (`addon.foo`).
    var unknownKeys: [String] {
        guard case .object(let members) = object else { return [] }
        let known = HerokuMaintenance.keys[path] ?? []
        return members.map(\.0).filter { !known.contains($0) }.map(name)
    }

    mutating func optionalString(_ key: String) throws -> String? {
        switch value(key) {
        case nil, .null: return nil
        case .string(let text): return text
        default: throw LedgerError.invalidInput("\(name(key)) is not a string", hint: nil)
        }
    }

    mutating func string(_ key: String) throws -> String {
        guard let text = try optionalString(key) else { throw LedgerError.invalidInput("\(name(key)) is missing", hint: nil) }
        return text
    }

    mutating func strings(_ key: String) throws -> [String] {
        switch value(key) {
        case nil, .null: return []
        case .array(let items):
            return try items.map { item in
                guard case .string(let text) = item else { throw LedgerError.invalidInput("\(name(key)) holds a non-string", hint: nil) }
                return text
            }
        default: throw LedgerError.invalidInput("\(name(key)) is not an array", hint: nil)
        }
    }

    mutating func optionalTime(_ key: String) throws -> Timestamp? {
        guard let text = try optionalString(key) else { return nil }
        guard let time = Timestamp(iso: text) else { throw LedgerError.invalidInput("\(name(key)) '\(text)' is not an ISO 8601 time", hint: nil) }
        guard Self.hasOffset(text) else {
            throw LedgerError.invalidInput("\(name(key)) '\(text)' has no UTC offset, and an import does not guess its zone: "
                                           + "write it as Heroku does, with +0000 or Z if it is UTC", hint: nil)
        }
        return time
    }

    /// Whether a time that parsed ends in its zone: `Z`, `+0000`, `+00:00` (`Timestamp(iso:)`
    /// reads a time without one as UTC, as a command line's `--at` may be written).
    private static func hasOffset(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            func sign(_ back: Int) -> Bool { bytes.count >= back && (bytes[bytes.count - back] == 0x2B || bytes[bytes.count - back] == 0x2D) }
            guard let last = bytes.last else { return false }
            return last == UInt8(ascii: "Z") || last == UInt8(ascii: "z") || sign(5) || (sign(6) && bytes[bytes.count - 3] == UInt8(ascii: ":"))
        }
    }

    mutating func time(_ key: String) throws -> Timestamp {
        guard let time = try optionalTime(key) else { throw LedgerError.invalidInput("\(name(key)) is missing", hint: nil) }
        return time
    }

    mutating func flag(_ key: String) throws -> Bool {
        switch value(key) {
        case nil, .null: return false
        case .bool(let flag): return flag
        default: throw LedgerError.invalidInput("\(name(key)) is not true or false", hint: nil)
        }
    }

    /// A whole number, also written as a string of digits (`"581"`, as Heroku's list views
    /// give `duration_seconds`).
    mutating func optionalInteger(_ key: String) throws -> Int64? {
        switch value(key) {
        case nil, .null: return nil
        case .int(let number): return number
        case .string(let text) where !text.isEmpty && text.utf8.allSatisfy({ (48...57).contains($0) }) && text.utf8.count <= 18:
            return Int64(text)
        case .double(let number) where number == number.rounded() && abs(number) < 9.0e18: return Int64(number)
        default: throw LedgerError.invalidInput("\(name(key)) is not a whole number", hint: nil)
        }
    }

    mutating func choice<T: RawRepresentable>(_ key: String, _ type: T.Type) throws -> T where T.RawValue == String, T: CaseIterable {
        let text = try string(key)
        guard let value = T(rawValue: text) else {
            throw LedgerError.invalidInput("\(name(key)) '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", hint: nil)
        }
        return value
    }

    mutating func optionalService(_ key: String) throws -> Service? {
        guard let text = try optionalString(key) else { return nil }
        guard let service = Service(kind: text) else {
            throw LedgerError.invalidInput("\(name(key)) '\(text)' is not one of \(Service.allCases.map(\.rawValue).joined(separator: ", "))", hint: nil)
        }
        return service
    }

    /// The object under `key`, nil when there is none.
    mutating func optionalNested(_ key: String) throws -> JSONFields? {
        switch value(key) {
        case nil, .null: return nil
        case .object(let members)?: return JSONFields(.object(members), path: name(key) + ".")
        default: throw LedgerError.invalidInput("\(name(key)) is not an object", hint: nil)
        }
    }
}
