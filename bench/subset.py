#!/usr/bin/env python3
"""Writes the lines of the first FRACTION of the fleet's add-ons, for an import measured on part
of the file with the same mix as the whole (one new add-on per `per_addon` lines).

    python3 bench/subset.py ADDONS KEEP_ADDONS IN OUT

gen_ledger.py writes maintenances round by round: line j (from 0) belongs to add-on j % ADDONS.
Keeps the lines of add-ons 0…KEEP_ADDONS-1, in order.
"""

import sys


def main():
    addons, keep = int(sys.argv[1]), int(sys.argv[2])
    source, target = sys.argv[3], sys.argv[4]
    with open(source) as f, open(target, "w") as out:
        for j, line in enumerate(f):
            if j % addons < keep:
                out.write(line)


if __name__ == "__main__":
    main()
