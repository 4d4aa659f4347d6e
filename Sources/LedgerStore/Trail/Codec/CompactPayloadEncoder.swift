import LedgerCore

/// Writes a format 2 payload value by value, each value in the one form the format fixes for
/// it. `CompactPayloadWriter` feeds it the rows a command wrote, read back from SQLite; the
/// fuzz target (fuzz/trail) feeds it what `CompactPayloadParser` accepted, which must give back
/// the very bytes read.
package struct CompactPayloadEncoder: Sendable {
    private let recordedAt: [UInt8]
    private let actor: [UInt8]
    /// The instants `recordedAt` and `actor` are the stored form of, if they are.
    private let recordedAtTime: Timestamp?
    private let actorTime: Timestamp?
    package private(set) var bytes: [UInt8] = []

    package init(recordedAt: String, actor: String) {
        self.recordedAt = Array(recordedAt.utf8)
        self.actor = Array(actor.utf8)
        recordedAtTime = self.recordedAt.withUnsafeBytes { Timestamp(storageBytes: $0) }
        actorTime = self.actor.withUnsafeBytes { Timestamp(storageBytes: $0) }
    }

    /// A change's code and row id, and how many values follow: an insert's, one for every
    /// column after id (`null()`, `integer(_:)`, …); an update's, one for every column it set,
    /// each a `column(_:)` and its value, then the row's `digest(_:)`.
    package mutating func begin(_ operation: CompactTrail.Operation, _ table: LedgerTable, id: Int64, count: Int) {
        bytes.append(operation.rawValue << 4 | table.code)
        CompactTrail.appendVarint(UInt64(id), to: &bytes)
        CompactTrail.appendVarint(UInt64(count), to: &bytes)
    }

    /// Values already in this encoding, made by another encoder of the same entry (`PreparedRows`).
    package mutating func encoded(_ values: some Collection<UInt8>) {
        bytes.append(contentsOf: values)
    }

    /// Forgets what was written so far.
    package mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// The position of a column an update set, before its value.
    package mutating func column(_ position: Int) {
        CompactTrail.appendVarint(UInt64(position), to: &bytes)
    }

    /// An update's digest of the whole row after it (`CompactTrail.digestCount` bytes), last.
    package mutating func digest(_ digest: some Collection<UInt8>) {
        bytes.append(contentsOf: digest)
    }

    package mutating func null() {
        bytes.append(CompactTrail.Tag.null.rawValue)
    }

    package mutating func integer(_ number: Int64) {
        bytes.append(CompactTrail.Tag.integer.rawValue)
        CompactTrail.appendVarint(CompactTrail.zigzag(number), to: &bytes)
    }

    package mutating func real(_ number: Double) {
        CompactTrail.appendPlain(.real(number), to: &bytes)
    }

    package mutating func blob(_ blob: UnsafeRawBufferPointer) {
        CompactTrail.appendPlainBytes(.blob, blob, to: &bytes)
    }

    /// A text in the shortest of its forms, tried in the order the format fixes.
    package mutating func text(_ text: UnsafeRawBufferPointer) {
        if text.elementsEqual(recordedAt) {
            bytes.append(CompactTrail.Tag.recordedAt.rawValue)
        } else if text.elementsEqual(actor) {
            bytes.append(CompactTrail.Tag.actor.rawValue)
        } else if let time = Timestamp(storageBytes: text) {
            bytes.append(CompactTrail.Tag.time.rawValue)
            CompactTrail.appendVarint(CompactTrail.zigzag(time.millisecondsSinceEpoch), to: &bytes)
        } else if let uuid = UUIDText.bytes(text) {
            bytes.append(CompactTrail.Tag.uuid.rawValue)
            bytes.append(contentsOf: uuid)
        } else {
            CompactTrail.appendPlainBytes(.text, text, to: &bytes)
        }
    }

    /// A time, bound as its storage text, in the form `text(_:)` would find for that text,
    /// without making it: its text is the entry's time or actor exactly when it is the instant
    /// they are the stored form of, and is itself in the stored form when that can hold it.
    package mutating func time(_ time: Timestamp) {
        if time == recordedAtTime {
            bytes.append(CompactTrail.Tag.recordedAt.rawValue)
        } else if time == actorTime {
            bytes.append(CompactTrail.Tag.actor.rawValue)
        } else if time.isStorable {
            bytes.append(CompactTrail.Tag.time.rawValue)
            CompactTrail.appendVarint(CompactTrail.zigzag(time.millisecondsSinceEpoch), to: &bytes)
        } else {
            var text: [UInt8] = []
            time.appendStorageText(to: &text)
            text.withUnsafeBytes { self.text($0) }
        }
    }
}
