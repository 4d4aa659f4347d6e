#!/usr/bin/env python3
"""Readers beside writers: what a support engineer's look-up costs while the platform writes.

    python3 bench/concurrency.py readers --bin BIN [--lines N] [--apps N] [--quick]
    python3 bench/concurrency.py load    --bin BIN [--writers N] [--seconds S] [--quick]

readers  (issue 13, part 1) `data:maintenances:info ADDON` and `history --limit 20`, each a new
         process, issued every 100 ms: first on an idle ledger, then while `import` of an
         N-line NDJSON file (default 1,000,000, from bench/gen_ledger.py) runs on the same
         ledger, then while `simulate` builds another ledger (the reads start once its first
         batch is committed) and on that ledger idle afterwards. Prints, per command and
         phase, p50, p99 and max latency in ms and the p99 ratio busy / idle. Every read must
         exit 0 with the same output as on the idle ledger (import: the import commits at the
         end, so until then readers see the ledger as it was).
load     (issue 13, part 4) WRITERS processes (default 8) each loop for SECONDS (default 60)
         through mixed commands on their own app (addons:create, window:update, require,
         prepare, ready, start, complete, maintenance:on/off), each a new process, while four
         readers loop over `history --limit 20`, `data:maintenances:info`, `export --to DIR` and
         `audit:verify`. Prints writes/s and read p50/p99 per command. Fails (exit 1) if any
         write fails (no rule refuses these commands, so any failure is one), any read fails,
         the chain does not verify, or an acknowledged maintenance is missing.

Latency is wall-clock from spawn to exit, measured here. The machine is shared: run on a quiet
machine and compare only figures from the same run. Progress on stderr, the table on stdout.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
NOW = "2026-01-01T00:00:00Z"


def log(message):
    print(time.strftime("%H:%M:%S"), "concurrency:", message, file=sys.stderr, flush=True)


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


class Runner:
    def __init__(self, binary, db, now=NOW):
        self.binary = binary
        self.db = db
        self.environment = dict(os.environ, MAINTLEDGER_ACTOR="bench")
        self.environment.pop("MAINTLEDGER_DB", None)
        if now:
            self.environment["MAINTLEDGER_NOW"] = now
        else:
            self.environment.pop("MAINTLEDGER_NOW", None)

    def run(self, *arguments, db=None, stdin=None):
        """Runs one command; returns (seconds, exit code, stdout, stderr)."""
        start = time.perf_counter()
        result = subprocess.run([self.binary, *arguments, "--db", db or self.db], env=self.environment,
                                capture_output=True, text=True, stdin=stdin)
        return time.perf_counter() - start, result.returncode, result.stdout, result.stderr

    def ok(self, *arguments, db=None):
        seconds, code, out, err = self.run(*arguments, db=db)
        if code != 0:
            sys.exit(f"concurrency: maintledger {' '.join(arguments)} failed with exit {code}: {err.strip()}")
        return out


def some_addon(runner, db=None):
    """An add-on with a window whose latest maintenance is completed (so info shows a whole block)."""
    out = runner.ok("sql", "--csv", "SELECT a.name FROM addons a JOIN maintenances m ON m.addon_id = a.id "
                    "WHERE m.status = 'completed' AND a.plan LIKE 'premium%' ORDER BY m.id LIMIT 1", db=db)
    lines = out.splitlines()
    return lines[1] if len(lines) > 1 else None


class Sampler(threading.Thread):
    """Issues the read commands every `interval` seconds until stopped; keeps each latency."""

    def __init__(self, runner, commands, interval=0.1, expected=None, db=None):
        super().__init__(daemon=True)
        self.runner, self.commands, self.interval, self.expected, self.db = runner, commands, interval, expected, db
        self.latencies = {name: [] for name in commands}
        self.failures = []
        self.stop = threading.Event()

    def run(self):
        tick = time.perf_counter()
        while not self.stop.is_set():
            for name, arguments in self.commands.items():
                seconds, code, out, err = self.runner.run(*arguments, db=self.db)
                if code != 0 or (self.expected and out != self.expected[name]):
                    self.failures.append(f"{name}: exit {code} {err.strip()[:200]}")
                self.latencies[name].append(seconds * 1000)
            tick += self.interval
            self.stop.wait(max(0.0, tick - time.perf_counter()))


def sample(runner, commands, seconds=None, until=None, expected=None, db=None):
    """Samples for `seconds`, or until the process `until` exits."""
    sampler = Sampler(runner, commands, expected=expected, db=db)
    sampler.start()
    if until is not None:
        until.wait()
    else:
        time.sleep(seconds)
    sampler.stop.set()
    sampler.join()
    return sampler


def describe(samples):
    values = samples
    return len(values), percentile(values, 50), percentile(values, 99), max(values)


def readers(args):
    runner = Runner(args.bin, os.path.join(args.work, "ledger.sqlite"))
    lines = args.lines or (100_000 if args.quick else 1_000_000)
    apps = args.apps or (200 if args.quick else 1000)
    idle_seconds = 15 if args.quick else 30

    log(f"building the ledger the readers read: simulate --apps {apps} --days 365")
    runner.ok("simulate", "--apps", str(apps), "--days", "365", "--seed", "1")
    addon = some_addon(runner)
    commands = {"data:maintenances:info": ["data:maintenances:info", addon],
                "history --limit 20": ["history", "--limit", "20"]}
    expected = {name: runner.ok(*arguments) for name, arguments in commands.items()}

    log(f"generating the {lines}-line import file (bench/gen_ledger.py)")
    scratch = os.path.join(args.work, "gen.sqlite")
    runner.ok("apps:create", "bench-app-0", db=scratch)
    subprocess.run([sys.executable, os.path.join(BENCH, "gen_ledger.py"), scratch, "--addons", str(lines // 10),
                    "--per-addon", "10", "--import-out", args.work], check=True, env=runner.environment,
                   stdout=subprocess.DEVNULL)
    os.remove(scratch)

    rows = []
    log(f"idle: {idle_seconds} s of reads")
    idle = sample(runner, commands, seconds=idle_seconds, expected=expected)
    log(f"import of {lines} lines, with reads")
    started = time.perf_counter()
    importer = subprocess.Popen([args.bin, "import", os.path.join(args.work, "import.ndjson"), "--db", runner.db],
                                env=runner.environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    busy = sample(runner, commands, until=importer, expected=expected)
    import_seconds = time.perf_counter() - started
    if importer.returncode != 0:
        sys.exit(f"concurrency: the import failed: {importer.stderr.read().strip()}")
    log(f"import done in {import_seconds:.0f} s")
    failures = idle.failures + busy.failures
    for name in commands:
        rows.append((name, f"import of {lines:,} lines ({import_seconds:.0f} s)", idle.latencies[name], busy.latencies[name]))

    sim_apps = apps * 2
    log(f"simulate --apps {sim_apps} --days 365 on a new ledger, with reads once its first batch is in")
    sim_db = os.path.join(args.work, "simulated.sqlite")
    started = time.perf_counter()
    simulator = subprocess.Popen([args.bin, "simulate", "--apps", str(sim_apps), "--days", "365", "--seed", "2", "--db", sim_db],
                                 env=runner.environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sim_addon = None
    while simulator.poll() is None and sim_addon is None:
        time.sleep(0.2)
        if os.path.exists(sim_db):
            seconds, code, out, err = runner.run("sql", "--csv", "SELECT name FROM addons WHERE plan LIKE 'premium%' ORDER BY id LIMIT 1", db=sim_db)
            lines_out = out.splitlines()
            sim_addon = lines_out[1] if code == 0 and len(lines_out) > 1 else None
    if sim_addon is None:
        sys.exit("concurrency: simulate ended before its first batch could be read; give it more apps")
    sim_commands = {"data:maintenances:info": ["data:maintenances:info", sim_addon],
                    "history --limit 20": ["history", "--limit", "20"]}
    during = sample(runner, sim_commands, until=simulator, db=sim_db)
    sim_seconds = time.perf_counter() - started
    if simulator.returncode != 0:
        sys.exit(f"concurrency: simulate failed: {simulator.stderr.read().strip()}")
    log(f"simulate done in {sim_seconds:.0f} s; idle reads of its ledger")
    after = sample(runner, sim_commands, seconds=idle_seconds, db=sim_db)
    failures += during.failures + after.failures
    for name in sim_commands:
        rows.append((name, f"simulate --apps {sim_apps} --days 365 ({sim_seconds:.0f} s)", after.latencies[name], during.latencies[name]))

    print(f"Reads issued every 100 ms, each a new process (ms); idle = the same ledger with no writer.")
    print()
    print("| command | while | idle p50 | idle p99 | busy reads | busy p50 | busy p99 | busy max | p99 busy/idle |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for name, phase, quiet, loaded in rows:
        _, q50, q99, _ = describe(quiet)
        n, b50, b99, bmax = describe(loaded)
        worst = max(worst, b99 / q99)
        print(f"| `{name}` | {phase} | {q50:.1f} | {q99:.1f} | {n} | {b50:.1f} | {b99:.1f} | {bmax:.1f} | {b99 / q99:.2f}× |")
    print()
    print(f"failed reads: {len(failures)}; worst p99 ratio {worst:.2f}× (target: at most 2×)")
    for failure in failures[:10]:
        print("  " + failure)
    return 0 if not failures else 1


#: Add-ons per app: an app has a few dozen default attachment names for Key-Value Store add-ons,
#: and a writer that used them up would be refused by the rules, which this test must not provoke.
ADDONS_PER_APP = 20


def writer_loop(runner, index, deadline, acknowledged, failures, required_by):
    acknowledged[index] = {"writes": 0, "completed": []}
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    k = 0
    while time.time() < deadline:
        app = f"load-app-{index}-{k // ADDONS_PER_APP}"
        addon = f"redis-load-{index}-{k}"
        steps = [["apps:create", app]] if k % ADDONS_PER_APP == 0 else []
        steps += [["addons:create", "heroku-redis:premium-0", "-a", app, "--name", addon],
                 ["data:maintenances:window:update", addon, days[k % 7], f"{k % 24:02d}:00"],
                 ["platform:maintenances:require", addon, "--required-by", required_by],
                 ["platform:maintenances:prepare", addon], ["platform:maintenances:ready", addon],
                 ["platform:maintenances:start", addon], ["platform:maintenances:complete", addon],
                 ["maintenance:on", "-a", app], ["maintenance:off", "-a", app]]
        for step in steps:
            _, code, _, err = runner.run(*step)
            if code != 0:
                failures.append(f"writer {index}: {' '.join(step)}: exit {code} {err.strip()[:200]}")
                return
            acknowledged[index]["writes"] += 1
        acknowledged[index]["completed"].append(addon)
        k += 1


def reader_loop(runner, name, arguments, deadline, latencies, failures):
    while time.time() < deadline:
        seconds, code, _, err = runner.run(*arguments)
        if code != 0:
            failures.append(f"{name}: exit {code} {err.strip()[:200]}")
        latencies.append(seconds * 1000)


def load(args):
    db = os.path.join(args.work, "ledger.sqlite")
    setup = Runner(args.bin, db)
    apps = 100 if args.quick else 500
    seconds = args.seconds or (20 if args.quick else 60)
    log(f"building the ledger: simulate --apps {apps} --days 365")
    setup.ok("simulate", "--apps", str(apps), "--days", "365", "--seed", "1")
    addon = some_addon(setup)
    runner = Runner(args.bin, db, now=None)  # writers use the real clock: their status changes move forward
    required_by = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60 * 86400))
    export_dir = os.path.join(args.work, "exports")
    os.mkdir(export_dir)
    readers = {"history --limit 20": ["history", "--limit", "20"], "data:maintenances:info": ["data:maintenances:info", addon],
               "export --to DIR": ["export", "--to", export_dir], "audit:verify": ["audit:verify"]}
    deadline = time.time() + seconds
    acknowledged, write_failures, read_failures = {}, [], []
    latencies = {name: [] for name in readers}
    threads = [threading.Thread(target=writer_loop, args=(runner, i, deadline, acknowledged, write_failures, required_by))
               for i in range(args.writers)]
    threads += [threading.Thread(target=reader_loop, args=(runner, name, arguments, deadline, latencies[name], read_failures))
                for name, arguments in readers.items()]
    log(f"{args.writers} writers and {len(readers)} readers for {seconds} s")
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    writes = sum(entry["writes"] for entry in acknowledged.values())

    verify = setup.run("audit:verify", "--integrity")
    completed = [addon for entry in acknowledged.values() for addon in entry["completed"]]
    recorded = set(setup.ok("sql", "--csv", "SELECT a.name FROM addons a JOIN maintenances m ON m.addon_id = a.id "
                             "WHERE m.status = 'completed' AND a.name LIKE 'redis-load-%'").splitlines()[1:])
    missing = [addon for addon in completed if addon not in recorded]

    print(f"{args.writers} writer processes and 4 reader loops for {elapsed:.0f} s on a ledger of a simulated fleet "
          f"({apps} apps, a year); every command a new process.")
    print()
    print(f"| writes acknowledged | writes/s | maintenances completed | failed writes |")
    print("|---:|---:|---:|---:|")
    print(f"| {writes} | {writes / elapsed:.1f} | {len(completed)} | {len(write_failures)} |")
    print()
    print("| reader | runs | p50 ms | p99 ms | max ms | failed |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in latencies.items():
        n, p50, p99, most = describe(values)
        failed = sum(1 for failure in read_failures if failure.startswith(name + ":"))
        print(f"| `{name}` | {n} | {p50:.0f} | {p99:.0f} | {most:.0f} | {failed} |")
    print()
    print(f"audit:verify --integrity afterwards: exit {verify[1]}: {verify[2].strip()}{verify[3].strip()}")
    print(f"acknowledged maintenances missing from the ledger: {len(missing)}")
    for failure in (write_failures + read_failures)[:10]:
        print("  " + failure)
    return 0 if not (write_failures or read_failures or missing or verify[1] != 0) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["readers", "load"])
    parser.add_argument("--bin", required=True, help="the maintledger binary (a release build)")
    parser.add_argument("--lines", type=int, help="readers: lines in the import file")
    parser.add_argument("--apps", type=int, help="readers: apps in the idle ledger")
    parser.add_argument("--writers", type=int, default=8, help="load: writer processes")
    parser.add_argument("--seconds", type=int, help="load: how long the writers write")
    parser.add_argument("--quick", action="store_true", help="a smaller run, for trying the script")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.work = tempfile.mkdtemp(prefix="maintledger-concurrency-")
    log(f"work folder {args.work}")
    try:
        return readers(args) if args.mode == "readers" else load(args)
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
