-- maintledger schema, version 5: a Merkle tree over the trail, and the checkpoints signed over it.
--
-- The tree is RFC 6962's (§2.1): leaf i (from 0) is SHA-256(0x00 ‖ the 32 bytes of the hash of
-- trail entry i + 1), an inner node SHA-256(0x01 ‖ left ‖ right). Leaves are not stored (the
-- trail holds their data); every complete inner node is, once, under the seq of the last entry
-- it covers and its height: entry s completes one node per trailing 1 bit of s − 1, so the table
-- holds one row per entry, and a root or a proof reads O(log n) rows. Written in the same
-- transaction as the entry, never changed; `audit:verify` recomputes every node.
CREATE TABLE trail_tree (
    last_seq  INTEGER NOT NULL CHECK (last_seq >= 2),
    level     INTEGER NOT NULL CHECK (level BETWEEN 1 AND 62),
    hash      BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (last_seq, level)
) WITHOUT ROWID;

CREATE TRIGGER trail_tree_append_only_update BEFORE UPDATE ON trail_tree
BEGIN
    SELECT RAISE(ABORT, 'trail_tree is append-only');
END;

CREATE TRIGGER trail_tree_append_only_delete BEFORE DELETE ON trail_tree
BEGIN
    SELECT RAISE(ABORT, 'trail_tree is append-only');
END;

-- Signed checkpoints (C2SP tlog-checkpoint notes) of the tree, recorded through the trail like
-- any row: a later checkpoint must extend every earlier one (a consistency check), and exports
-- carry the latest. The note is kept verbatim, signature lines and all.
CREATE TABLE checkpoints (
    id           INTEGER PRIMARY KEY,
    origin       TEXT    NOT NULL CHECK (length(origin) > 0),
    tree_size    INTEGER NOT NULL CHECK (tree_size >= 1),
    root_hash    TEXT    NOT NULL CHECK (length(root_hash) = 44),
    note         TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL CHECK (recorded_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
);
CREATE INDEX checkpoints_by_size ON checkpoints(tree_size);

CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only');
END;

CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only');
END;
