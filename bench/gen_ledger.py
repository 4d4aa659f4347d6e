#!/usr/bin/env python3
"""Fills a new ledger with a fleet and its maintenances, with a trail `audit:verify` accepts.

    python3 bench/gen_ledger.py LEDGER --addons N [--per-addon K] [--seed S] [--import-out DIR]

LEDGER must be a ledger maintledger has just created with `apps:create bench-app-0` (schema
migrated, one trail entry). This appends, as maintledger itself records them:
  - one `apps:create` entry per further app (its apps row),
  - one `addons:create` entry per add-on (its addons, attachments and windows rows),
  - one `import` entry (subject `file:bench`) per maintenance (its maintenances row and the
    maintenance_status_changes rows of the lifecycle `import` records),
each with recorded_at = MAINTLEDGER_NOW and actor = MAINTLEDGER_ACTOR, in trail format 2
(docs/trail-format.md, bench/model.py): a payload holding each row inserted, whole, a 32-byte
hash chained to the entry before, and the Merkle tree's nodes of level 4 and up.
(`import` of a file records its lines a hundred to an entry; these are what it records for a
file of one line, the trail's longest shape for the same rows.)

Status-change ids are 3·(maintenance id − 1) + 1…3 (a cancelled maintenance has two changes and
leaves its third id unused), so that blocks of maintenances can be rendered in parallel.

With --import-out DIR it also writes the same fleet as DIR/import.ndjson: one
`data:maintenances:info --json` object per line, what `import` reads.
"""

import argparse
import multiprocessing
import os
import sqlite3
import sys
import time

import model

APPLICATION_ID = 1296387143

# Set before the worker processes fork; they read it.
FLEET = None


def render_block(start):
    """Rows, trail payloads (and import lines) of maintenances start…start+CHUNK-1."""
    addons, per_addon, seed, now_ms, actor, with_import = FLEET
    recorded_at = model.stored(now_ms)
    stop = min(start + model.CHUNK, len(addons) * per_addon)
    maintenance_rows, change_rows, payloads = [], [], []
    ndjson = []
    mid = start
    for m in model.maintenances(addons, per_addon, seed, now_ms, start, stop):
        mid += 1
        row = m.row(mid)
        changes = [model.insert("maintenances", row, recorded_at, actor)]
        change_id = 3 * (mid - 1)
        for from_status, to_status, at in m.lifecycle():
            change_id += 1
            change_row = (change_id, mid, from_status, to_status, model.stored(at), actor)
            change_rows.append(change_row)
            changes.append(model.insert("maintenance_status_changes", change_row, recorded_at, actor))
        maintenance_rows.append(row)
        payloads.append(b"".join(changes))
        if with_import:
            ndjson.append(m.info_json())
    return maintenance_rows, change_rows, payloads, ("\n".join(ndjson) + "\n" if with_import else "")


def main():
    global FLEET
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger")
    parser.add_argument("--addons", type=int, required=True)
    parser.add_argument("--per-addon", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--import-out", metavar="DIR")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    now_text = os.environ.get("MAINTLEDGER_NOW", "2026-01-01T00:00:00Z")
    actor = os.environ.get("MAINTLEDGER_ACTOR", "bench")
    now_ms = model.parse_stored(now_text)
    recorded_at = model.stored(now_ms)
    started = time.monotonic()

    db = sqlite3.connect(args.ledger, isolation_level=None)
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        raise SystemExit(f"bench: {args.ledger} is not a maintledger ledger")
    model.check_columns(db)
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in model.COLUMNS}
    if counts != {"apps": 1, "addons": 0, "attachments": 0, "windows": 0, "maintenances": 0, "maintenance_status_changes": 0}:
        raise SystemExit(f"bench: {args.ledger} should hold just bench-app-0, holds {counts}")
    app0_uuid, app0_name = db.execute("SELECT uuid, name FROM apps WHERE id = 1").fetchone()
    if app0_name != "bench-app-0":
        raise SystemExit(f"bench: {args.ledger} should hold just bench-app-0, holds {app0_name}")

    # One writer, no readers: a rollback journal (new pages need none), a large cache, and
    # statement journals in memory.
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1500000")
    db.execute("PRAGMA temp_store = MEMORY")
    # Rows are valid by construction, and `audit:verify` runs integrity_check, which checks
    # CHECK constraints too: skipping them here halves the insert time.
    db.execute("PRAGMA ignore_check_constraints = 1")
    db.execute("BEGIN IMMEDIATE")
    # Secondary indexes of the big tables are built once at the end (a sort) instead of row by
    # row; each is re-created from its own CREATE INDEX text, so the schema ends as migrated.
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                         "AND tbl_name IN ('maintenances', 'maintenance_status_changes') ORDER BY rowid").fetchall()
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")

    apps, addons = model.fleet(args.addons, args.seed, app0_uuid=app0_uuid)
    trail = model.Trail(db)

    def entry(action, subject, changes):
        trail.append(recorded_at, actor, action, subject, b"".join(changes))

    # Apps (app 1 exists), recorded as apps:create records them.
    app_rows = []
    for app_id, uuid, name in apps[1:]:
        row = (app_id, uuid, name, 0, recorded_at)
        app_rows.append(row)
        entry("apps:create", "app:" + name, [model.insert("apps", row, recorded_at, actor)])
    db.executemany("INSERT INTO apps VALUES (?, ?, ?, ?, ?)", app_rows)
    trail.flush(db)

    # Add-ons, provisioned as `import` provisions them: known since their server was made.
    addon_rows, attachment_rows, window_rows = [], [], []
    for a in addons:
        provisioned = model.stored(a.server_created)
        addon_row = (a.id, a.uuid, a.name, a.service, a.plan, None, a.app_id, provisioned, provisioned, None)
        attachment_row = (a.id, a.app_id, a.id, a.attachment, provisioned, None)
        changes = [model.insert("addons", addon_row, recorded_at, actor), model.insert("attachments", attachment_row, recorded_at, actor)]
        addon_rows.append(addon_row)
        attachment_rows.append(attachment_row)
        if a.window:
            window_row = (len(window_rows) + 1, a.id, a.window[0], a.window[1], 240, "default", provisioned, actor)
            window_rows.append(window_row)
            changes.append(model.insert("windows", window_row, recorded_at, actor))
        entry("addons:create", "addon:" + a.name, changes)
    db.executemany("INSERT INTO addons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", addon_rows)
    db.executemany("INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?)", attachment_rows)
    db.executemany("INSERT INTO windows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", window_rows)
    trail.flush(db)
    print(f"gen_ledger: {len(apps)} apps, {len(addons)} add-ons in {time.monotonic() - started:.1f} s", file=sys.stderr)

    ndjson_file = None
    if args.import_out:
        os.makedirs(args.import_out, exist_ok=True)
        ndjson_file = open(os.path.join(args.import_out, "import.ndjson"), "w")

    # Maintenances, one `import` entry each: blocks rendered by the workers, chained and
    # inserted here in order.
    total = args.addons * args.per_addon
    FLEET = (addons, args.per_addon, args.seed, now_ms, actor, bool(args.import_out))
    done = 0
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        for maintenance_rows, change_rows, payloads, ndjson in pool.imap(render_block, range(0, total, model.CHUNK)):
            db.executemany("INSERT INTO maintenances VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", maintenance_rows)
            db.executemany("INSERT INTO maintenance_status_changes VALUES (?, ?, ?, ?, ?, ?)", change_rows)
            for payload in payloads:
                trail.append(recorded_at, actor, "import", "file:bench", payload)
            trail.flush(db)
            if ndjson_file:
                ndjson_file.write(ndjson)
            previous, done = done, done + len(maintenance_rows)
            if done * 10 // total != previous * 10 // total:
                print(f"gen_ledger: {done}/{total} maintenances, {time.monotonic() - started:.0f} s", file=sys.stderr)
    if ndjson_file:
        ndjson_file.close()
    t0 = time.monotonic()
    for _, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    print(f"gen_ledger: {len(apps)} apps, {len(addons)} add-ons, {total} maintenances and {trail.seq} trail entries "
          f"in {time.monotonic() - started:.1f} s (indexes and commit {time.monotonic() - t0:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
