#!/usr/bin/env python3
"""Builds the read-only query fixture for `history`: a big ledger WITHOUT trail entries.

    python3 bench/gen_fixture.py LEDGER --addons N [--per-addon K] [--seed S]

LEDGER must be a ledger maintledger has just created with `apps:create bench-app-0`. The fleet's
apps, add-ons, attachments and windows (the same fleet as gen_ledger.py) are inserted with
Python, then N·K maintenances (K per add-on, 9 days apart, 98% completed, 1.5% failed, 0.5%
cancelled, scheduled in the add-on's window) by INSERT … SELECT inside SQLite, CHECK constraints
on, with the maintenances' secondary indexes built afterwards from their own CREATE INDEX text.
No status changes are recorded: `history` does not read them.

Nothing is written to the trail: `audit:verify` refuses this file (rows appear in no entry).
It exists only to time queries on a ledger of a size the CLI cannot build in useful time.
"""

import argparse
import os
import sqlite3
import sys
import time

import model

APPLICATION_ID = 1296387143


def text_time(ms):
    """SQL: the storage text of an epoch-ms integer expression. (Given seconds as a real, SQLite
    rounds the time to the millisecond, so %f writes the same text as %S || printf('.%03d') did,
    row for row on the 10M fixture, for a quarter less work.)"""
    return f"strftime('%Y-%m-%dT%H:%M:%fZ', ({ms}) / 1000.0, 'unixepoch')"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger")
    parser.add_argument("--addons", type=int, required=True)
    parser.add_argument("--per-addon", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    now_ms = model.parse_stored(os.environ.get("MAINTLEDGER_NOW", "2026-01-01T00:00:00Z"))
    actor = os.environ.get("MAINTLEDGER_ACTOR", "bench")
    recorded_at = model.stored(now_ms)
    started = time.monotonic()
    spacing = 9 * model.MS_DAY
    last = model.FLEET_START + 90 * model.MS_DAY + (args.per_addon + 1) * spacing
    if last >= now_ms:
        raise SystemExit("bench: the fixture's maintenances would run past MAINTLEDGER_NOW; use fewer --per-addon")

    db = sqlite3.connect(args.ledger, isolation_level=None)
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        raise SystemExit(f"bench: {args.ledger} is not a maintledger ledger")
    model.check_columns(db)
    if db.execute("SELECT count(*) FROM addons").fetchone()[0] != 0:
        raise SystemExit(f"bench: {args.ledger} should be a new ledger")
    app0_uuid = db.execute("SELECT uuid FROM apps WHERE id = 1 AND name = 'bench-app-0'").fetchone()[0]
    db.execute("PRAGMA journal_mode = OFF")  # a fixture: a failed build is thrown away
    db.execute("PRAGMA synchronous = OFF")
    # A small page cache, and temporary storage left in files: CREATE INDEX then sorts runs of
    # about the cache's size and merges them from temporary files, and helper threads (one per
    # core) sort and merge in parallel. The 10M rows' seven indexes took 160 s with a 2 GB cache
    # and temp_store = MEMORY (one in-memory sort of all 10M keys per index); 125 s like this on
    # one thread, 90 s with the second core.
    db.execute("PRAGMA cache_size = -50000")
    db.execute(f"PRAGMA threads = {min(8, os.cpu_count() or 1)}")
    db.execute("BEGIN IMMEDIATE")

    apps, addons = model.fleet(args.addons, args.seed, app0_uuid=app0_uuid)
    db.executemany("INSERT INTO apps VALUES (?, ?, ?, 0, ?)", [(i, u, n, recorded_at) for i, u, n in apps[1:]])
    windows = [a for a in addons if a.window]
    db.executemany("INSERT INTO addons VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL)",
                   [(a.id, a.uuid, a.name, a.service, a.plan, a.app_id, model.stored(a.server_created),
                     model.stored(a.server_created)) for a in addons])
    db.executemany("INSERT INTO attachments VALUES (?, ?, ?, ?, ?, NULL)",
                   [(a.id, a.app_id, a.id, a.attachment, model.stored(a.server_created)) for a in addons])
    db.executemany("INSERT INTO windows VALUES (?, ?, ?, ?, 240, 'default', ?, ?)",
                   [(n + 1, a.id, a.window[0], a.window[1], model.stored(a.server_created), actor) for n, a in enumerate(windows)])
    db.execute("CREATE TEMP TABLE bench_addon (id INTEGER PRIMARY KEY, day INTEGER, start INTEGER, window_text TEXT, "
               "server_created INTEGER, server_created_text TEXT, method TEXT)")
    db.executemany("INSERT INTO bench_addon VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [(a.id, a.window[0] if a.window else None, a.window[1] if a.window else None, a.window_text,
                     a.server_created, model.stored(a.server_created), a.method) for a in addons])
    db.execute(f"CREATE TEMP TABLE bench_round AS WITH RECURSIVE r(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM r WHERE k < {args.per_addon - 1}) SELECT k FROM r")
    print(f"gen_fixture: {len(apps)} apps, {len(addons)} add-ons in {time.monotonic() - started:.1f} s", file=sys.stderr)

    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                         "AND tbl_name = 'maintenances' ORDER BY rowid").fetchall()
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")

    n = args.addons
    # Each layer computes a few columns from the one below. LIMIT -1 OFFSET 0 keeps SQLite from
    # flattening a layer into the next (it would then compute an expression once per use, and
    # the uses multiply layer by layer): each layer runs as a co-routine, one row at a time.
    keep = "LIMIT -1 OFFSET 0"
    # Layer 1: the row number i (in id order: the table and its uuid index are appended to) and a
    # few independent-looking hashes of it.
    hashes = ", ".join(f"((i + {c}) * 2654435761 + {args.seed}) % 4294967296 AS h{c}" for c in range(1, 6))
    layer1 = f"SELECT *, {hashes} FROM (SELECT r.k * {n} + a.id AS i, r.k AS k, a.* FROM bench_round r CROSS JOIN bench_addon a) {keep}"
    # Layer 2: required_by, then a target a week or so before it, and the window start of that week.
    layer2 = f"SELECT *, target - (target / 86400000 + 4) % 7 * 86400000 - target % 86400000 + (day * 1440 + start) * 60000 AS candidate " \
             f"FROM (SELECT *, required_by - 7 * 86400000 - h2 % (3 * 86400000) AS target " \
             f"FROM (SELECT *, server_created + (k + 1) * {spacing} - h1 % (2 * 86400000) AS required_by FROM ({layer1}) {keep}) {keep}) {keep}"
    # Layer 3: scheduled at the first window start at or after the target; the outcome.
    layer3 = f"SELECT *, CASE WHEN day IS NULL THEN target WHEN candidate < target THEN candidate + 604800000 ELSE candidate END AS scheduled, " \
             f"CASE WHEN h3 % 1000 < 980 THEN 'completed' WHEN h3 % 1000 < 995 THEN 'failed' ELSE 'cancelled' END AS status FROM ({layer2}) {keep}"
    layer4 = f"SELECT *, CASE WHEN status = 'cancelled' THEN NULL ELSE scheduled + 10000 + h4 % 170000 END AS started FROM ({layer3}) {keep}"
    layer5 = f"SELECT i, id, h1, h2, h3, h4, h5, window_text, method, server_created_text, required_by, scheduled, status, started, " \
             f"CASE WHEN status = 'completed' THEN started + 120000 + h5 % 480000 END AS completed FROM ({layer4}) {keep}"
    layer6 = f"SELECT *, {text_time('scheduled')} AS scheduled_text FROM ({layer5}) {keep}"
    uuid = "printf('%08x-%04x-4%03x-8%03x-%012x', i, h1 % 65536, h2 % 4096, h3 % 4096, (h5 * 4096 + h4 % 4096) % 281474976710656)"
    select = (f"SELECT i, {uuid}, id, status, 'routine_maintenance', method, {text_time('required_by')}, scheduled_text, "
              f"NULL, window_text, 0, CASE WHEN started IS NOT NULL THEN {text_time('started')} END, "
              f"CASE WHEN completed IS NOT NULL THEN {text_time('completed')} END, (completed - started) / 1000, "
              f"server_created_text, 0, 0, scheduled_text FROM ({layer6})")
    t0 = time.monotonic()
    db.execute("INSERT INTO maintenances " + select)
    count = db.execute("SELECT max(id) FROM maintenances").fetchone()[0]
    print(f"gen_fixture: {count} maintenances inserted in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    t0 = time.monotonic()
    for _, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    print(f"gen_fixture: indexes in {time.monotonic() - t0:.1f} s; fixture built in {time.monotonic() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
