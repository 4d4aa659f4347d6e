/// The data services the ledger knows, with what differs between them.
public enum Service: String, CaseIterable, Sendable {
    case redis = "heroku-redis"
    case postgres = "heroku-postgresql"
    case kafka = "heroku-kafka"

    /// The prefix of generated add-on names (`redis-lively-12345`).
    package var namePrefix: String {
        switch self {
        case .redis: "redis"
        case .postgres: "postgresql"
        case .kafka: "kafka"
        }
    }

    /// The config var an add-on gets when the app has none of its kind yet.
    package var defaultAttachmentName: String {
        switch self {
        case .redis: "REDIS_URL"
        case .postgres: "DATABASE_URL"
        case .kafka: "KAFKA_URL"
        }
    }

    /// The stem of the colored config var used when the default one is taken.
    package var coloredAttachmentStem: String {
        switch self {
        case .redis: "HEROKU_REDIS"
        case .postgres: "HEROKU_POSTGRESQL"
        case .kafka: "HEROKU_KAFKA"
        }
    }

    public var defaultMethod: MaintenanceMethod {
        switch self {
        case .redis: .failover
        case .postgres: .changeover
        case .kafka: .rollingRestart
        }
    }

    /// Plan tiers per service; `mini` is the one tier written without a size.
    package var tiers: [String] {
        switch self {
        case .redis: ["mini", "premium", "private", "shield"]
        case .postgres: ["essential", "standard", "premium", "private", "shield"]
        case .kafka: ["basic", "standard", "extended", "private", "shield"]
        }
    }

    /// Tiers on which customers get a window and may run maintenance themselves.
    package var tiersWithWindows: Set<String> {
        switch self {
        case .redis: ["premium", "private", "shield"]
        case .postgres: ["standard", "premium", "private", "shield"]
        case .kafka: []
        }
    }
}

/// A plan such as `premium-0` or `mini`, validated against its service.
public struct Plan: Hashable, Sendable {
    public let service: Service
    public let tier: String
    public let size: String?

    /// Parses `premium-0`; nil names what is wrong.
    public static func parse(_ text: String, service: Service) -> Result<Plan, LedgerError> {
        let lower = text.lowercased()
        let (tier, size): (String, String?)
        if let dash = lower.lastIndex(of: "-") {
            (tier, size) = (String(lower[..<dash]), String(lower[lower.index(after: dash)...]))
        } else {
            (tier, size) = (lower, nil)
        }
        let known = service.tiers.joined(separator: ", ")
        guard service.tiers.contains(tier) else {
            return .failure(.invalidInput("unknown plan '\(text)' for \(service.rawValue)", hint: "Plans are written TIER-SIZE, like premium-0 (or just mini), with TIER one of: \(known)."))
        }
        if let size, size.isEmpty || !size.allSatisfy(\.isASCIIDigit) {
            return .failure(.invalidInput("plan '\(text)' has no numeric size", hint: "Write the plan as \(tier)-0."))
        }
        if let size, size.count > 3 {
            return .failure(.invalidInput("plan '\(text)' has no such size", hint: "Sizes are whole numbers below 1000, as in \(tier)-0."))
        }
        if tier == "mini" ? size != nil : size == nil {
            let example = tier == "mini" ? "mini" : "\(tier)-0"
            return .failure(.invalidInput("plan '\(text)' is not written like '\(example)'", hint: nil))
        }
        return .success(Plan(stored: lower, service: service))
    }

    /// A plan read back from the ledger, where only valid plans are written.
    package init(stored name: String, service: Service) {
        self.service = service
        if let dash = name.lastIndex(of: "-") {
            (tier, size) = (String(name[..<dash]), String(name[name.index(after: dash)...]))
        } else {
            (tier, size) = (name, nil)
        }
    }

    /// `premium-0`, as stored and typed.
    public var name: String { size.map { "\(tier)-\($0)" } ?? tier }

    /// `Premium 0`, as `redis:info` shows it.
    public var displayName: String {
        let title = tier.prefix(1).uppercased() + tier.dropFirst()
        return size.map { "\(title) \($0)" } ?? title
    }

    /// Whether the plan has a maintenance window customers can move and run manual maintenance.
    public var hasWindows: Bool { service.tiersWithWindows.contains(tier) }
}

extension Character {
    package var isASCIIDigit: Bool { isASCII && isNumber }
}
