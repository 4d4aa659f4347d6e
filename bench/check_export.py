#!/usr/bin/env python3
"""Checks that `export` wrote the same rows as the sqlite3 baseline query, so that the two
timings compare the same work.

    python3 bench/check_export.py csv OURS.csv SQLITE.csv
    python3 bench/check_export.py ndjson OURS.ndjson SQLITE.json

CSV: both files parsed as RFC 4180 (sqlite3 quotes more fields, e.g. any with a space, so the
bytes differ); header and every row must be equal, sqlite3's 0/1 in the flag columns read as
false/true (export format 2). NDJSON: each line of ours against each object of sqlite3's -json
array (one object per line), with sqlite3's 0/1 for the flag columns read as false/true; keys,
their order and values must be equal. Prints the row count; exits 1 on the first difference,
naming it.
"""

import csv
import json
import sys

# maintenance_audit's 0/1 columns (migration 0008), which export writes true/false.
FLAGS = ("emergency", "customer_requested", "has_deadline", "outside_window", "started_in_window", "deadline_met")
SPELLED = {"0": "false", "1": "true", "": ""}


def fail(message):
    print(f"check_export: {message}", file=sys.stderr)
    sys.exit(1)


def check_csv(ours, theirs):
    with open(ours, newline="") as a, open(theirs, newline="") as b:
        count = -1
        flags = []
        for count, (x, y) in enumerate(zip(csv.reader(a), csv.reader(b))):
            if count == 0:
                flags = [i for i, name in enumerate(y) if name in FLAGS]
            else:
                y = [SPELLED[v] if i in flags else v for i, v in enumerate(y)]
            if x != y:
                fail(f"csv row {count} differs:\n  export:  {x}\n  sqlite3: {y}")
        if next(csv.reader(a), None) is not None or next(csv.reader(b), None) is not None:
            fail(f"csv files differ in length after {count} rows")
    return count  # data rows (the header is row 0)


def sqlite_json_objects(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                line = line[1:]
            if line.endswith("]"):
                line = line[:-1]
            if line.endswith(","):
                line = line[:-1]
            if line:
                obj = json.loads(line)
                for key in FLAGS:
                    obj[key] = None if obj[key] is None else bool(obj[key])
                yield obj


def check_ndjson(ours, theirs):
    count = 0
    with open(ours) as a:
        their_objects = sqlite_json_objects(theirs)
        for count, line in enumerate(a, 1):
            x = json.loads(line)
            y = next(their_objects, None)
            if y is None:
                fail(f"sqlite3 has fewer rows than export ({count - 1})")
            if list(x.items()) != list(y.items()):
                fail(f"ndjson row {count} differs:\n  export:  {x}\n  sqlite3: {y}")
        if next(their_objects, None) is not None:
            fail(f"sqlite3 has more rows than export ({count})")
    return count


def main():
    kind, ours, theirs = sys.argv[1:4]
    count = check_csv(ours, theirs) if kind == "csv" else check_ndjson(ours, theirs)
    print(count)


if __name__ == "__main__":
    main()
