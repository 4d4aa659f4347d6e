import Foundation
import LedgerCore
import LedgerStore

/// Proofs an outsider checks with no ledger: that an entry is in a signed checkpoint's tree
/// (C2SP tlog-proof, https://c2sp.org/tlog-proof), or that one tree extends another.
///
/// An inclusion proof's `extra` data is exactly what the entry's hash covers
/// (`TrailEntry.hashedBytes`, of either format). SHA-256 of it is the entry's hash, whose 32
/// bytes are the leaf's data: the checker needs nothing else.
public enum TrailProof {
    public static let inclusionHeader = "c2sp.org/tlog-proof@v1"
    /// A consistency proof, in the same shape: this header, `old SIZE ROOT`, the RFC 6962 §2.1.2
    /// proof a hash a line, a blank line and the newer tree's signed checkpoint.
    public static let consistencyHeader = "maintledger.dev/tlog-consistency-proof@v1"

    static func lines(_ hashes: [Merkle.Hash]) -> String {
        hashes.map { Data($0).base64EncodedString() + "\n" }.joined()
    }

    /// What an inclusion proof shows, once checked.
    public struct CheckedEntry {
        public let checkpoint: Checkpoint
        public let entry: TrailEntry

        /// Each maintenance the entry recorded, as `data:maintenances:info` shows one, from what
        /// the proven entry holds: its row as the entry leaves it (an insert's whole row, an
        /// update's columns set, merged in order, with the row's id), and the add-on its subject
        /// names (the app, plan and window are other rows, which this entry does not prove).
        public var maintenances: [[(String, String)]] {
            guard case .array(let changes)? = entry.parsedPayload?["changes"] else { return [] }
            let addon = entry.subject.hasPrefix("addon:") ? String(entry.subject.dropFirst(6)) : nil
            var rows: [(id: JSONValue, columns: [(String, JSONValue)])] = []
            for change in changes where change["table"] == .string("maintenances") {
                guard case .object(let columns)? = change["row"], let id = change["row"]?["id"] else { continue }
                if let index = rows.firstIndex(where: { $0.id == id }) {
                    for (name, value) in columns {
                        if let column = rows[index].columns.firstIndex(where: { $0.0 == name }) { rows[index].columns[column].1 = value }
                        else { rows[index].columns.append((name, value)) }
                    }
                } else {
                    rows.append((id, columns))
                }
            }
            return rows.map { Self.infoFields($0.columns, addon: addon) }
        }

        private static let shown = ["id", "status", "reason", "method", "required_by", "scheduled_for", "previously_scheduled_for", "window",
                                    "started_at", "completed_at", "duration_seconds", "server_created_at", "uuid"]

        private static func infoFields(_ row: [(String, JSONValue)], addon: String?) -> [(String, String)] {
            var fields: [(String, String)] = addon.map { [("addon_name", $0)] } ?? []
            for (key, value) in row where shown.contains(key) {
                switch value {
                case .string(let text): fields.append((key, key.hasSuffix("_at") || key.hasSuffix("_by") || key.hasSuffix("_for")
                                                           ? Timestamp(iso: text)?.isoText ?? text : text))
                case .int(let number):
                    fields.append((key, String(number)))
                    if key == "duration_seconds" { fields.append(("duration_approximate", "~ " + DurationWording.approximate(seconds: number))) }
                default: continue
                }
            }
            return fields.sorted { $0.0 < $1.0 }
        }
    }

    /// What a consistency proof shows, once checked.
    public struct CheckedExtension {
        public let old: (size: Int64, root: Merkle.Hash)
        public let checkpoint: Checkpoint
    }

    public enum Checked {
        case inclusion(CheckedEntry)
        case consistency(CheckedExtension)
    }

    /// `audit:check-proof`: checks a proof file against the verifier keys; exit 3 naming what fails.
    public static func check(_ text: String, verifiers: [SignedNote.Verifier]) throws -> Checked {
        let bad = { (problem: String) in LedgerError.verificationFailed("the proof does not verify: \(problem)") }
        guard let blank = text.range(of: "\n\n") else { throw bad("it has no blank line before its checkpoint") }
        var lines = text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let checkpoint = try Checkpoint.open(String(text[blank.upperBound...]), verifiers: verifiers, what: "the proof's checkpoint")
        let header = lines.removeFirst()
        func hashes(_ lines: ArraySlice<String>) throws -> [Merkle.Hash] {
            try lines.map { line in
                guard let hash = Data(base64Encoded: line), hash.count == 32 else { throw bad("'\(line.escapingControlCharacters)' is not a base64 SHA-256 hash") }
                return Array(hash)
            }
        }
        switch header {
        case inclusionHeader:
            guard lines.count >= 2, lines[0].hasPrefix("extra "), let extra = Data(base64Encoded: String(lines[0].dropFirst(6))) else {
                throw bad("it has no `extra` line holding the entry")
            }
            guard lines[1].hasPrefix("index "), let index = Int64(lines[1].dropFirst(6)), index >= 0 else { throw bad("it has no `index N` line") }
            guard let entry = TrailEntry(hashedBytes: Array(extra)), entry.seq == index + 1 else {
                throw bad("its extra data is not the trail entry at index \(index)")
            }
            guard index < checkpoint.size else { throw bad("index \(index) is beyond the checkpoint's \(checkpoint.size) entries") }
            let leaf = Merkle.leafHash(Hex.decode(entry.hash)!)
            guard Merkle.verifyInclusion(index: index, size: checkpoint.size, leaf: leaf, proof: try hashes(lines[2...]), root: checkpoint.root) else {
                throw bad("entry \(entry.seq) is not in the tree of the checkpoint's \(checkpoint.size) entries")
            }
            return .inclusion(CheckedEntry(checkpoint: checkpoint, entry: entry))
        case consistencyHeader:
            let fields = lines.first?.split(separator: " ").map(String.init) ?? []
            guard fields.count == 3, fields[0] == "old", let size = Int64(fields[1]), size >= 1,
                  let root = Data(base64Encoded: fields[2]), root.count == 32 else { throw bad("it has no `old SIZE ROOT` line") }
            guard Merkle.verifyConsistency(old: size, new: checkpoint.size, oldRoot: Array(root), newRoot: checkpoint.root,
                                           proof: try hashes(lines.dropFirst())) else {
                throw bad("the checkpoint's tree of \(checkpoint.size) entries does not extend the tree of \(size) entries with that root")
            }
            return .consistency(CheckedExtension(old: (size, Array(root)), checkpoint: checkpoint))
        default:
            throw bad("its first line is neither \(inclusionHeader) nor \(consistencyHeader)")
        }
    }
}

extension LedgerQuerying {
    /// The signed checkpoint a proof is made against: `note` (checked against the ledger), or the
    /// latest recorded one, which must cover `size` entries.
    private func checkpointNote(_ note: String?, covering size: Int64, verifiers: [SignedNote.Verifier]) throws -> (String, Checkpoint) {
        if let note {
            let checkpoint = try Checkpoint.open(note, verifiers: verifiers, what: "the checkpoint")
            try checkAgainst(checkpoint, what: "the checkpoint")
            guard checkpoint.size >= size else {
                throw LedgerError.refused("the checkpoint covers \(checkpoint.size) entries, not \(size)", hint: "Record a newer one with `maintledger audit:checkpoint --key KEY`.")
            }
            return (note, checkpoint)
        }
        guard let latest = try latestCheckpoint(), let text = latest.range(of: "\n\n").map({ String(latest[..<$0.lowerBound]) + "\n" }),
              let checkpoint = Checkpoint(text: text), checkpoint.size >= size else {
            throw LedgerError.refused("no checkpoint recorded in the ledger covers \(size) entries",
                                      hint: "Record one with `maintledger audit:checkpoint --key KEY`, or pass one with --checkpoint FILE.")
        }
        try checkAgainst(checkpoint, what: "the latest checkpoint")
        return (latest, checkpoint)
    }

    /// `audit:prove SEQ`: the entry's inclusion proof in the C2SP tlog-proof format.
    public func proveInclusion(seq: Int64, checkpointNote note: String?, verifiers: [SignedNote.Verifier]) throws -> String {
        let head = try reader.read { sql in try sql.value(Int64.self, "SELECT seq FROM audit_trail ORDER BY seq DESC LIMIT 1") } ?? 0
        guard seq >= 1, seq <= head else {
            throw LedgerError.notFound("no trail entry \(seq): the trail holds entries 1 to \(head)", hint: "Pick a seq from `maintledger audit:trail`.")
        }
        let (signed, checkpoint) = try checkpointNote(note, covering: seq, verifiers: verifiers)
        return try reader.read { sql in
            guard let entry = try sql.one(TrailEntry.self, TrailEntry.selectSQL("WHERE t.seq = ?"), [seq]) else {
                throw LedgerError.notFound("no trail entry \(seq)", hint: nil)
            }
            let proof = try TrailTree(sql).inclusionProof(index: seq - 1, size: checkpoint.size)
            return TrailProof.inclusionHeader + "\n" + "extra " + Data(entry.hashedBytes).base64EncodedString() + "\n"
                + "index \(seq - 1)\n" + TrailProof.lines(proof) + "\n" + signed
        }
    }

    /// `audit:prove --from OLD_SIZE`: that the checkpoint's tree extends the tree of `old` entries.
    public func proveConsistency(from old: Int64, checkpointNote note: String?, verifiers: [SignedNote.Verifier]) throws -> String {
        let (signed, checkpoint) = try checkpointNote(note, covering: max(old, 1), verifiers: verifiers)
        guard old >= 1, old <= checkpoint.size else {
            throw LedgerError.invalidInput("--from \(old) is not between 1 and the checkpoint's \(checkpoint.size) entries", hint: nil)
        }
        return try reader.read { sql in
            let tree = TrailTree(sql)
            let proof = try tree.consistencyProof(old: old, new: checkpoint.size)
            return TrailProof.consistencyHeader + "\n" + "old \(old) " + Data(try tree.root(size: old)).base64EncodedString() + "\n"
                + TrailProof.lines(proof) + "\n" + signed
        }
    }
}
