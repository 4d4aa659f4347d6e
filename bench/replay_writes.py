#!/usr/bin/env python3
"""The writes a simulated fleet's engine made, replayed through SQLite alone: a floor for `simulate`.

`simulate`'s row-copy baseline writes each finished row once. The engine cannot: it records each
step as it happens, so every maintenance is inserted and then updated as it moves to preparing,
ready, running and completed (each update moving its entries in the status and time indexes),
with a status change row per step and a notice per scheduling. This script reads a simulated
ledger and makes exactly those writes, in the order they were made (status changes by id), into
an empty file with the same schema (CHECKs, indexes, foreign keys and triggers on), through
prepared statements with bound values, one transaction per 30 days as simulate commits: no
reads, no rules, no trail. What `simulate` spends beyond it is the rules' reads, the trail
(encoding each change, reading rows back for their digests, hashing) and Swift's own work.

Usage: replay_writes.py SIMULATED_LEDGER EMPTY_LEDGER     (EMPTY_LEDGER: the schema, no rows)
Prints the seconds the writes took (the reading of the source excluded) on stdout.
"""
import sqlite3
import sys
import time
from datetime import date


def main():
    source, target = sys.argv[1], sys.argv[2]
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    inventory = {t: src.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
                 for t in ["apps", "addons", "attachments", "windows", "engine_ticks"]}
    columns = [r[1] for r in src.execute("PRAGMA table_info(maintenances)")]
    final = {row[0]: dict(zip(columns, row)) for row in src.execute("SELECT * FROM maintenances")}
    changes = src.execute("SELECT * FROM maintenance_status_changes ORDER BY id").fetchall()
    notices = {}
    for row in src.execute("SELECT * FROM notices ORDER BY id"):
        notices.setdefault(row[1], []).append(row)
    src.close()

    # The steps in the order the engine took them: a maintenance's first status change creates
    # it (with its notices), each later one updates it.
    steps = []
    seen = set()
    for change in changes:
        change_id, maintenance_id, _, to_status, changed_at, _ = change
        row = final[maintenance_id]
        if maintenance_id not in seen:
            seen.add(maintenance_id)
            first = dict(row, status=to_status, started_at=row["started_at"] if to_status == "running" else None,
                         completed_at=None, duration_seconds=None)
            steps.append((changed_at, "insert", [first[c] for c in columns], change, notices.get(maintenance_id, [])))
        else:
            started = row["started_at"] if to_status == "running" else None
            ended = (row["completed_at"], row["duration_seconds"]) if to_status in ("completed", "failed", "cancelled") else None
            steps.append((changed_at, "update", (to_status, started, ended, maintenance_id), change, []))

    db = sqlite3.connect(target, isolation_level=None)
    for pragma in ["journal_mode = WAL", "cache_size = -262144", "foreign_keys = ON", "synchronous = FULL"]:
        db.execute(f"PRAGMA {pragma}")
    insert_maintenance = f"INSERT INTO maintenances VALUES ({', '.join('?' * len(columns))})"
    t0 = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    for table, rows in inventory.items():
        if rows:
            db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    db.execute("COMMIT")
    batch_start = None
    db.execute("BEGIN IMMEDIATE")
    for changed_at, kind, values, change, notes in steps:
        day = date.fromisoformat(changed_at[:10])
        if batch_start is None:
            batch_start = day
        elif (day - batch_start).days >= 30:
            db.execute("COMMIT")
            db.execute("BEGIN IMMEDIATE")
            batch_start = day
        if kind == "insert":
            db.execute(insert_maintenance, values)
            for note in notes:
                db.execute("INSERT INTO notices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", note)
        else:
            status, started, ended, maintenance_id = values
            if ended:
                db.execute("UPDATE maintenances SET status = ?, completed_at = ?, duration_seconds = ? WHERE id = ?",
                           (status, ended[0], ended[1], maintenance_id))
            elif started:
                db.execute("UPDATE maintenances SET status = ?, started_at = ? WHERE id = ?", (status, started, maintenance_id))
            else:
                db.execute("UPDATE maintenances SET status = ? WHERE id = ?", (status, maintenance_id))
        db.execute("INSERT INTO maintenance_status_changes VALUES (?, ?, ?, ?, ?, ?)", change)
    db.execute("COMMIT")
    seconds = time.perf_counter() - t0
    db.close()
    print(f"{seconds:.3f}")


if __name__ == "__main__":
    main()
