-- maintledger schema, version 6: the compact trail (format 2) and a sparser Merkle tree.
--
-- Entries recorded from now on are format 2 (docs/trail-format.md defines it byte for byte): the
-- payload is a BLOB holding each inserted row whole and, for an updated row, only the columns
-- set and a 16-byte digest of the row after; the hash is its 32 bytes; prev_hash is NULL, as the
-- link is the previous entry's hash, stored there. Format 1 entries (JSON payloads, hex hashes)
-- are copied as they are and keep verifying. The table is rebuilt without the CHECKs and the
-- UNIQUE index on hash that the chain's own rules make redundant: `audit:verify` recomputes
-- every hash and link, and the triggers keep the trail append-only and in sequence.
CREATE TABLE audit_trail_v6 (
    seq          INTEGER PRIMARY KEY,
    recorded_at  TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    payload              NOT NULL, -- format 1: JSON text; format 2: BLOB
    prev_hash    TEXT,             -- format 1: hex text; format 2: NULL
    hash                 NOT NULL  -- format 1: hex text; format 2: 32-byte BLOB
);
INSERT INTO audit_trail_v6 SELECT * FROM audit_trail;
DROP TABLE audit_trail;
ALTER TABLE audit_trail_v6 RENAME TO audit_trail;

CREATE TRIGGER audit_trail_append_only_update BEFORE UPDATE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'audit_trail is append-only');
END;

CREATE TRIGGER audit_trail_append_only_delete BEFORE DELETE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'audit_trail is append-only');
END;

-- Entries come in order (ORDER BY … LIMIT 1 reads the last one through the primary key).
CREATE TRIGGER audit_trail_chained BEFORE INSERT ON audit_trail
WHEN NEW.seq IS NOT coalesce((SELECT seq FROM audit_trail ORDER BY seq DESC LIMIT 1), 0) + 1
BEGIN
    SELECT RAISE(ABORT, 'audit_trail entries must extend the chain');
END;

-- The tree keeps its nodes of level 4 and up (one row per 16 entries instead of one per entry);
-- a node below is the hash of at most 16 entries' hashes, read from the trail when a root or a
-- proof needs it. The nodes dropped here are derived data: `audit:verify` recomputes them all.
DROP TRIGGER trail_tree_append_only_delete;
DELETE FROM trail_tree WHERE level < 4;
CREATE TRIGGER trail_tree_append_only_delete BEFORE DELETE ON trail_tree
BEGIN
    SELECT RAISE(ABORT, 'trail_tree is append-only');
END;
