#!/usr/bin/env python3
"""Proofs on a long trail (issue 14), each beside a peer doing comparable work in the same run.

    python3 bench/proofs.py --bin BIN [--entries N] [--runs R] [--without-tree OLD_BIN] [--apps A --days D]

1. A trail of N entries (default 10,000,000; bench/gen_trail.py, with its Merkle tree). Cold
   runs (each a new process, as the README's cold `info`; with --drop-caches the page cache is
   dropped first too, binary and all, which needs root) of `audit:checkpoint --key K` (signs and records the head: reads the
   head and O(log n) tree nodes, appends one entry) and `audit:prove SEQ` at random seqs,
   beside `sqlite3 LEDGER "SELECT seq, lower(hex(hash)) FROM audit_trail ORDER BY seq DESC LIMIT 1"` (a
   process that opens the file and reads the head). Target: each at most 50 ms.
2. With --without-tree OLD_BIN (a build from before the tree, commit f256803): `simulate --apps A
   --days D --seed 1` (default 2,000 apps, 365 days) on a new ledger by both binaries,
   alternating, best of R. Target: the tree costs at most 10%.
Prints a Markdown table on stdout, progress on stderr.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, MAINTLEDGER_NOW="2026-01-01T00:00:00Z", MAINTLEDGER_ACTOR="bench")
ENV.pop("MAINTLEDGER_DB", None)


def log(message):
    print(time.strftime("%H:%M:%S"), "proofs:", message, file=sys.stderr, flush=True)


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as control:
            control.write("3\n")
        return True
    except OSError:
        return False


def timed(command, cold):
    if cold:
        drop_caches()
    start = time.perf_counter()
    result = subprocess.run(command, env=ENV, capture_output=True, text=True)
    elapsed = (time.perf_counter() - start) * 1000
    if result.returncode != 0:
        sys.exit(f"proofs: {' '.join(command)} failed: {result.stderr.strip()}")
    return elapsed


def summary(values):
    ordered = sorted(values)
    return f"{ordered[0]:.1f} | {ordered[len(ordered) // 2]:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--without-tree")
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument("--apps", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="maintledger-proofs-")
    try:
        ledger, key = os.path.join(work, "ledger.sqlite"), os.path.join(work, "log.key")
        subprocess.run([args.bin, "apps:create", "bench-app-0", "--db", ledger], env=ENV, check=True, capture_output=True)
        log(f"generating a trail of {args.entries:,} entries")
        subprocess.run([sys.executable, os.path.join(BENCH, "gen_trail.py"), ledger, "--entries", str(args.entries)], check=True)
        subprocess.run([args.bin, "audit:keygen", "--name", "bench.example/ledger", "--to", key], env=ENV, check=True, capture_output=True)
        cold = args.drop_caches and drop_caches()
        log(f"timing ({'page cache dropped before each run' if cold else 'each run a new process'})")
        rows = {"checkpoint": [], "prove": [], "sqlite3": []}
        for _ in range(args.runs):
            rows["checkpoint"].append(timed([args.bin, "audit:checkpoint", "--key", key, "--db", ledger], cold))
            rows["prove"].append(timed([args.bin, "audit:prove", str(random.randint(1, args.entries)), "--db", ledger], cold))
            rows["sqlite3"].append(timed(["sqlite3", ledger, "SELECT seq, lower(hex(hash)) FROM audit_trail ORDER BY seq DESC LIMIT 1"], cold))
        print(f"Trail of {args.entries:,} entries; {args.runs} runs each, a new process each, "
              f"{'the page cache dropped before each' if cold else 'the file in the page cache'}; ms.")
        print()
        print("| command | best | median |")
        print("|---|---:|---:|")
        print(f"| `audit:checkpoint --key K` (signs, records one entry) | {summary(rows['checkpoint'])} |")
        print(f"| `audit:prove SEQ` (random seq) | {summary(rows['prove'])} |")
        print(f"| `sqlite3` reading the head entry | {summary(rows['sqlite3'])} |")

        if args.without_tree:
            log(f"simulate --apps {args.apps} --days {args.days}, with and without the tree, alternating")
            times = {"with the tree": [], "without (f256803)": []}
            for _ in range(args.runs if args.runs <= 3 else 3):
                for label, binary in [("with the tree", args.bin), ("without (f256803)", args.without_tree)]:
                    target = os.path.join(work, "simulated.sqlite")
                    for suffix in ["", "-wal", "-shm"]:
                        if os.path.exists(target + suffix):
                            os.remove(target + suffix)
                    times[label].append(timed([binary, "simulate", "--apps", str(args.apps), "--days", str(args.days),
                                               "--seed", "1", "--db", target], False) / 1000)
            best = {label: min(values) for label, values in times.items()}
            print()
            print(f"| `simulate --apps {args.apps} --days {args.days}` | best s | all runs s |")
            print("|---|---:|---|")
            for label, values in times.items():
                print(f"| {label} | {best[label]:.1f} | {', '.join(f'{v:.1f}' for v in values)} |")
            print()
            print(f"The tree costs {100 * (best['with the tree'] / best['without (f256803)'] - 1):+.1f}% (target: at most +10%).")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
