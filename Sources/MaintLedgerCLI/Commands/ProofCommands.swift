import ArgumentParser
import Foundation
import LedgerCore
import MaintenanceLedger

/// Key files and notes read from disk for the proof commands.
enum ProofFiles {
    /// The signer key in `path`: a file readable by its owner only, as `audit:keygen` wrote it.
    static func signer(_ path: String) throws -> SignedNote.Signer {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw LedgerError.notFound("no key file at \(path)", hint: "Make one with `maintledger audit:keygen --name ORIGIN --to \(path)`.")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw LedgerError.refused("the key file \(path) is readable by others (mode \(String(status.st_mode & 0o777, radix: 8)))",
                                      hint: "A private key is readable by its owner only: chmod 600 \(path), and make a new key if others may have read it.")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let signer = SignedNote.Signer(encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LedgerError.invalidInput("\(path) is not a signing key (PRIVATE+KEY+NAME+ID+KEY)", hint: "Pass the file `maintledger audit:keygen` wrote.")
        }
        return signer
    }

    /// A verifier key given as itself (`NAME+ID+KEY`) or as a file holding it.
    static func verifier(_ argument: String) throws -> SignedNote.Verifier {
        if let verifier = SignedNote.Verifier(encoded: argument) { return verifier }
        if let text = try? String(contentsOfFile: argument, encoding: .utf8),
           let verifier = SignedNote.Verifier(encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return verifier
        }
        throw LedgerError.invalidInput("'\(argument.escapingControlCharacters)' is not a verifier key (NAME+ID+KEY) or a file holding one",
                                       hint: "Pass the line `maintledger audit:keygen` printed.")
    }

    static func text(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LedgerError.notFound("cannot read \(what) \(path)", hint: nil)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LedgerError.verificationFailed("\(what) \(path) is not UTF-8 text")
        }
        return text
    }
}

struct AuditKeygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:keygen",
        abstract: "Make an Ed25519 key to sign checkpoints with, and print its verifier key.",
        discussion: HelpText.examples(["maintledger audit:keygen --name example.com/maintledger --to log.key > log.vkey"], after: """
            Writes the private key to FILE (readable by its owner only; an existing file is never overwritten) in the \
            signed-note format Go's golang.org/x/mod/sumdb/note reads, and prints the verifier key NAME+ID+KEY to give \
            to whoever checks. Keep the key file off the ledger's machine if you can.
            """))

    @Option(help: ArgumentHelp("The log's name, the checkpoints' origin line (no spaces or +), such as example.com/maintledger.", valueName: "origin"))
    var name: String
    @Option(help: ArgumentHelp("The file to write the private key to.", valueName: "file"))
    var to: String

    func validate() throws {
        guard SignedNote.isValidName(name) else { throw ValidationError("--name must be non-empty, without spaces or '+'") }
    }

    func run() throws {
        let signer = SignedNote.Signer(generatingFor: name)
        let descriptor = open(to, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = errno == EEXIST ? "it exists (keys are never overwritten)" : String(cString: strerror(errno))
            throw LedgerError.refused("cannot write the key to \(to): \(reason)", hint: "Choose another file.")
        }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        var text = signer.encoded + "\n"
        let failure = text.withUTF8 { BufferedWriter.writeFully(descriptor, UnsafeRawBufferPointer($0)) }
        guard failure == nil, fsync(descriptor) == 0 else {
            unlink(to)
            throw LedgerError.outputFailed("cannot write \(to): \(String(cString: strerror(failure ?? errno)))")
        }
        Console.output(signer.verifier.encoded)
    }
}

struct AuditCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:checkpoint",
        abstract: "Sign a checkpoint of the trail (C2SP tlog-checkpoint), record it, and print it.",
        discussion: HelpText.examples(["maintledger audit:checkpoint --key log.key > checkpoint.txt"], after: """
            Keep the printed note somewhere else: `audit:verify --checkpoint FILE --vkey KEY` then proves the ledger \
            still holds every entry it covers, unchanged. Refused (exit 3) when the ledger no longer has the tree of a \
            checkpoint recorded before.
            """))

    @Option(help: ArgumentHelp("The private key file from audit:keygen.", valueName: "file"))
    var key: String
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let signer = try ProofFiles.signer(key)
        let note = try ledger.openForWriting().recordCheckpoint(signer: signer)
        Console.output(String(note.dropLast()))
    }
}

struct AuditProve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:prove",
        abstract: "Print a proof that a trail entry is in a signed checkpoint (C2SP tlog-proof), or that a checkpoint extends an older tree.",
        discussion: HelpText.examples(["maintledger audit:prove 3 > entry3.tlog-proof"], after: """
            The proof holds the entry's content and the signed checkpoint: `audit:check-proof FILE --vkey KEY` checks it \
            with no ledger. The checkpoint is the latest recorded one (`audit:checkpoint`), or --checkpoint FILE.
            """))

    @Argument(help: "The entry's seq (see audit:trail).") var seq: Int64?
    @Option(help: ArgumentHelp("Prove instead that the checkpoint's tree extends the tree of this many entries.", valueName: "size"))
    var from: Int64?
    @Option(help: ArgumentHelp("A signed checkpoint note to prove against, instead of the latest recorded.", valueName: "file"))
    var checkpoint: String?
    @Option(help: ArgumentHelp("The verifier key of that checkpoint (with --checkpoint).", valueName: "key"))
    var vkey: [String] = []
    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        guard (seq == nil) != (from == nil) else { throw ValidationError("give either SEQ or --from SIZE") }
        guard checkpoint == nil || !vkey.isEmpty else { throw ValidationError("--checkpoint needs --vkey KEY to check it") }
    }

    func run() throws {
        let note = try checkpoint.map { try ProofFiles.text($0, what: "the checkpoint") }
        let verifiers = try vkey.map(ProofFiles.verifier)
        let queries = try ledger.openForReading()
        let proof = if let seq {
            try queries.proveInclusion(seq: seq, checkpointNote: note, verifiers: verifiers)
        } else {
            try queries.proveConsistency(from: from!, checkpointNote: note, verifiers: verifiers)
        }
        Console.output(String(proof.dropLast()))
    }
}

struct AuditCheckProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit:check-proof",
        abstract: "Check a proof from audit:prove with the log's verifier key, with no ledger.",
        discussion: HelpText.examples(["maintledger audit:check-proof entry3.tlog-proof --vkey log.vkey"], after: "Prints what the proof shows (the entry, or the trees) when it verifies; exit 3 naming what fails otherwise."))

    @Argument(help: "The proof file.") var file: String
    @Option(help: ArgumentHelp("A verifier key (NAME+ID+KEY, or a file holding it); repeatable.", valueName: "key"))
    var vkey: [String]

    func validate() throws {
        guard !vkey.isEmpty else { throw ValidationError("give the log's verifier key with --vkey KEY") }
    }

    func run() throws {
        let verifiers = try vkey.map(ProofFiles.verifier)
        switch try TrailProof.check(try ProofFiles.text(file, what: "the proof"), verifiers: verifiers) {
        case .inclusion(let checked):
            Console.output(Terminal.paintedForStandardOutput("ok") + ": entry \(checked.entry.seq) is in \(checked.checkpoint.origin)'s checkpoint of \(checked.checkpoint.size) entries")
            for maintenance in checked.maintenances { Console.output("\n" + TextFormat.keyValueBlock(maintenance)) }
            Console.output("\n" + checked.entry.json.compactText)
        case .consistency(let checked):
            Console.output(Terminal.paintedForStandardOutput("ok") + ": \(checked.checkpoint.origin)'s checkpoint of \(checked.checkpoint.size) entries extends the tree of \(checked.old.size) entries with root \(Data(checked.old.root).base64EncodedString())")
        }
    }
}
