import LedgerCore
import LedgerStore

/// Config var names of attachments.
enum AttachmentName {
    /// `REDIS` and `redis_url` both mean `REDIS_URL`.
    static func normalize(_ text: String) -> String {
        let upper = text.uppercased()
        return upper.hasSuffix("_URL") ? upper : upper + "_URL"
    }

    static func validate(_ text: String) throws -> String {
        let name = normalize(text)
        let allowed = name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        guard allowed, let first = name.unicodeScalars.first, ("A"..."Z").contains(first) else {
            throw LedgerError.invalidInput("invalid attachment name '\(text)'",
                                           hint: "Use letters, digits and underscores, starting with a letter (REDIS or REDIS_URL).")
        }
        return name
    }

    static let colors = ["AMBER", "AQUA", "BLUE", "BRONZE", "BROWN", "CHARCOAL", "COBALT", "COPPER", "CRIMSON", "CYAN",
                         "GOLD", "GRAY", "GREEN", "IVORY", "JADE", "LIME", "MAROON", "MAUVE", "NAVY", "OLIVE", "ONYX",
                         "ORANGE", "PINK", "PUCE", "PURPLE", "RED", "ROSE", "SILVER", "TEAL", "WHITE", "YELLOW"]

    /// `REDIS_URL` if the app has none; else the first free `HEROKU_REDIS_<COLOR>_URL`.
    static func defaultName(for service: Service, onApp appID: Int64, _ db: LedgerSQL) throws -> String {
        let taken = Set(try db.values(String.self, "SELECT name FROM attachments WHERE app_id = ? AND detached_at IS NULL", [appID]))
        let candidates = [service.defaultAttachmentName] + colors.map { "\(service.coloredAttachmentStem)_\($0)_URL" }
        guard let free = candidates.first(where: { !taken.contains($0) }) else {
            throw LedgerError.refused("every default attachment name for \(service.rawValue) is taken on this app",
                                      hint: "Name one with --as NAME.")
        }
        return free
    }
}
