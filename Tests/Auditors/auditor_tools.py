"""Auditors' tools on a real ledger (issue 16, part 3): DuckDB and pandas read the views of
migrations 0008 and 0009 and the folder of exports as docs/commands.md documents it, and what they compute must be
what `audit:compliance` prints for the same ledger.

    python3 Tests/Auditors/auditor_tools.py --bin BIN

Needs duckdb and pandas (and, for DuckDB reading the ledger file itself, duckdb-ext-sqlite): .ci/run
installs the pinned versions into a venv of their own and runs this. Prints one line per check and
"N passed, N failed"; exits 1 if any failed.
"""

import argparse
import csv
import glob
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid

import duckdb
import pandas as pd

NOW = "2026-01-01T00:00:00Z"
FLAGS = ["emergency", "customer_requested", "has_deadline", "outside_window", "started_in_window", "deadline_met"]
FIGURES = ["completed", "failed", "cancelled", "emergency", "in_window_share", "deadline_met_share",
           "duration_p50_seconds", "duration_p95_seconds", "duration_max_seconds"]

# The documented one-liner (docs/commands.md, "Exports and imports"): a folder of incremental exports read
# as the latest state, one row per maintenance, its newest version by seq.
LATEST = ("SELECT * FROM read_csv('{folder}/maintenances-*.csv') "
          "QUALIFY row_number() OVER (PARTITION BY maintenance_id ORDER BY seq DESC) = 1")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def expect(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok: {what}")
        else:
            self.failed += 1
            print(f"FAILED: {what}{': ' + str(detail) if detail else ''}")


def run(binary, db, *arguments, actor="auditor-test", now=NOW):
    environment = dict(os.environ, MAINTLEDGER_NOW=now, MAINTLEDGER_ACTOR=actor)
    result = subprocess.run([binary, *arguments, "--db", db], capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise SystemExit(f"maintledger {' '.join(arguments)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def build_ledger(binary, work):
    """A simulated fleet with failures, a few cancellations and window changes, exported twice
    (so that the folder holds two files per format, the second repeating what changed)."""
    db = os.path.join(work, "ledger.sqlite")
    folder = os.path.join(work, "exports")
    os.mkdir(folder)
    run(binary, db, "simulate", "--apps", "40", "--days", "300", "--start", "2025-01-01", "--seed", "5",
        "--failure-rate", "0.05", now="2025-11-01T00:00:00Z")
    for fmt in ("csv", "ndjson"):
        run(binary, db, "export", "--to", folder, "--format", fmt, now="2025-11-01T00:00:00Z")
    with sqlite3.connect(db) as con:
        open_addons = [r[0] for r in con.execute(
            "SELECT a.name FROM maintenances m JOIN addons a ON a.id = m.addon_id "
            "WHERE m.status IN ('pending', 'preparing', 'ready') ORDER BY m.id LIMIT 3")]
        windowed = [r[0] for r in con.execute(
            "SELECT a.name FROM addons a WHERE a.deprovisioned_at IS NULL AND a.id IN (SELECT addon_id FROM windows) "
            "ORDER BY a.id LIMIT 2")]
    for addon in open_addons:
        run(binary, db, "platform:maintenances:cancel", addon, actor="carol", now="2025-11-02T00:00:00Z")
    for addon, day in zip(windowed, ["Sundays", "Wednesdays"]):
        run(binary, db, "data:maintenances:window:update", addon, day, "22:30", actor="dave", now="2025-11-03T00:00:00Z")
    run(binary, db, "platform:tick", "--until", "2025-12-31T00:00:00Z", "--seed", "5", now=NOW)
    for fmt in ("csv", "ndjson"):
        run(binary, db, "export", "--to", folder, "--format", fmt)
    return db, folder, len(open_addons)


def nearest_rank(values, percent):
    values = sorted(values)
    if not values:
        return None
    return values[max(math.ceil(percent * len(values) / 100), 1) - 1]


def figures_from_frame(frame):
    """audit:compliance's figures, computed by pandas from rows of maintenance_audit (or of the
    exports): the ended maintenances, grouped as the caller grouped them."""
    ended = frame[frame["ended_at"].notna()]
    completed = ended[ended["status"] == "completed"]
    windowed = ended["started_in_window"].dropna()
    with_deadline = ended[ended["has_deadline"].astype(bool)]
    durations = [int(d) for d in completed["duration_seconds"]]
    return {
        "completed": len(completed), "failed": int((ended["status"] == "failed").sum()),
        "cancelled": int((ended["status"] == "cancelled").sum()), "emergency": int(ended["emergency"].astype(bool).sum()),
        "in_window_share": round(windowed.astype(float).mean(), 4) if len(windowed) else None,
        "deadline_met_share": round(with_deadline["deadline_met"].astype(float).mean(), 4) if len(with_deadline) else None,
        "duration_p50_seconds": nearest_rank(durations, 50), "duration_p95_seconds": nearest_rank(durations, 95),
        "duration_max_seconds": max(durations) if durations else None,
    }


# The same figures in DuckDB SQL, over a relation `rows` of maintenance_audit's columns.
DUCKDB_FIGURES = """
    SELECT {group} AS grp,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
           count(*) FILTER (WHERE emergency) AS emergency,
           round(avg(CASE WHEN started_in_window THEN 1.0 ELSE 0.0 END) FILTER (WHERE started_in_window IS NOT NULL), 4) AS in_window_share,
           round(avg(CASE WHEN deadline_met THEN 1.0 ELSE 0.0 END) FILTER (WHERE has_deadline), 4) AS deadline_met_share,
           list_sort(list(duration_seconds) FILTER (WHERE status = 'completed')) AS durations
    FROM rows WHERE ended_at IS NOT NULL GROUP BY grp ORDER BY grp
"""


def duckdb_figures(con, group):
    out = {}
    for row in con.execute(DUCKDB_FIGURES.format(group=group)).fetchall():
        durations = row[7] or []
        n = len(durations)
        out[row[0]] = dict(zip(FIGURES, list(row[1:7]) + [
            durations[max(math.ceil(50 * n / 100), 1) - 1] if n else None,
            durations[max(math.ceil(95 * n / 100), 1) - 1] if n else None, durations[-1] if n else None]))
    return out


def reported(binary, db, by=None):
    arguments = ["audit:compliance", "--json"] + (["--by", by] if by else [])
    rows = json.loads(run(binary, db, *arguments))
    return {(row[by] if by else None): {k: row[k] for k in FIGURES} for row in rows}


def same_figures(a, b):
    if a.keys() != b.keys():
        return False
    for group in a:
        for key in FIGURES:
            x, y = a[group][key], b[group][key]
            if (x is None) != (y is None) or (x is not None and abs(float(x) - float(y)) > 1e-9):
                return False
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    checks = Checks()
    with tempfile.TemporaryDirectory() as work:
        db, folder, cancelled = build_ledger(args.bin, work)
        ledger = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        view = pd.read_sql_query("SELECT * FROM maintenance_audit ORDER BY maintenance_id", ledger)
        checks.expect(len(view) > 300 and ((view["status"] == "cancelled") & (view["ended_by"] == "carol")).sum() == cancelled
                      and (view["status"] == "failed").sum() > 0,
                      "pandas reads maintenance_audit: a fleet with completed, failed and cancelled maintenances",
                      view["status"].value_counts().to_dict())

        # The folder of exports, read as the latest state by the documented one-liner.
        files = sorted(glob.glob(os.path.join(folder, "maintenances-*.csv")))
        checks.expect(len(files) == 2, "the folder holds a first and an incremental CSV export", files)
        con = duckdb.connect()
        latest = con.execute(LATEST.format(folder=folder) + " ORDER BY maintenance_id").df()
        repeated = con.execute(f"SELECT count(*) - count(DISTINCT maintenance_id) FROM read_csv('{folder}/maintenances-*.csv')").fetchone()[0]
        checks.expect(repeated > 0, "the incremental export repeats the maintenances that changed", repeated)
        checks.expect(list(latest.columns[:-1]) == list(view.columns) and latest.columns[-1] == "seq",
                      "the export's columns are maintenance_audit's, then seq", list(latest.columns))
        checks.expect(all(str(latest[f].dtype) == "bool" or latest[f].isna().any() for f in FLAGS),
                      "DuckDB reads the CSV's booleans as booleans", {f: str(latest[f].dtype) for f in FLAGS})

        def cell(column, value):
            """A value as the ledger holds it: booleans 0/1, times as its UTC text."""
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                return None
            if column in FLAGS:
                return int(bool(value))
            if isinstance(value, pd.Timestamp):  # DuckDB reads the times as timestamps
                return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
            if isinstance(value, (str, uuid.UUID)):  # DuckDB reads uuids in NDJSON as UUIDs
                return str(value)
            return int(value) if float(value).is_integer() else float(value)

        def normalized(frame):
            frame = frame.drop(columns=[c for c in ["seq"] if c in frame.columns]).reset_index(drop=True)
            return [[cell(c, v) for c, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)]

        checks.expect(normalized(latest) == normalized(view),
                      "the CSV exports' latest state (DuckDB one-liner) is maintenance_audit row for row")
        ndjson = con.execute(f"SELECT * FROM read_json('{folder}/maintenances-*.ndjson') "
                             "QUALIFY row_number() OVER (PARTITION BY maintenance_id ORDER BY seq DESC) = 1 "
                             "ORDER BY maintenance_id").df()
        checks.expect(normalized(ndjson) == normalized(view),
                      "the NDJSON exports' latest state is maintenance_audit row for row")
        with_pandas = pd.concat([pd.read_csv(f) for f in files]).sort_values("seq").drop_duplicates("maintenance_id", keep="last")
        checks.expect(normalized(with_pandas.sort_values("maintenance_id")) == normalized(view),
                      "pandas: the CSV exports, newest row per maintenance, are maintenance_audit")

        # One boolean spelling in every CSV maintledger writes.
        spelled = set()
        for path in files:
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    spelled.update(row[k] for k in FLAGS if row[k])
        history = list(csv.DictReader(run(args.bin, db, "history", "--csv", "--limit", "50").splitlines()))
        spelled_history = {row[k] for row in history for k in ["outside_window", "emergency", "customer_requested"]}
        checks.expect(spelled == {"true", "false"} and spelled_history <= {"true", "false"},
                      "CSV booleans are true/false in exports and in history --csv", (spelled, spelled_history))

        # What they compute is what audit:compliance prints.
        con.register("rows", latest)
        monthly = "strftime(CAST(ended_at AS TIMESTAMP), '%Y-%m')"
        for by, group, frame_group in [(None, "NULL", None), ("kind", "kind", "kind"), ("plan", "kind || ':' || plan", None),
                                       ("month", monthly, None)]:
            expected = reported(args.bin, db, by)
            computed = duckdb_figures(con, group)
            checks.expect(same_figures(computed, expected), f"DuckDB over the exports: audit:compliance{' --by ' + by if by else ''}",
                          (computed, expected))
            if by is None or frame_group:
                by_pandas = ({None: figures_from_frame(view)} if by is None else
                             {k: figures_from_frame(g) for k, g in view.groupby(frame_group)})
                checks.expect(same_figures(by_pandas, expected), f"pandas over maintenance_audit: audit:compliance{' --by ' + by if by else ''}",
                              (by_pandas, expected))
        months = view.assign(month=view["ended_at"].str[:7]).dropna(subset=["ended_at"])
        checks.expect(same_figures({k: figures_from_frame(g) for k, g in months.groupby("month")}, reported(args.bin, db, "month")),
                      "pandas over maintenance_audit: audit:compliance --by month")

        # Window changes and current windows: what audit:windows lists.
        changes = pd.read_sql_query("SELECT * FROM window_changes ORDER BY window_id", ledger)
        listed = json.loads(run(args.bin, db, "audit:windows", "--json"))
        checks.expect(sorted((c["addon"], c["previous_window"] or "", c["window"], c["set_by"]) for c in listed)
                      == sorted(zip(changes["addon"], changes["previous_window_text"].fillna(""), changes["window_text"], changes["set_by"])),
                      "window_changes holds what audit:windows lists, before and after")
        current = pd.read_sql_query("SELECT * FROM current_windows", ledger)
        newest = changes.sort_values("window_id").drop_duplicates("addon", keep="last").set_index("addon")["window_text"]
        checks.expect(current.set_index("addon")["window_text"].sort_index().equals(newest.sort_index()),
                      "current_windows is each add-on's newest window change")

        # Who moved each maintenance (migration 0009): the view's last mover and count are what
        # pandas makes of maintenance_moves (the simulated customers moved some).
        moves = pd.read_sql_query("SELECT * FROM maintenance_moves ORDER BY id", ledger)
        last = moves.groupby("maintenance_id").agg(last_moved_by=("moved_by", "last"), last_moved_at=("moved_at", "last"),
                                                   times_moved=("id", "count"))
        audit = view.set_index("maintenance_id")
        moved = audit[audit["times_moved"] > 0]
        checks.expect(len(moves) > 0 and moved.index.equals(last.index)
                      and list(moved["last_moved_by"]) == list(last["last_moved_by"])
                      and list(moved["last_moved_at"]) == list(last["last_moved_at"])
                      and list(moved["times_moved"]) == list(last["times_moved"])
                      and audit.loc[audit["times_moved"] == 0, "last_moved_by"].isna().all(),
                      "maintenance_audit's last mover and moves are what pandas makes of maintenance_moves", (len(moves), len(moved)))

        # DuckDB on the ledger file itself, through its SQLite extension (from PyPI, pinned).
        extension = glob.glob(os.path.join(os.path.dirname(duckdb.__file__), "..", "duckdb_ext", "extensions", "*", "*",
                                           "sqlite_scanner.duckdb_extension"))
        if extension:
            con.execute(f"LOAD '{extension[0]}'")
            con.execute(f"ATTACH '{db}' AS ledger (TYPE sqlite, READ_ONLY)")
            attached = con.execute("SELECT * FROM ledger.maintenance_audit ORDER BY CAST(maintenance_id AS BIGINT)").df()
            checks.expect(list(attached.columns) == list(view.columns) and
                          [str(v) for v in attached["uuid"]] == list(view["uuid"]) and
                          [None if v is None else str(v) for v in attached["ended_by"]] == [None if v is None else v for v in view["ended_by"]] and
                          [None if v is None else str(v) for v in attached["last_moved_by"]] == [None if v is None else v for v in view["last_moved_by"]] and
                          [int(v) for v in attached["times_moved"]] == list(view["times_moved"]),
                          "DuckDB attaches the ledger and reads maintenance_audit (columns unquoted)")
        else:
            checks.expect(False, "duckdb-ext-sqlite is installed beside duckdb")
        ledger.close()
    print(f"{checks.passed} passed, {checks.failed} failed")
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
