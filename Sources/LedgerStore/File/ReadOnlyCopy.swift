import Foundation
internal import GRDB
import LedgerCore

/// Opening a ledger this process may not write: an auditor's copy in a folder they can only
/// read. SQLite then cannot make the `-shm` file a WAL ledger is read through; when the copy
/// has no uncheckpointed changes (no `-wal`, or an empty one), it is opened `immutable`, which
/// needs none; with changes still in its `-wal`, it is refused rather than read without them.
enum ReadOnlyCopy {
    /// Whether this process cannot write the file or the folder it is in (root always can).
    static func isReadOnly(_ path: String) -> Bool {
        access(path, W_OK) != 0 || access(folder(of: path), W_OK) != 0
    }

    /// The folder holding the file at `path` (a regular file: no trailing slash), where SQLite
    /// makes its `-wal` and `-shm`: the path up to its last slash, "." for a bare name. (Not
    /// through `URL`, whose first use costs a tenth of a millisecond on every command's start.)
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A read-only, query-only connection to the ledger at `path`.
    static func queue(_ path: String) throws -> DatabaseQueue {
        let folderWritable = access(folder(of: path), W_OK) == 0
        guard !folderWritable, !FileManager.default.fileExists(atPath: path + "-shm") else {
            return try DatabaseQueue(path: path, configuration: configuration)
        }
        let pending = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)?.intValue ?? 0
        guard pending == 0 else {
            throw LedgerError.unusableDatabase("\(path) has changes in \(path)-wal that reading it here would leave out, and its folder is read-only",
                                               hint: "Copy the ledger with `sqlite3 LEDGER \".backup COPY\"`, which folds them in, or read it where it can be written.")
        }
        return try immutableQueue(path)
    }

    /// A read-only, query-only connection to a file no process changes while it is open: SQLite
    /// then takes no lock and neither reads nor makes a `-wal` or `-shm`.
    static func immutableQueue(_ path: String) throws -> DatabaseQueue {
        let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
        return try DatabaseQueue(path: "file:\(encoded)?immutable=1", configuration: configuration)
    }

    private static var configuration: Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA query_only = 1") }
        return configuration
    }
}
