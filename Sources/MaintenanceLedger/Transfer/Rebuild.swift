import Foundation
import LedgerCore
import LedgerStore

/// What `rebuild` made.
public struct RebuildReport: Sendable, Equatable {
    public let entryCount: Int64
    /// The last entry's hash, hex: the head `audit:verify` prints for the rebuilt ledger.
    public let headHash: String
    /// The files the trail was read from.
    public let files: Int
}

/// `rebuild --from PATH --to FILE`: a ledger made again from its trail alone.
public enum LedgerRebuild {
    /// Reads the trail at `source` (see `TrailSource`), checking its chain as it goes, replays
    /// it into a new file with every migration (`TrailReplay`) and puts that at `destination`:
    /// every table, the Merkle tree and the head as the ledger had them. Refuses an existing
    /// `destination` unless `replacing`. On any refusal nothing is at `destination` (or what was
    /// there still is) and the source is as it was: it is only read. `warn` hears what was left
    /// out of a folder; `progress` (bytes of the source replayed, bytes in all) after each
    /// megabyte or so, when the source's size is known (not for standard input).
    public static func rebuild(from source: String, to destination: String, replacing: Bool,
                               warn: (String) -> Void = { _ in }, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> RebuildReport {
        try rebuild(from: source, to: destination, replacing: replacing, batchRows: TrailReplay.batchRows, cacheRows: RowCache.generation,
                    warn: warn, progress: progress)
    }

    /// `batchRows` and `cacheRows`: see `TrailReplay.init`.
    static func rebuild(from source: String, to destination: String, replacing: Bool, batchRows: Int, cacheRows: Int,
                        warn: (String) -> Void = { _ in }, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> RebuildReport {
        // FILE appears whole or not at all, as a backup does (`NewFile`); and outside the source.
        let target = try NewFile(destination, ledger: nil, replacing: replacing, wording: .rebuild)
        defer { target.discard() }
        try refuseInside(source, destination)
        let trail = try TrailSource.open(source)
        for removed in target.removeAbandonedCopies() { warn("removed \(removed), which an interrupted rebuild left") }
        trail.warnings.forEach(warn)
        do {
            // Standard input cannot be read twice: it is replayed an entry at a time from the start.
            return try rebuild(trail, into: target, exact: source == "-", batchRows: batchRows, cacheRows: cacheRows, progress: progress)
        } catch is BatchRefused {
            // SQLite refused a batch of entries: again, an entry at a time, to name the one.
            target.discard()
            return try rebuild(trail, into: target, exact: true, batchRows: batchRows, cacheRows: cacheRows, progress: progress)
        }
    }

    private static func rebuild(_ trail: TrailSource, into target: NewFile, exact: Bool, batchRows: Int, cacheRows: Int,
                                progress: (_ done: Int, _ total: Int) -> Void) throws -> RebuildReport {
        let rebuilt: RebuiltLedger
        do {
            rebuilt = try RebuiltLedger.create(at: try target.create())
        } catch {
            throw target.writeFailure(error)
        }
        do {
            var replayed: (count: Int64, head: String) = (0, "")
            // The files are read, parsed and their hashes checked on a second thread, a batch or
            // two ahead of the replay.
            let reading = TrailReading(trail, keptTags: rebuilt.keptTags)
            let batches = ReadAhead(depth: 3) { try reading.next(budget: 1 << 20) }
            let bytes = trail.bytes
            defer { batches.stop() }
            try rebuilt.write { writer in
                var replay = TrailReplay(writer, exact: exact, batchRows: batchRows, cacheRows: cacheRows)
                while true {
                    let read: ReadBatch?
                    do {
                        read = try next(batches)
                    } catch {
                        // The entries before the problem are written first: one may break a constraint.
                        try replay.finish()
                        throw error
                    }
                    guard let batch = read else { break }
                    for entry in batch.entries {
                        do {
                            try replay.apply(entry)
                        } catch let error as LedgerError {
                            throw try settle(error, of: entry, trail, batch, batches)
                        }
                    }
                    progress(batch.bytesRead, bytes)
                }
                try replay.finish()
                do {
                    try Checkpoint.checkRecorded(writer.sql, head: replay.count)
                } catch LedgerError.verificationFailed(let message) {
                    throw LedgerError.badData("the trail does not replay: \(message.replacingOccurrences(of: "verification failed: ", with: ""))",
                                              hint: TrailLineReader.hint)
                }
                replayed = (replay.count, replay.headHash)
            }
            try rebuilt.finish()
            try target.putInPlace()
            return RebuildReport(entryCount: replayed.count, headHash: replayed.head, files: trail.files.count)
        } catch {
            rebuilt.close()
            if error is LedgerError || error is BatchRefused { throw error }
            throw target.writeFailure(error)
        }
    }

    /// The next batch; the reading's problem, if that is what comes.
    private static func next(_ batches: ReadAhead<ReadBatch>) throws -> ReadBatch? {
        do {
            return try batches.next()
        } catch let problem as TrailReadProblem {
            throw problem.error
        }
    }

    /// A replay that failed in a file with a manifest: the file is first read to its end, and
    /// if it does not match its manifest, that is the problem to report (it was changed).
    private static func settle(_ error: LedgerError, of entry: ReadEntry, _ trail: TrailSource, _ batch: ReadBatch,
                               _ batches: ReadAhead<ReadBatch>) throws -> LedgerError {
        guard case .badData = error, trail.files[entry.file].manifest != nil, !batch.filesRead.contains(entry.file) else { return error }
        while true {
            do {
                guard let batch = try batches.next() else { return error }
                if batch.filesRead.contains(entry.file) { return error }
            } catch let problem as TrailReadProblem {
                return problem.manifestOf == entry.file ? problem.error : error
            }
        }
    }

    /// The source is only read: the rebuilt ledger (and its temporary file) goes elsewhere.
    private static func refuseInside(_ source: String, _ destination: String) throws {
        guard source != "-" else { return }
        let folder = (destination as NSString).deletingLastPathComponent.isEmpty ? "." : (destination as NSString).deletingLastPathComponent
        let (resolvedSource, resolvedFolder) = (URL(fileURLWithPath: source).resolvingSymlinksInPath().path, URL(fileURLWithPath: folder).resolvingSymlinksInPath().path)
        if URL(fileURLWithPath: destination).resolvingSymlinksInPath().path == resolvedSource || resolvedFolder == resolvedSource
            || resolvedFolder.hasPrefix(resolvedSource + "/") {
            throw LedgerError.refused("\(destination) is in the source \(source), which rebuild only reads",
                                      hint: "Point --to outside what --from names.")
        }
    }
}
