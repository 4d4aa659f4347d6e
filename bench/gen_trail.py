#!/usr/bin/env python3
"""Appends entries to a new ledger's trail, with their Merkle tree, for timing the proofs.

    python3 bench/gen_trail.py LEDGER --entries N

LEDGER must be a ledger maintledger has just created with `apps:create bench-app-0`. This
appends entries up to N in all, each an `audit:note` entry with an empty change list, chained
and hashed exactly as maintledger does, and the trail_tree nodes each completes. The payloads
change no table, so `audit:verify` refuses the file (their shape is not a command's): it exists
only to time what reads the trail's head and tree (`audit:checkpoint`, `audit:prove`) on a
trail far longer than the CLI builds in useful time.
"""

import argparse
import hashlib
import sqlite3
import sys
import time

import model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger")
    parser.add_argument("--entries", type=int, required=True)
    args = parser.parse_args()
    started = time.monotonic()
    db = sqlite3.connect(args.ledger, isolation_level=None)
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    seq, head = db.execute("SELECT seq, hash FROM audit_trail ORDER BY seq DESC LIMIT 1").fetchone()
    edge = model.TreeEdge(db)
    recorded_at, payload = "2026-01-01T00:00:00.000Z", '{"changes":[]}'
    db.execute("BEGIN")
    trail, tree = [], []
    while seq < args.entries:
        seq += 1
        digest = hashlib.sha256((head + model.canonical(seq, recorded_at, "bench", "audit:note", "trail:bench", payload)).encode()).hexdigest()
        trail.append((seq, recorded_at, "bench", "audit:note", "trail:bench", payload, head, digest))
        head = digest
        tree.extend((seq, level, node) for level, node in edge.append(digest))
        if len(trail) >= 100_000 or seq == args.entries:
            db.executemany("INSERT INTO audit_trail VALUES (?, ?, ?, ?, ?, ?, ?, ?)", trail)
            db.executemany("INSERT INTO trail_tree (last_seq, level, hash) VALUES (?, ?, ?)", tree)
            trail.clear()
            tree.clear()
            if seq % 1_000_000 == 0:
                print(f"gen_trail: {seq} entries, {time.monotonic() - started:.0f} s", file=sys.stderr)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    print(f"gen_trail: {seq} entries in {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
