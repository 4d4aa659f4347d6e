import LedgerCore
import LedgerStore

/// The questions users ask of a ledger, whether it was opened to read (`LedgerQueries`) or to
/// record (`Ledger`). They are answered in Queries/, Reports/, Verification/ and Transfer/Export.
public protocol LedgerQuerying {
    var reader: LedgerReader { get }
    var context: LedgerContext { get }
}

/// The command layer: every rule lives behind these methods (Commands/, Transfer/Import), which
/// the CLI only calls; each command records its changes and their trail entry in one transaction.
public struct Ledger: LedgerQuerying {
    public let database: LedgerDatabase
    public let context: LedgerContext

    public init(database: LedgerDatabase, context: LedgerContext) {
        self.database = database
        self.context = context
    }

    public var reader: LedgerReader { database }
}

/// A ledger opened by a command that only reads: the questions, and no way to record.
public struct LedgerQueries: LedgerQuerying {
    public let reader: LedgerReader
    public let context: LedgerContext

    public init(reader: LedgerReader, context: LedgerContext) {
        self.reader = reader
        self.context = context
    }
}

extension Ledger {
    /// Checks a caller-supplied event time (`--at`): not in the future, not before `notBefore`.
    func validateEventTime(_ at: Timestamp?, flag: String = "--at", notBefore: Timestamp? = nil, what: String = "") throws -> Timestamp {
        let time = at ?? context.now
        guard time <= context.now else {
            throw LedgerError.refused("\(flag) \(time.isoText) is in the future (now is \(context.now.isoText))",
                                           hint: "Record events once they have happened.")
        }
        if let notBefore, time < notBefore {
            throw LedgerError.refused("\(flag) \(time.isoText) is before \(what) at \(notBefore.isoText)",
                                      hint: "Events are recorded in time order.")
        }
        return time
    }
}
