#!/usr/bin/env python3
"""Appends entries to a new ledger's trail, with their Merkle tree, for timing the proofs.

    python3 bench/gen_trail.py LEDGER --entries N

LEDGER must be a ledger maintledger has just created with `apps:create bench-app-0`. This
appends entries up to N in all, chained and hashed exactly as maintledger does (trail format 2,
docs/trail-format.md), with the trail_tree nodes each completes: `maintenance:on` and
`maintenance:off` of bench-app-0 in turn, each an update of its apps row, as maintledger records
those commands. The apps row ends as the last entry left it, so `audit:verify` accepts the file;
it exists to time what reads the trail's head and tree (`audit:checkpoint`, `audit:prove`) on a
trail far longer than the CLI builds in useful time.
"""

import argparse
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
    model.check_columns(db)
    app = db.execute("SELECT * FROM apps WHERE name = 'bench-app-0'").fetchone()
    if app is None or app[3] != 0:
        raise SystemExit(f"bench: {args.ledger} should hold bench-app-0, out of maintenance mode")
    trail = model.Trail(db)
    recorded_at, actor, subject = "2026-01-01T00:00:00.000Z", "bench", "app:bench-app-0"
    # Each command sets maintenance_mode; the row after it, and so the payload, is one of two.
    commands = [(action, model.update("apps", app[:3] + (mode,) + app[4:], ["maintenance_mode"], recorded_at, actor))
                for action, mode in [("maintenance:off", 0), ("maintenance:on", 1)]]
    db.execute("BEGIN")
    mode = 0
    while trail.seq < args.entries:
        mode = 1 - mode
        action, payload = commands[mode]
        trail.append(recorded_at, actor, action, subject, payload)
        if len(trail.entries) >= 100_000 or trail.seq == args.entries:
            trail.flush(db)
            if trail.seq % 1_000_000 == 0:
                print(f"gen_trail: {trail.seq} entries, {time.monotonic() - started:.0f} s", file=sys.stderr)
    db.execute("UPDATE apps SET maintenance_mode = ? WHERE id = ?", (mode, app[0]))
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    print(f"gen_trail: {trail.seq} entries in {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
