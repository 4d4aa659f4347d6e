import Foundation
import LedgerCore
import LedgerStore

/// What `backup` did.
public struct BackupResult: Sendable, Equatable {
    /// The copy's verdict, as `audit:verify --db FILE` gives it: entries and head hash.
    public let verification: VerificationReport
    /// Temporary files of interrupted backups that this run removed from the folder.
    public let removed: [String]
}

extension LedgerQuerying {
    /// `backup --to FILE`: a copy of the ledger as one commit left it, verified, at FILE; or, if
    /// anything fails or the run is killed, nothing at FILE (see `NewFile`). The ledger is
    /// only read. `replacing`: whether an existing FILE may be replaced (`--force`). `copying`
    /// hears (pages copied, pages in all) as the copy is made, `verifying` (entries read, entries
    /// in all) as it is verified.
    public func backup(to file: String, replacing: Bool, copying: (_ done: Int, _ total: Int) -> Void = { _, _ in },
                       verifying: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> BackupResult {
        let target = try NewFile(file, ledger: reader.path, replacing: replacing, wording: .backup)
        defer { target.discard() }
        let removed = target.removeAbandonedCopies()
        let copy = try target.create()
        do {
            try reader.copyWhole(into: copy, progress: copying)
        } catch {
            throw target.writeFailure(error)
        }
        let verification: VerificationReport
        do {
            verification = try LedgerQueries(reader: LedgerReader.openPrivateCopy(at: copy), context: context).verify(progress: verifying)
        } catch LedgerError.verificationFailed(let message) {
            // The copy is the ledger's pages as they stood: the ledger itself is altered.
            throw LedgerError.verificationFailed("the copy of \(reader.path) does not verify, so no backup was written: \(message)")
        }
        try target.putInPlace()
        return BackupResult(verification: verification, removed: removed)
    }
}

/// The file `backup` (or `rebuild`, or `audit:report`) writes, and how nothing but a whole,
/// verified copy (or ledger, or report) is ever at its path, wherever the run stops:
/// 1. The copy is made in the target's folder under a temporary name, `.maintledger-backup-tmp-`
///    (`.maintledger-rebuild-tmp-`, `.maintledger-report-tmp-`) and six random characters: hidden, and saying what it is, so
///    that no one takes it for a backup. `mkstemp` creates it readable by its owner only, as the
///    ledger, and the run holds an `flock` on it for as long as it lives.
/// 2. Once verified, the copy is fsynced and given the target's name: by `link`, which fails if
///    a file has appeared there meanwhile, or, replacing one (`--force`), by `rename`, which
///    swaps it in one step. Then the folder is fsynced.
/// 3. A run killed before step 2 leaves its temporary file behind; the next run of the same
///    command into the folder removes every one that no live run holds the lock of.
final class NewFile {
    /// What the messages call the command and its file.
    struct Wording {
        let command: String
        let temporaryPrefix: String
        /// "a backup": what SQLite would apply a `-wal` to.
        let aFile: String
        /// What a folder given as the file could hold instead.
        let exampleName: String
        /// "an earlier backup": what `--force` is for.
        let replaceable: String
        let nothingWritten: String
        let fullHint: String
        let failedHint: String

        static let backup = Wording(command: "backup", temporaryPrefix: ".maintledger-backup-tmp-", aFile: "a backup",
                                    exampleName: "ledger-backup.sqlite", replaceable: "an earlier backup", nothingWritten: "no backup was written",
                                    fullHint: "Free some space, or back up to another disk; the ledger is as it was.",
                                    failedHint: "Fix the disk, or back up to another one; the ledger is as it was.")
        static let rebuild = Wording(command: "rebuild", temporaryPrefix: ".maintledger-rebuild-tmp-", aFile: "a ledger rebuilt",
                                     exampleName: "ledger.sqlite", replaceable: "an earlier ledger", nothingWritten: "nothing was written",
                                     fullHint: "Free some space and rebuild again, or rebuild onto another disk.",
                                     failedHint: "Fix the disk, or rebuild onto another one.")
        static let report = Wording(command: "audit:report", temporaryPrefix: ".maintledger-report-tmp-", aFile: "a report",
                                    exampleName: "audit-report.html", replaceable: "an earlier report", nothingWritten: "no report was written",
                                    fullHint: "Free some space, or write the report to another disk.",
                                    failedHint: "Fix the disk, or write the report to another one.")
    }

    let file: String
    let wording: Wording
    private let folder: String
    /// The ledger being copied, which the file may not stand for; nil for a new one.
    private let ledger: String?
    private let replacing: Bool
    /// The copy while it is being made: its path, and its descriptor, which holds the lock.
    private var temporary: (path: String, descriptor: Int32)?

    /// Checks the target before anything is written (and again before the copy takes its name).
    init(_ file: String, ledger: String?, replacing: Bool, wording: Wording) throws {
        self.file = file
        self.ledger = ledger
        self.replacing = replacing
        self.wording = wording
        folder = Self.folder(of: file)
        try checkTarget()
    }

    private func checkTarget() throws {
        var status = stat()
        guard stat(folder, &status) == 0 else {
            guard errno == ENOENT else { throw cannotWrite(errno) }
            throw LedgerError.notFound("no folder at \(folder)", hint: "Create it first, or point --to at a file in an existing folder.")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw LedgerError.refused("\(folder) is not a folder", hint: "Point --to at a file in a folder.")
        }
        if file.hasSuffix("/") || (stat(file, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR) {
            throw LedgerError.refused("\(file) is a folder", hint: "Point --to at a file, such as \(file.hasSuffix("/") ? file : file + "/")\(wording.exampleName).")
        }
        // Put there, the copy would take the place of the file the ledger's writers write.
        if let ledger, Self.identity(folder) == Self.identity(Self.folder(of: ledger)),
           ["", "-wal", "-shm", "-journal"].map({ Self.name(of: ledger) + $0 }).contains(Self.name(of: file)) {
            throw LedgerError.refused("\(file) is the ledger, or a file SQLite keeps beside it", hint: "Point --to at another file.")
        }
        if lstat(file, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw LedgerError.refused("\(file) is not a regular file", hint: "Point --to at a new file, or at \(wording.replaceable) to replace with --force.")
            }
            guard replacing else { throw exists }
        }
        // SQLite would apply a `-wal` or a hot `-journal` left beside the name to the copy put
        // there, as if it were the same database, and damage it.
        for suffix in ["-wal", "-journal"] where lstat(file + suffix, &status) == 0 {
            throw LedgerError.refused("\(file)\(suffix) exists, and SQLite would apply it to \(wording.aFile) at \(file)",
                                      hint: "If no program has \(file) open, remove \(file)\(suffix); or choose another file.")
        }
    }

    private var exists: LedgerError {
        .refused("\(file) exists; \(wording.command) replaces a file only with --force", hint: "Choose a new file, or pass --force to replace it.")
    }

    /// Step 3: removes the temporary files of runs that died, each one whose lock is free (a
    /// live run holds its own). Returns their paths.
    func removeAbandonedCopies() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        // In name order: the removals are reported in an order that does not depend on the folder's.
        return names.filter { $0.hasPrefix(wording.temporaryPrefix) }.sorted().map { Self.path(folder, $0) }.filter { path in
            let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard descriptor >= 0 else { return false }
            defer { close(descriptor) }
            return flock(descriptor, LOCK_EX | LOCK_NB) == 0 && unlink(path) == 0
        }
    }

    /// Step 1: creates the temporary file, locked; returns its path.
    func create() throws -> String {
        // A run removing abandoned copies at this very moment may take the new file for one,
        // between its creation and its lock, and remove it: it is then made again under a new
        // name, which that run did not list. So this ends.
        while true {
            var template = Array(Self.path(folder, wording.temporaryPrefix + "XXXXXX").utf8CString)
            let descriptor = mkstemp(&template)
            guard descriptor >= 0 else { throw errno == ENOSPC || errno == EDQUOT ? diskFull : cannotWrite(errno) }
            let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0, Self.identity(path) == Self.identity(descriptor) {
                fchmod(descriptor, 0o600) // whatever the umask
                temporary = (path, descriptor)
                return path
            }
            close(descriptor)
        }
    }

    /// Writes `bytes` to the temporary file (a report; a copy is written by SQLite itself).
    func write(_ bytes: [UInt8]) throws {
        guard case let (_, descriptor)? = temporary else { return }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                if count < 0, errno == EINTR { continue }
                throw writeFailure(count < 0 ? errno : EIO)
            }
            written += count
        }
    }

    /// Step 2: the verified copy, synced, takes the target's name; then the folder is synced.
    func putInPlace() throws {
        guard case let (path, descriptor)? = temporary else { return }
        guard fsync(descriptor) == 0 else { throw writeFailure(errno) }
        try checkTarget() // a file may have appeared at the target while the copy was made
        if replacing {
            guard rename(path, file) == 0 else { throw cannotWrite(errno) }
        } else {
            guard link(path, file) == 0 else { throw errno == EEXIST ? exists : cannotWrite(errno) }
            unlink(path) // should this fail, the name left is removed by the next backup
        }
        close(descriptor)
        temporary = nil
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(folderDescriptor) }
        guard folderDescriptor >= 0, fsync(folderDescriptor) == 0 else { throw writeFailure(errno) }
    }

    /// After a failure: the temporary copy goes.
    func discard() {
        guard case let (path, descriptor)? = temporary else { return }
        unlink(path)
        close(descriptor)
        temporary = nil
    }

    // MARK: Failures

    /// A write to the copy failed: SQLite's error making it, or an errno.
    func writeFailure(_ error: any Error) -> any Error {
        if SQLiteFailure.isDiskFull(error) { return diskFull }
        guard let reason = SQLiteFailure.reason(error) else { return error }
        return LedgerError.writeFailed("cannot write \(file): \(reason); \(wording.nothingWritten)", hint: wording.failedHint)
    }

    private func writeFailure(_ code: Int32) -> LedgerError {
        guard code != ENOSPC, code != EDQUOT else { return diskFull }
        return .writeFailed("cannot write \(file): \(String(cString: strerror(code))); \(wording.nothingWritten)", hint: wording.failedHint)
    }

    private var diskFull: LedgerError {
        .writeFailed("the disk holding \(file) is full; \(wording.nothingWritten)", hint: wording.fullHint)
    }

    private func cannotWrite(_ code: Int32) -> LedgerError {
        .refused("cannot write to \(folder): \(String(cString: strerror(code)))", hint: "Point --to at a file in a folder you can write to.")
    }

    // MARK: Paths

    /// The folder a path names a file in: up to its last slash, "." for a bare name.
    private static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func name(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    private static func path(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// Device and inode of what a path names (following links), or of an open file.
    private static func identity(_ path: String) -> [UInt64]? {
        var status = stat()
        return stat(path, &status) == 0 ? [UInt64(status.st_dev), UInt64(status.st_ino)] : nil
    }

    private static func identity(_ descriptor: Int32) -> [UInt64]? {
        var status = stat()
        return fstat(descriptor, &status) == 0 ? [UInt64(status.st_dev), UInt64(status.st_ino)] : nil
    }
}
