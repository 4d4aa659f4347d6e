import Foundation
internal import GRDB
import LedgerCore

/// A ledger file opened by a command that records: opening, validating and migrating it, and
/// besides `read` (see `LedgerReader`) the way in for mutations, `record`, which always appends
/// to the audit trail in the same `BEGIN IMMEDIATE` transaction.
public final class LedgerDatabase: LedgerReader {
    /// What `open` created (the file, then the folders it needed, deepest first), so that a
    /// command refused on a new ledger can leave the disk as it found it.
    private var created: [String] = []
    /// The file's inode when opened: a write checks it still is the file at `path`.
    private var fileIdentity: FileIdentity?

    enum OpenMode: Sendable {
        /// Create the file (and its folders) when missing: commands that record something.
        case createIfMissing
        /// Refuse a missing file and create nothing: `migrate`, and readers' checks.
        case mustExist
    }

    /// For commands that record: creates the file (and its folders) when missing.
    public static func openForWriting(at path: String) throws -> LedgerDatabase {
        try open(at: path, mode: .createIfMissing)
    }

    /// For `migrate`: upgrades an existing ledger (see `appliedOnOpen`) and creates nothing.
    public static func openForUpgrade(at path: String) throws -> LedgerDatabase {
        try open(at: path, mode: .mustExist)
    }

    /// The migrations opening applied, oldest first: empty when the ledger was up to date.
    public private(set) var appliedOnOpen: [String] = []

    /// The schema version: the newest migration this binary knows, which every ledger it has
    /// opened to record now has.
    public static var schemaVersion: String { Migrations.all.last!.identifier }

    /// A ledger is a regular file: `--db /dev/null` (or a folder, a FIFO) is refused before
    /// SQLite opens it, which would leave a `-journal` beside a device.
    static func refuseIrregularFile(_ path: String) throws {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG else { return }
        throw LedgerError.unusableDatabase("\(path) is not a regular file", hint: "Point --db at a ledger file, or at a new path to start one.")
    }

    static func missing(_ path: String) -> LedgerError {
        .notFound("no ledger at \(path)",
                  hint: "Record something first (for example `maintledger apps:create APP`), or point --db or MAINTLEDGER_DB at an existing ledger.")
    }

    /// Another process held the write lock past the busy timeout; a scheduled job retries.
    static let busy = LedgerError.busy("the ledger stayed locked by another process for 10 s",
                                       hint: "Try again; nothing was recorded (exit 75 means it is worth retrying).")

    /// Runs `open`, turning SQLite's refusals of the file into ours (`reading`: for a command
    /// that only reads, which records nothing either way).
    static func opening<Opened>(_ path: String, reading: Bool = false, _ open: () throws -> Opened) throws -> Opened {
        do {
            return try open()
        } catch let error as LedgerError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw LedgerError.unusableDatabase("\(path) is not a SQLite database",
                                               hint: "Point --db at a ledger file, or at a new path to start one.")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw busy
        } catch let error as DatabaseError where [.SQLITE_FULL, .SQLITE_IOERR].contains(error.resultCode) {
            guard reading else { throw writeFailed(path, error) }
            // Reading a WAL ledger needs its `-shm` file, which a full disk has no room for.
            throw LedgerError.writeFailed("\(diskTrouble(path, error)), and reading the ledger needs room for the small files SQLite keeps beside it",
                                          hint: "Free some space and run the command again.")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            // A page SQLite cannot read is an alteration too, whatever the command.
            throw LedgerError.verificationFailed("the ledger file is damaged: \(Self.describe(error))")
        } catch {
            throw LedgerError.unusableDatabase("cannot use \(path): \(Self.describe(error))", hint: nil)
        }
    }

    /// The disk is full, or refused a write: SQLite rolled the transaction back, so the ledger
    /// is as it was, and the same command succeeds once there is room.
    static func writeFailed(_ path: String, _ error: DatabaseError) -> LedgerError {
        .writeFailed("\(diskTrouble(path, error)); nothing was recorded",
                     hint: "Free some space (or fix the disk) and run the command again; the ledger is as it was.")
    }

    /// SQLite says "disk I/O error" when a full disk refuses it the `-shm` file: the free
    /// space on the disk tells which it was.
    private static func diskTrouble(_ path: String, _ error: DatabaseError) -> String {
        var disk = statvfs()
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let full = error.resultCode == .SQLITE_FULL || (statvfs(folder, &disk) == 0 && disk.f_bavail == 0)
        return full ? "the disk holding \(path) is full" : "cannot write \(path): \(describe(error))"
    }

    static func open(at path: String, mode: OpenMode) throws -> LedgerDatabase {
        var created: [String] = []
        try refuseIrregularFile(path)
        if !FileManager.default.fileExists(atPath: path) {
            guard mode == .createIfMissing else { throw missing(path) }
            created = try createEmptyFile(at: path)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // A batch runs each command in a savepoint, whose journal is a temporary file by
            // default: in memory it saves the syscalls (simulate: system time 0.7–2.8 s → 0.2 s).
            // (It is also why no statement may need a journal of its own, see `Mutation.capture`.)
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            return try opening(path) {
                let ledger = LedgerDatabase(path: path, queue: try DatabaseQueue(path: path, configuration: configuration))
                ledger.created = created
                ledger.fileIdentity = FileIdentity(path: path)
                try ledger.prepareSchema(mode: mode)
                if mode == .createIfMissing { ledger.warnings += Self.keepPrivate(path) }
                return ledger
            }
        } catch {
            removeUnwritten(created)
            throw error
        }
    }

    /// After a failed open (a full disk, say): the file this process created goes again with
    /// the folders it made, unless another process has written to it meanwhile.
    private static func removeUnwritten(_ created: [String]) {
        guard let file = created.first,
              (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue == 0 else { return }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
        for folder in created.dropFirst() { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// What opening found and put right, for the command to say (a ledger others could read).
    public private(set) var warnings: [String] = []

    /// A ledger names customers and who did what: a command that records makes the file (and
    /// the WAL files beside it, which SQLite made with its mode) readable by its owner only, and
    /// says so when it was not.
    private static func keepPrivate(_ path: String) -> [String] {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o077 != 0 else { return [] }
        let was = String(status.st_mode & 0o777, radix: 8)
        guard chmod(path, 0o600) == 0 else {
            return ["\(path) is readable by others (mode \(was)) and cannot be made private: \(String(cString: strerror(errno)))"]
        }
        for file in [path + "-wal", path + "-shm"] { chmod(file, 0o600) }
        return ["\(path) was readable by others (mode \(was)); it and its WAL are now readable by their owner only (600)"]
    }

    /// Creates the file and any missing folders; returns what it created, file first.
    private static func createEmptyFile(at path: String) throws -> [String] {
        let url = URL(fileURLWithPath: path)
        var missingFolders: [String] = []
        var folder = url.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.path) {
            missingFolders.append(folder.path)
            folder.deleteLastPathComponent()
        }
        // Readable by their owner only, as the file: whatever the umask, shallowest first.
        for folder in missingFolders.reversed() {
            guard mkdir(folder, 0o700) == 0 || errno == EEXIST, chmod(folder, 0o700) == 0 else {
                throw LedgerError.unusableDatabase("cannot create the folder \(folder): \(String(cString: strerror(errno)))",
                                                   hint: "Check that its parent is writable.")
            }
        }
        // The ledger names customers and who did what: readable by its owner only. O_EXCL, so
        // that of two processes creating it at once, one creates and the other just opens it.
        switch createExclusively(path) {
        case 0:
            return [path] + missingFolders
        case EEXIST:
            return []
        case let error:
            throw LedgerError.unusableDatabase("cannot create \(path): \(String(cString: strerror(error)))",
                                               hint: "Check that the folder is writable.")
        }
    }

    /// Removes the ledger this process created if nothing was recorded in it: a refused first
    /// command leaves no file and no folders behind.
    public func removeIfCreatedAndEmpty() {
        guard let file = created.first else { return }
        // Checked and removed under the write lock; a writer that opened the file meanwhile
        // notices it is gone (see `ensureStillAtPath`) instead of writing to a deleted file.
        try? queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                guard try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail") == 0 else { return .rollback }
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
                for folder in created.dropFirst() { try? FileManager.default.removeItem(atPath: folder) }
                return .rollback
            }
        }
        try? queue.close()
    }

    /// Folds the WAL back into the file, then closes. SQLite's own fold at close runs under an
    /// exclusive lock that every reader opening the file meanwhile waits for (after a 100k-line
    /// import, a `history` waited 343 ms); a passive checkpoint first does that work beside
    /// readers, retried while one still reads an older snapshot, so the close finds nothing left.
    ///
    /// It stops retrying once 20 ms pass without progress: a reader that keeps its snapshot for
    /// long pins the rest of the WAL, as Litestream does between its own checkpoints (then this
    /// close is not the last either, and SQLite folds nothing at it). Retrying for the whole
    /// 200 ms made every command that records about 0.2 s slower under Litestream.
    public func close() {
        try? queue.writeWithoutTransaction { db in
            var folded = 0, stalled = 0
            for _ in 0..<100 {
                guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") else { return }
                let (frames, foldedNow): (Int, Int) = (row[1], row[2])
                if foldedNow >= frames { return }
                stalled = foldedNow > folded ? 0 : stalled + 1
                if stalled == 10 { return }
                folded = foldedNow
                usleep(2_000)
            }
        }
        try? queue.close()
    }

    /// Refuses foreign files before anything is written to them, then migrates. Both steps hold
    /// the write lock, so processes opening a new ledger at once agree on what they found.
    private func prepareSchema(mode: OpenMode) throws {
        try queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try validate(db, mode: mode)
                return .commit
            }
            try Self.enterWALMode(db)
            // A migration that rebuilds a table drops the old one, which foreign keys forbid
            // while they are on (SQLite's 12-step procedure); `migrate` checks them before commit.
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            try db.inTransaction(.immediate) {
                try validate(db, mode: mode)
                // An upgrade writes: no planted trigger may fire under it (or be dropped by it).
                if try Self.needsUpgrade(db), let difference = try ExpectedSchema.firstDifference(db) {
                    throw Self.refusal(difference, what: "upgraded")
                }
                appliedOnOpen = try Self.migrate(db)
                return .commit
            }
        }
    }

    /// Switches a new ledger to WAL (a no-op on one already in it). The switch needs an exclusive
    /// lock, which SQLite takes without calling the busy handler: while another process opening
    /// the same new ledger holds a shared lock, it fails at once with SQLITE_BUSY (seen in the
    /// crash trials: four writers starting on a new file, one exited 75 in under a second). So
    /// it is retried here for as long as the busy timeout lets any other lock be waited for.
    private static func enterWALMode(_ db: Database) throws {
        let deadline = Date().addingTimeInterval(10)
        while true {
            do {
                return try db.execute(sql: "PRAGMA journal_mode = WAL")
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                usleep(5_000)
            }
        }
    }

    /// Whether migrations are pending on a ledger that already has some.
    private static func needsUpgrade(_ db: Database) throws -> Bool {
        let applied = try appliedMigrations(db)
        return !applied.isEmpty && applied.count < Migrations.all.count
    }

    private static func refusal(_ difference: String, what: String = "recorded") -> LedgerError {
        .verificationFailed("the ledger was altered outside maintledger (\(difference)), so nothing was \(what); `maintledger audit:verify` checks the whole file")
    }

    /// What every transaction that records checks first, under the write lock, cheaply (a
    /// fingerprint of `sqlite_master` and two trail entries: well under a millisecond): the
    /// schema is exactly what its migrations define (a trigger planted with sqlite3 would fire
    /// under the command and be recorded as its work), and the trail's last entry is what its
    /// hash says and follows the one before. Edited rows and earlier entries are left to
    /// `audit:verify`, which reads the whole file.
    private func refuseAlteredLedger(_ db: Database) throws {
        let refuse = { (difference: String) in Self.refusal(difference) }
        if let difference = try ExpectedSchema.firstDifference(db) { throw refuse(difference) }
        let last = try Row.fetchAll(db, sql: TrailEntry.selectSQL("ORDER BY t.seq DESC LIMIT 2")).map { TrailEntry(columns: RecordColumns(row: $0)) }
        guard let head = last.first else { return }
        guard head.computedHash == head.hash else { throw refuse("the trail's last entry, seq \(head.seq), does not match its hash") }
        guard head.prevHash == (last.count == 2 ? last[1].hash : TrailEntry.genesisHash), head.seq == (last.count == 2 ? last[1].seq + 1 : 1) else {
            throw refuse("the trail's last entry, seq \(head.seq), does not follow the one before it")
        }
    }

    /// What a reader needs, as reading never upgrades: a ledger (not an empty or foreign file),
    /// not from a newer maintledger, with every migration applied. `canUpgrade`: whether this
    /// process could upgrade it (not a read-only copy), which the hint says how.
    static func checkReadable(_ db: Database, path: String, canUpgrade: Bool) throws {
        try validate(db, path: path, mode: .mustExist)
        let applied = Set(try appliedMigrations(db))
        guard let pending = Migrations.all.first(where: { !applied.contains($0.identifier) }) else { return }
        // An alteration comes first: an upgrade would erase it (see `prepareSchema`).
        if let difference = try ExpectedSchema.firstDifference(db) { throw refusal(difference, what: "upgraded") }
        guard canUpgrade else {
            throw LedgerError.unusableDatabase("\(path) needs an upgrade (\(pending.identifier)), which a copy this process cannot write cannot get",
                                               hint: "Upgrade the original with `maintledger migrate`, then copy it again.")
        }
        throw LedgerError.unusableDatabase("\(path) needs an upgrade (\(pending.identifier)) before it can be read; reading never changes it",
                                           hint: "Run `maintledger migrate` (any command that records upgrades it too).")
    }

    private func validate(_ db: Database, mode: OpenMode) throws {
        try Self.validate(db, path: path, mode: mode)
    }

    /// A ledger carries our application id; an empty file may become one; anything else is foreign.
    private static func validate(_ db: Database, path: String, mode: OpenMode) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        // Litestream, watching the path before the ledger existed, may add its tables to the new
        // file between its creation and its first migration.
        let objectCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE NOT \(ExpectedSchema.passedOver)") ?? 0
        if applicationID != Self.applicationID {
            guard objectCount == 0 else {
                throw LedgerError.unusableDatabase("\(path) is not a maintledger ledger",
                                                   hint: "Point --db at a ledger file, or at a new path to start one.")
            }
            guard mode == .createIfMissing else {
                throw LedgerError.notFound("\(path) holds no ledger yet",
                                           hint: "Record something first, for example `maintledger apps:create APP`.")
            }
            return
        }
        let known = Set(Migrations.all.map(\.identifier))
        if let newer = try Self.appliedMigrations(db).filter({ !known.contains($0) }).max() {
            throw LedgerError.unusableDatabase("\(path) was written by a newer maintledger (schema \(newer))",
                                               hint: "Upgrade maintledger to read this ledger.")
        }
    }

    /// The record of applied migrations, in every ledger beside what they define.
    static func createMigrationsTable(_ db: Database) throws {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS schema_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
    }

    static func appliedMigrations(_ db: Database) throws -> [String] {
        // Asked of sqlite_master directly (as GRDB's `tableExists` would answer it: a table, its
        // name compared without case): `tableExists` first loads GRDB's schema cache, every
        // object of every schema, a third of a millisecond on every command's start.
        let hasTable = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations' COLLATE NOCASE
            """) ?? 0
        guard hasTable > 0 else { return [] }
        return try String.fetchAll(db, sql: "SELECT identifier FROM schema_migrations")
    }

    /// Applies, in order, the embedded migrations this file lacks (inside the caller's
    /// transaction); returns their identifiers.
    static func migrate(_ db: Database) throws -> [String] {
        try createMigrationsTable(db)
        let applied = Set(try appliedMigrations(db))
        let pending = Migrations.all.filter { !applied.contains($0.identifier) }
        guard !pending.isEmpty else { return [] }
        for migration in pending {
            try db.execute(sql: String(decoding: migration.sql, as: UTF8.self))
            try db.execute(sql: "INSERT INTO schema_migrations (identifier) VALUES (?)", arguments: [migration.identifier])
            if migration.identifier == Migrations.trailTree { try TrailTree.build(db) }
        }
        if let violation = try LedgerSQL(db).firstForeignKeyViolation() {
            throw LedgerError.unusableDatabase("cannot upgrade the ledger's schema: \(violation)",
                                               hint: "The file was edited outside maintledger; restore it from a backup.")
        }
        return pending.map(\.identifier)
    }

    package static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        if let error = error as? CocoaError, let underlying = error.underlying { return underlying.localizedDescription }
        return error.localizedDescription
    }

    // MARK: Access

    /// The batch under way, if any: its commands share one transaction, and it knows the trail's
    /// head (only its own commands append while it holds the write lock).
    private struct Batch {
        let connection: Database
        var head: TrailHead?
        /// The Merkle tree's right edge, so that each entry grows the tree without reading it.
        var edge: Merkle.Edge?
        /// The mutation the commands under way share, when they are recorded as one entry.
        var group: Mutation?
        /// Whether each command runs in a savepoint of its own (`batch`), or a refused command
        /// fails the whole batch (`allOrNothing`), which then remembers it here.
        let savesEachCommand: Bool
        var refusal: (any Error)?
    }
    private var batch: Batch?
    private let commandStatements = CommandStatements()

    /// Runs a query in a read transaction (one consistent snapshot), or inside the batch under way.
    override func readSnapshot(_ body: (LedgerSQL) throws -> Void) throws {
        if let batch { return try body(LedgerSQL(batch.connection)) }
        try super.readSnapshot(body)
    }

    /// Runs a mutation in one `BEGIN IMMEDIATE` transaction (a savepoint inside a batch) and
    /// appends its trail entry there too. A mutation that changed no row appends nothing. Any
    /// throw rolls back everything the mutation did.
    public func record<T>(_ context: LedgerContext, _ body: (Mutation) throws -> T) throws -> T {
        var result: T?
        try recordCommand(context) { result = try body($0) }
        return result!
    }

    /// `record` without its result (see `LedgerSQL` for why the generic part is a thin shell).
    func recordCommand(_ context: LedgerContext, _ body: (Mutation) throws -> Void) throws {
        func perform(_ db: Database, head: TrailHead?, edge: inout Merkle.Edge?) throws -> TrailHead? {
            let mutation = Mutation(db: db, context: context, shared: commandStatements)
            try body(mutation)
            return try mutation.appendTrailEntry(after: head, edge: &edge) ?? head
        }
        guard let batch else {
            return try inImmediateTransaction { db in
                try ensureStillAtPath()
                try refuseAlteredLedger(db)
                var edge: Merkle.Edge? // read by the entry, to grow the tree
                _ = try perform(db, head: try TrailHead.read(LedgerSQL(db)), edge: &edge)
            }
        }
        // One of the commands recorded as one entry: its changes join the entry's. No savepoint
        // of its own (a tenth of a tick's time): a refusal abandons the whole entry.
        if let group = batch.group { return try body(group) }
        var edge = batch.edge
        var head = batch.head
        try inCommandScope(batch) { head = try perform(batch.connection, head: batch.head, edge: &edge) }
        self.batch?.head = head
        self.batch?.edge = edge
    }

    /// Runs a command of the batch: in a savepoint of its own, or, in an all-or-nothing batch,
    /// noting its refusal, which then fails the batch.
    private func inCommandScope(_ batch: Batch, _ body: () throws -> Void) throws {
        guard batch.savesEachCommand else {
            do {
                return try body()
            } catch {
                self.batch?.refusal = error
                throw error
            }
        }
        try inSavepoint(batch.connection, body)
    }

    /// Runs `body` in a savepoint, through cached statements: GRDB's `inSavepoint` parses its
    /// SQL anew each time, a tenth of a batch's time.
    private func inSavepoint(_ db: Database, _ body: () throws -> Void) throws {
        try db.cachedStatement(sql: "SAVEPOINT command").execute()
        do {
            try body()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT command").execute()
        } catch {
            try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT command").execute()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT command").execute()
            throw error
        }
    }

    /// Records the commands `body` runs (inside a batch) as one trail entry, described by
    /// `action` and `subject` and recorded at `context.now`: what one command of the user's
    /// did, such as a tick of the engine that takes many steps. Each command keeps its rules;
    /// a throw out of any of them, or out of `body`, leaves out everything `body` did.
    public func recordAsOneEntry(_ context: LedgerContext, action: String, subject: String, _ body: () throws -> Void) throws {
        guard let batch else { preconditionFailure("commands are recorded as one entry inside a batch") }
        precondition(batch.group == nil, "entries do not nest")
        let group = Mutation(db: batch.connection, context: context, shared: commandStatements)
        group.describe(action: action, subject: subject)
        group.describesItself = false
        var edge = batch.edge
        var head = batch.head
        try inCommandScope(batch) {
            self.batch?.group = group
            defer { self.batch?.group = nil }
            try body()
            head = try group.appendTrailEntry(after: batch.head, edge: &edge) ?? batch.head
        }
        self.batch?.head = head
        self.batch?.edge = edge
    }

    /// Runs many commands in one transaction: each keeps its own trail entry and rules, and a
    /// refused command rolls back only itself. Used by the engine and the simulator.
    public func batch<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try batchCommands(savingEachCommand: true) { result = try body() }
        return result!
    }

    /// Runs many commands in one transaction that a refused command fails whole, even if the
    /// body goes on (an import: a bad line keeps nothing). Its commands run without the
    /// savepoint each has in a `batch`, under which SQLite copies every page before its first
    /// change (a million maintenances took 40% longer to insert with a savepoint around each
    /// thousand).
    public func allOrNothing<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try batchCommands(savingEachCommand: false) { result = try body() }
        return result!
    }

    func batchCommands(savingEachCommand: Bool, _ body: () throws -> Void) throws {
        precondition(batch == nil, "batches do not nest")
        try inImmediateTransaction { db in
            try ensureStillAtPath()
            try refuseAlteredLedger(db)
            let head = try TrailHead.read(LedgerSQL(db))
            batch = Batch(connection: db, head: head, edge: try TrailTree(db).edge(count: head?.seq ?? 0), savesEachCommand: savingEachCommand)
            // A batch writes more pages than the default 2 MB cache holds; spilled pages go to
            // the WAL mid-transaction and every later look-up searches them (imports slowed
            // tenfold). Readers keep the small cache, so exports stay within their memory bound.
            try db.execute(sql: "PRAGMA cache_size = -262144")
            defer {
                batch = nil
                try? db.execute(sql: "PRAGMA cache_size = -2000")
            }
            try body()
            // A refused command's writes are still in the transaction: it must not commit.
            if let refusal = batch?.refusal { throw refusal }
        }
    }

    private func ensureStillAtPath() throws {
        guard FileIdentity(path: path) == fileIdentity else {
            throw LedgerError.refused("\(path) was removed or replaced while this command ran; nothing was recorded", hint: "Try again.")
        }
    }

    private func inImmediateTransaction(_ body: (Database) throws -> Void) throws {
        do {
            try queue.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try body(db)
                    return .commit
                }
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw Self.busy
        } catch let error as DatabaseError where [.SQLITE_FULL, .SQLITE_IOERR].contains(error.resultCode) {
            throw Self.writeFailed(path, error)
        }
    }
}

/// Who acts and when; every command gets one.
public struct LedgerContext: Sendable {
    public var now: Timestamp
    public var actor: String
    /// Makes generated names, uuids and default windows reproducible (tests, demos).
    public var seed: UInt64?

    public init(now: Timestamp, actor: String, seed: UInt64? = nil) {
        self.now = now
        self.actor = actor
        self.seed = seed
    }
}

/// Which file a path names (device and inode).
private struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}

/// Creates an empty file readable by its owner only, failing with EEXIST if it exists; 0 on success.
private func createExclusively(_ path: String) -> Int32 {
    let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return errno }
    fchmod(descriptor, 0o600) // whatever the umask
    close(descriptor)
    return 0
}
