/// Every way a ledger command can refuse. Each case maps to one exit code and prints as
/// `Error: <message>` with an optional hint line that names the fix.
public enum LedgerError: Error, Equatable, Sendable {
    /// The caller typed something malformed (exit 64).
    case invalidInput(String, hint: String?)
    /// Something named does not exist (exit 1).
    case notFound(String, hint: String?)
    /// A rule of the domain forbids it in the current state (exit 1).
    case refused(String, hint: String?)
    /// The file is not a ledger we can use (exit 1).
    case unusableDatabase(String, hint: String?)
    /// The ledger was altered: `audit:verify` found it, or a command refused to record in it (exit 3).
    case verificationFailed(String)
    /// A manual run on an app outside maintenance mode without `--confirm APP` (exit 1).
    case unconfirmedRun(app: String)
    /// `sql` stopped at one of its limits, `--timeout` or `--max-rows` (exit 4).
    case limitReached(String, hint: String?)
    /// A line of an import file is not a maintenance the ledger can take (exit 65, EX_DATAERR).
    case badData(String, hint: String?)
    /// The output could not be written: a full disk, a closed descriptor (exit 74, EX_IOERR).
    case outputFailed(String)
    /// The ledger, or a file a command makes of it (a backup), could not be written, a full disk
    /// or an I/O error, and nothing was recorded or left (exit 74, EX_IOERR, as lost output).
    case writeFailed(String, hint: String?)
    /// Another process held the ledger past the busy timeout: try again (exit 75, EX_TEMPFAIL).
    case busy(String, hint: String?)

    /// A line printed before the error, as Heroku's CLI warns before refusing a manual run.
    public var warning: String? {
        if case .unconfirmedRun = self { return "Application is not in maintenance mode." }
        return nil
    }

    public var message: String {
        switch self {
        case .invalidInput(let message, _), .notFound(let message, _), .refused(let message, _),
             .unusableDatabase(let message, _), .verificationFailed(let message), .limitReached(let message, _),
             .badData(let message, _), .outputFailed(let message), .writeFailed(let message, _), .busy(let message, _):
            message
        case .unconfirmedRun(let app):
            "To proceed, put the application into maintenance mode or re-run the command with --confirm \(app)"
        }
    }

    public var hint: String? {
        switch self {
        case .invalidInput(_, let hint), .notFound(_, let hint), .refused(_, let hint), .unusableDatabase(_, let hint),
             .limitReached(_, let hint), .badData(_, let hint), .writeFailed(_, let hint), .busy(_, let hint):
            hint
        case .verificationFailed, .unconfirmedRun, .outputFailed:
            nil
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .invalidInput: 64 // EX_USAGE, as ArgumentParser's own usage errors
        case .notFound, .refused, .unusableDatabase, .unconfirmedRun: 1
        case .verificationFailed: 3
        case .limitReached: 4
        case .badData: 65
        case .outputFailed, .writeFailed: 74
        case .busy: 75
        }
    }
}
