#!/usr/bin/env python3
"""Crash trials: kills maintledger with SIGKILL at random moments and checks what it left.

Run through bench/crash-trials.sh, which builds the binary and makes the work folder:

    python3 bench/crash_trials.py --bin BIN --work DIR [--short] [--trials N] [--seed S]
                                  [--only SCENARIO,...] [--plant FAULT]

Scenarios (the trials are split evenly between those run):
  simulate  `simulate` on a new ledger, killed; what it committed must be a prefix of an
            uninterrupted run's trail ending on a batch boundary (provisioning, or every 30th
            simulated day), hash for hash; then `simulate` is run again on what is left.
  import    `import` of a large NDJSON file (`history --ndjson` of a simulated fleet) into a
            small ledger, killed; the ledger must be exactly as before or exactly as after an
            uninterrupted import; a second import must then give the uninterrupted result.
  export    `export --to DIR` of one entity and format (rotating through all six), killed,
            then run again; the folder's files must then hold every row exactly once per change
            (see check_export_lane), on a ledger that changes between trials. Each export is first
            run uninterrupted into a hard-linked copy of the folder, for its duration. Every third
            kill (when a C compiler is there) is instead at a random one of its fsync and rename
            calls, before or after it, through an LD_PRELOAD shim: the commit points between the
            data file, its manifest and the cursor last a few milliseconds, which timed kills
            seldom hit.
  tick      `platform:tick` of months of engine work, killed: before or after, nothing between;
            a second tick must give the uninterrupted result.
  writers   4 processes each loop single writer commands (apps:create, addons:create,
            data:maintenances:window:update, maintenance:on|off, platform:maintenances:require,
            start, complete), logging each command before it runs and each exit; all are killed
            at once. Every command that exited 0 must be in the ledger, and no command more times
            than it was started; the ledger then takes a new write. (A window update to the window
            an add-on already has exits 0 and records nothing, so the writers never ask for one.)
After every kill: `audit:verify` passes and `sqlite3 PRAGMA integrity_check` says ok (and
foreign_key_check finds nothing).

--plant FAULT plants one fault in the first trial of its scenario, to show that the checks catch
it (the run must then fail): writers-row (sqlite3 deletes the app row of an acknowledged
apps:create), writers-ack (an acknowledgement of a write that is not in the ledger), export-dup
(a row repeated in the newest export file, its manifest rewritten to match), export-drop (a row
removed likewise), import-half (sqlite3 deletes one imported maintenance).

Summary lines on stdout; progress on stderr. Exit 1 if any trial failed.
"""

import argparse
import bisect
import csv
import ctypes
import datetime
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

csv.field_size_limit(sys.maxsize)

NOW = "2030-01-01T00:00:00Z"        # after everything simulated; every ticked day lies before it
SIM_START = "2023-01-01"
ENGINE_SEED = "7"
BASE_ENV = {"MAINTLEDGER_NOW": NOW, "MAINTLEDGER_ACTOR": "crash", "MAINTLEDGER_SEED": "1001"}
SCENARIOS = ["simulate", "import", "export", "tick", "writers"]
PLANTS = {"writers-row": "writers", "writers-ack": "writers", "export-dup": "export",
          "export-drop": "export", "import-half": "import"}
FLAGS = {"outside_window", "customer_requested", "emergency"}
DAYS = ["sundays", "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays"]

SIZES = {
    # simulate: the killed run; tick: its result is the base ticked further; fleet: the source of
    # the import file and the exported ledger.
    "short": {"sim": (100, 365), "fleet": (200, 365), "tick_days": 240, "writer_delay": (0.15, 1.2)},
    "full": {"sim": (300, 365), "fleet": (1000, 365), "tick_days": 240, "writer_delay": (0.3, 3.0)},
}
DEFAULT_TRIALS = {"short": 60, "full": 520}
OVERSHOOT = 1.15   # kill delays are drawn from U(0, OVERSHOOT × an uninterrupted run's duration)


def log(message):
    print(f"{time.strftime('%H:%M:%S')} crash-trials: {message}", file=sys.stderr, flush=True)


def env_with(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAINTLEDGER_")}
    env.update(BASE_ENV)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def become_subreaper():
    """Orphans (a writer's maintledger, killed with it) are reparented to us and reaped here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except Exception:
        return False


class Runner:
    def __init__(self, binary):
        self.bin = binary

    def run(self, args, db, env=None, stdout=subprocess.PIPE):
        started = time.monotonic()
        r = subprocess.run([self.bin, *args, "--db", db], env=env or env_with(), stdout=stdout,
                           stderr=subprocess.PIPE, text=True)
        r.seconds = time.monotonic() - started
        return r

    def run_and_kill(self, args, db, delay, env=None, out=None):
        """Starts the command in its own process group, sends SIGKILL after `delay` seconds
        unless it has exited; returns (landed, returncode, stderr)."""
        err_path = db + ".killed-stderr"
        with open(err_path, "w") as err, open(out or os.devnull, "w") as stdout:
            p = subprocess.Popen([self.bin, *args, "--db", db], env=env or env_with(), stdout=stdout,
                                 stderr=err, start_new_session=True)
            try:
                p.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
            rc = p.wait()
        with open(err_path) as err:
            text = err.read()
        os.unlink(err_path)
        return rc == -signal.SIGKILL, rc, text


def sqlite_cli(db, sql):
    r = subprocess.run(["sqlite3", db, sql], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def ro(db):
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


# A stored hash in hex, whichever trail format stored it (format 2: a 32-byte BLOB).
HEX_HASH = "CASE typeof(hash) WHEN 'blob' THEN lower(hex(hash)) ELSE hash END"


def trail_entries(binary, db, since=0):
    """The ledger's entries after `since` as `audit:trail --ndjson` lists them (payloads decoded,
    hashes in hex, whatever the format)."""
    r = subprocess.run([binary, "audit:trail", "--ndjson", "--since-seq", str(since), "--db", db], env=env_with(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"audit:trail failed: {r.stderr.strip()}")
    return [json.loads(line) for line in r.stdout.splitlines()]


def head(db):
    """(entries, seq, hash) of the ledger's trail; (0, 0, None) for no file, an empty one, or no trail."""
    if not os.path.exists(db) or os.path.getsize(db) == 0 and not os.path.exists(db + "-wal"):
        return 0, 0, None
    con = ro(db)
    try:
        row = con.execute("SELECT count(*), max(seq) FROM audit_trail").fetchone()
        if not row[0]:
            return 0, 0, None
        h = con.execute(f"SELECT {HEX_HASH} FROM audit_trail WHERE seq = ?", (row[1],)).fetchone()[0]
        return row[0], row[1], h
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return 0, 0, None
        raise
    finally:
        con.close()


def check_ledger(runner, db, problems):
    """audit:verify, PRAGMA integrity_check and foreign_key_check on what a kill left.
    Returns (state, entries): state is 'absent', 'empty' (no trail entry yet) or 'ledger'."""
    if not os.path.exists(db):
        return "absent", 0
    r = runner.run(["audit:verify"], db)
    entries, _, _ = head(db)
    if entries == 0:
        if not (r.returncode == 0 or (r.returncode == 1 and "holds no ledger yet" in r.stderr)):
            problems.append(f"audit:verify on a ledger with no entries: exit {r.returncode}: {r.stderr.strip()}")
    elif r.returncode != 0 or not r.stdout.startswith(f"ok: {entries} entries verified"):
        problems.append(f"audit:verify: exit {r.returncode}: {(r.stdout + r.stderr).strip()[:300]}")
    if os.path.getsize(db) > 0 or os.path.exists(db + "-wal"):
        rc, out, err = sqlite_cli(db, "PRAGMA integrity_check")
        if rc != 0 or out != "ok":
            problems.append(f"PRAGMA integrity_check: {out[:300]} {err[:300]}")
        rc, out, err = sqlite_cli(db, "PRAGMA foreign_key_check")
        if rc != 0 or out:
            problems.append(f"PRAGMA foreign_key_check: {out[:300]} {err[:300]}")
    return ("empty" if entries == 0 else "ledger"), entries


def copy_ledger(source, target):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(target + suffix):
            os.unlink(target + suffix)
    shutil.copyfile(source, target)
    os.chmod(target, 0o600)


def settle(db):
    """Checkpoints the WAL into the file so that copying the file alone copies the ledger."""
    rc, out, err = sqlite_cli(db, "PRAGMA wal_checkpoint(TRUNCATE)")
    if rc != 0:
        raise SystemExit(f"cannot checkpoint {db}: {err}")


def timed(fn):
    started = time.monotonic()
    value = fn()
    return value, time.monotonic() - started


class Stats:
    def __init__(self, name):
        self.name = name
        self.trials = 0
        self.landed = 0
        self.acked = 0
        self.failures = 0
        self.notes = {}
        self.seconds = 0.0

    def note(self, key, amount=1):
        self.notes[key] = self.notes.get(key, 0) + amount


class Trials:
    def __init__(self, args):
        self.args = args
        self.runner = Runner(args.bin)
        self.work = args.work
        self.size = SIZES[args.mode]
        self.rng = random.Random(args.seed)
        self.cache = {}
        self.failed_trials = []

    # MARK: shared fixtures

    def simulated(self, key, apps, days):
        """A ledger simulate builds uninterrupted (built once), and how long that took."""
        if key not in self.cache:
            path = os.path.join(self.work, f"ref-{key}.sqlite")
            args = ["simulate", "--apps", str(apps), "--days", str(days), "--start", SIM_START, "--seed", ENGINE_SEED]
            r = self.runner.run(args, path)
            if r.returncode != 0:
                raise SystemExit(f"simulate failed: {r.stderr}")
            settle(path)
            self.cache[key] = (path, args, r.seconds)
            log(f"fixture: {' '.join(args)} in {r.seconds:.2f} s ({head(path)[0]} trail entries)")
        return self.cache[key]

    def fail(self, stats, trial, what, problems):
        stats.failures += 1
        self.failed_trials.append((stats.name, trial, what, problems))
        log(f"FAIL [{stats.name} {trial}] {what}")
        for p in problems:
            log(f"    {p}")

    def plant_here(self, scenario, trial, kind=None):
        plant = self.args.plant
        return plant is not None and PLANTS[plant] == scenario and trial == 1 and (kind is None or plant == kind)

    # MARK: simulate

    def scenario_simulate(self, stats, count):
        apps, days = self.size["sim"]
        ref, args, seconds = self.simulated("sim", apps, days)
        con = ro(ref)
        hashes = {seq: h for seq, h in con.execute(f"SELECT seq, {HEX_HASH} FROM audit_trail")}
        ref_entries = len(hashes)
        provisioned = 0
        for seq, action in con.execute("SELECT seq, action FROM audit_trail ORDER BY seq"):
            if action not in ("apps:create", "addons:create"):
                break
            provisioned = seq
        boundaries = {0: "nothing", provisioned: "provisioning"}
        con.close()
        # A day's last tick records the engine_ticks row whose id is the day (and the steps before it).
        for entry in trail_entries(self.runner.bin, ref):
            ticks = [c["row"]["id"] for c in entry["payload"]["changes"] if c["table"] == "engine_ticks"]
            if entry["action"] == "platform:tick" and ticks and (ticks[-1] % 30 == 0 or ticks[-1] == days):
                boundaries[entry["seq"]] = f"day {ticks[-1]}"
        log(f"simulate: {ref_entries} entries uninterrupted, commit points at {sorted(boundaries)}")
        folder = os.path.join(self.work, "simulate")
        os.makedirs(folder)
        for trial in range(1, count + 1):
            db = os.path.join(folder, f"t{trial}.sqlite")
            delay = self.rng.uniform(0, OVERSHOOT * seconds)
            landed, rc, _ = self.runner.run_and_kill(args, db, delay)
            stats.trials += 1
            stats.landed += landed
            problems = []
            if not landed and rc != 0:
                problems.append(f"simulate exited {rc} by itself")
            state, entries = check_ledger(self.runner, db, problems)
            _, seq, h = head(db)
            if not landed and entries != ref_entries:
                problems.append(f"simulate exited {rc} but left {entries} entries, not {ref_entries}")
            if entries and seq != entries:
                problems.append(f"{entries} entries but head seq {seq}")
            if entries not in boundaries:
                problems.append(f"{entries} entries: not a commit point (half a batch kept?)")
            elif entries and hashes.get(seq) != h:
                problems.append(f"head {seq} {h} differs from the uninterrupted run's {hashes.get(seq)}")
            stats.note(f"left {boundaries.get(entries, 'other')}" if entries != ref_entries else "left all")
            # What does simulate do on what the kill left?
            again = self.runner.run(args, db)
            _, seq2, h2 = head(db)
            if entries > 0:
                if again.returncode != 1 or f"already holds {entries} trail entries" not in again.stderr:
                    problems.append(f"simulate again on {entries} entries: exit {again.returncode} {again.stderr.strip()}")
                if (seq2, h2) != (seq, h):
                    problems.append("a refused simulate changed the ledger")
                stats.note("re-run refused")
            else:
                if again.returncode != 0 or (seq2, h2) != (ref_entries, hashes[ref_entries]):
                    problems.append(f"simulate again on an empty ledger ({state}): exit {again.returncode}, "
                                    f"head {seq2}, {again.stderr.strip()[:200]}")
                stats.note(f"re-run built all ({state})")
            outcome = f"{'killed' if landed else 'exited'} at {delay:.2f} s: {entries} entries kept"
            if problems:
                self.fail(stats, trial, f"{outcome}; reproduce: {' '.join(args)} killed after {delay:.3f} s", problems)
            else:
                log(f"[simulate {trial}/{count}] {outcome}, ok")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)

    # MARK: import

    def scenario_import(self, stats, count):
        apps, days = self.size["fleet"]
        fleet, _, _ = self.simulated("fleet", apps, days)
        folder = os.path.join(self.work, "import")
        os.makedirs(folder)
        source = os.path.join(folder, "fleet.ndjson")
        with open(source, "w") as out:
            r = self.runner.run(["history", "--ndjson"], fleet, stdout=out)
        if r.returncode != 0:
            raise SystemExit(f"history --ndjson failed: {r.stderr}")
        uuids = []
        with open(source) as f:
            for line in f:
                uuids.append(json.loads(line)["uuid"])
        base = os.path.join(folder, "base.sqlite")
        r = self.runner.run(["apps:create", "base-app"], base)
        settle(base)
        before = head(base)
        reference = os.path.join(folder, "reference.sqlite")
        copy_ledger(base, reference)
        r = self.runner.run(["import", source], reference)
        if r.returncode != 0:
            raise SystemExit(f"import failed: {r.stderr}")
        seconds = r.seconds
        after = head(reference)
        r2 = self.runner.run(["import", source], reference)
        if r2.returncode != 0 or head(reference) != after:
            raise SystemExit(f"a second uninterrupted import changed the ledger: {r2.stderr}")
        log(f"import: {len(uuids)} lines in {seconds:.2f} s uninterrupted; {before[0]} → {after[0]} entries")
        db = os.path.join(folder, "trial.sqlite")

        def imported():
            con = ro(db)
            con.execute("CREATE TEMP TABLE file_uuids (uuid TEXT PRIMARY KEY)")
            con.executemany("INSERT INTO file_uuids VALUES (?)", [(u,) for u in uuids])
            n = con.execute("SELECT count(*) FROM maintenances JOIN file_uuids USING (uuid)").fetchone()[0]
            con.close()
            return n

        for trial in range(1, count + 1):
            copy_ledger(base, db)
            delay = self.rng.uniform(0, OVERSHOOT * seconds)
            landed, rc, _ = self.runner.run_and_kill(["import", source], db, delay)
            stats.trials += 1
            stats.landed += landed
            problems = []
            if not landed and rc != 0:
                problems.append(f"import exited {rc} by itself")
            check_ledger(self.runner, db, problems)
            state = head(db)
            n = imported()
            if state == before and n == 0:
                stats.note("nothing kept")
            elif state == after and n == len(uuids):
                stats.note("all kept")
            else:
                problems.append(f"import neither all nor nothing: {n} of {len(uuids)} maintenances, "
                                f"head {state[1]} (before {before[1]}, after {after[1]})")
            again = self.runner.run(["import", source], db)
            if self.plant_here("import", trial):
                victim = uuids[len(uuids) // 2]
                rc2, _, err = sqlite_cli(db, "DELETE FROM maintenance_status_changes WHERE maintenance_id = "
                                         f"(SELECT id FROM maintenances WHERE uuid = '{victim}'); "
                                         f"DELETE FROM maintenances WHERE uuid = '{victim}';")
                log(f"PLANTED: deleted maintenance {victim} with sqlite3 ({err or 'ok'})")
            if again.returncode != 0:
                problems.append(f"import again: exit {again.returncode}: {again.stderr.strip()[:200]}")
            check_ledger(self.runner, db, problems)
            n2 = imported()
            if head(db) != after or n2 != len(uuids):
                problems.append(f"after importing again: {n2} of {len(uuids)} maintenances, head {head(db)[1]} "
                                f"(an uninterrupted import gives {after[1]})")
            outcome = f"{'killed' if landed else 'exited'} at {delay:.2f} s: {n} of {len(uuids)} kept"
            if problems:
                self.fail(stats, trial, f"{outcome}; reproduce: import {source} killed after {delay:.3f} s", problems)
            else:
                log(f"[import {trial}/{count}] {outcome}, ok")

    # MARK: platform:tick

    def scenario_tick(self, stats, count):
        apps, days = self.size["sim"]
        sim, _, _ = self.simulated("sim", apps, days)
        folder = os.path.join(self.work, "tick")
        os.makedirs(folder)
        base = os.path.join(folder, "base.sqlite")
        copy_ledger(sim, base)
        before = head(base)
        con = ro(base)
        until = con.execute("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', max(ticked_until), ?) FROM engine_ticks",
                            (f"+{self.size['tick_days']} days",)).fetchone()[0]
        con.close()
        args = ["platform:tick", "--until", until, "--seed", ENGINE_SEED]
        reference = os.path.join(folder, "reference.sqlite")
        copy_ledger(base, reference)
        r = self.runner.run(args, reference)
        if r.returncode != 0:
            raise SystemExit(f"platform:tick failed: {r.stderr}")
        seconds = r.seconds
        after = head(reference)
        log(f"tick: {' '.join(args)} in {seconds:.2f} s uninterrupted ({(r.stdout + r.stderr).strip()}); "
            f"{before[0]} → {after[0]} entries")
        db = os.path.join(folder, "trial.sqlite")
        for trial in range(1, count + 1):
            copy_ledger(base, db)
            delay = self.rng.uniform(0, OVERSHOOT * seconds)
            landed, rc, _ = self.runner.run_and_kill(args, db, delay)
            stats.trials += 1
            stats.landed += landed
            problems = []
            if not landed and rc != 0:
                problems.append(f"platform:tick exited {rc} by itself")
            check_ledger(self.runner, db, problems)
            state = head(db)
            if state == before:
                stats.note("nothing kept")
            elif state == after:
                stats.note("all kept")
            else:
                problems.append(f"tick neither all nor nothing: head {state[1]} (before {before[1]}, after {after[1]})")
            again = self.runner.run(args, db)
            if again.returncode != 0 or head(db) != after:
                problems.append(f"tick again: exit {again.returncode}, head {head(db)[1]} (uninterrupted: {after[1]})")
            check_ledger(self.runner, db, problems)
            outcome = f"{'killed' if landed else 'exited'} at {delay:.2f} s: {'all' if state == after else 'nothing'} kept"
            if problems:
                self.fail(stats, trial, f"{outcome}; reproduce: {' '.join(args)} killed after {delay:.3f} s", problems)
            else:
                log(f"[tick {trial}/{count}] {outcome}, ok")

    # MARK: export

    def scenario_export(self, stats, count):
        apps, days = self.size["fleet"]
        fleet, _, _ = self.simulated("fleet", apps, days)
        folder = os.path.join(self.work, "export")
        os.makedirs(folder)
        db = os.path.join(folder, "ledger.sqlite")
        copy_ledger(fleet, db)
        index = TrailIndex(self.runner.bin, db)
        con = ro(db)
        windowed = [name for (name,) in con.execute(
            "SELECT name FROM addons a WHERE deprovisioned_at IS NULL AND EXISTS (SELECT 1 FROM windows w WHERE w.addon_id = a.id)")]
        ticked = con.execute("SELECT max(ticked_until) FROM engine_ticks").fetchone()[0]
        con.close()
        shim = build_kill_shim(self.work)
        if shim:
            log("export: every third trial is killed at a random fsync or rename call instead (LD_PRELOAD shim)")
        else:
            log("export: no C compiler, so no kills at fsync or rename calls; every kill is timed")
        lanes = [(e, f) for e in ("maintenances", "trail", "windows") for f in ("ndjson", "csv")]
        lane_dirs = {}
        checked_files = {}
        day = 0
        for trial in range(1, count + 1):
            entity, fmt = lanes[(trial - 1) % len(lanes)]
            lane = (entity, fmt)
            fresh = lane not in lane_dirs or self.rng.random() < 0.3
            if fresh:
                if lane in lane_dirs:
                    shutil.rmtree(lane_dirs[lane])
                lane_dirs[lane] = os.path.join(folder, f"out-{trial}-{entity}-{fmt}")
                os.makedirs(lane_dirs[lane])
            out = lane_dirs[lane]
            # The ledger moves on between exports: two more days of the engine, two window changes.
            day += 2
            churn = [["platform:tick", "--until", shift_day(ticked, day), "--seed", ENGINE_SEED]]
            for _ in range(2):
                churn.append(["data:maintenances:window:update", self.rng.choice(windowed), self.rng.choice(DAYS),
                              f"{self.rng.randrange(24):02d}:{self.rng.choice((0, 30)):02d}"])
            for command in churn:
                # Each process of a seed draws the same uuids: a new seed for each.
                r = self.runner.run(command, db, env=env_with(MAINTLEDGER_ACTOR="crash-churn",
                                                              MAINTLEDGER_SEED=str(100000 + trial)))
                if r.returncode != 0 and command[0] == "platform:tick":
                    raise SystemExit(f"{' '.join(command)} failed: {r.stderr}")
                if command[0] != "platform:tick":
                    stats.note("window changes between exports" if r.returncode == 0 else "window changes refused")
            # Calibration: the same export, uninterrupted, into a copy of the folder (hard links:
            # export never changes a file it has renamed into place); its duration, and its fsync
            # and rename calls.
            probe = os.path.join(folder, "probe")
            os.makedirs(probe)
            for name in os.listdir(out):
                if name != ".maintledger-export.lock":
                    os.link(os.path.join(out, name), os.path.join(probe, name))
            calls_log = os.path.join(folder, "probe.calls")
            r = self.runner.run(["export", "--to", probe, "--entity", entity, "--format", fmt], db,
                                env=env_with(LD_PRELOAD=shim, CRASH_LOG=calls_log) if shim else None)
            if r.returncode != 0:
                raise SystemExit(f"export failed: {r.stderr}")
            seconds = r.seconds
            calls = []
            if os.path.exists(calls_log):
                with open(calls_log) as f:
                    calls = [line.split()[1] for line in f]
                os.unlink(calls_log)
            shutil.rmtree(probe)
            args = ["export", "--to", out, "--entity", entity, "--format", fmt]
            cursor_before = cursor_seq(out, entity, fmt)
            if shim and calls and trial % 3 == 0:
                at = self.rng.randint(1, len(calls))
                after = self.rng.random() < 0.5
                how = f"{'after' if after else 'before'} call {at} of {len(calls)} ({calls[at - 1]})"
                stats.note("kills at an fsync or rename call")
                landed, rc, _ = self.runner.run_and_kill(
                    args, db, 10 * seconds + 5,
                    env=env_with(LD_PRELOAD=shim, CRASH_AT=str(at), CRASH_AFTER="1" if after else None))
                missed = None if landed else f"the export was to be killed {how}, but exited {rc}"
            else:
                missed = None
                delay = self.rng.uniform(0, OVERSHOOT * seconds)
                how = f"at {delay:.3f} s of {seconds:.3f} s"
                landed, rc, _ = self.runner.run_and_kill(args, db, delay)
            stats.trials += 1
            stats.landed += landed
            problems = [missed] if missed else []
            if not landed and rc != 0:
                problems.append(f"export exited {rc} by itself")
            stage = export_stage(out, entity, fmt, cursor_before)
            stats.note(f"killed {stage}" if landed else "exited")
            again = self.runner.run(args, db)
            if again.returncode != 0:
                problems.append(f"export again: exit {again.returncode}: {again.stderr.strip()[:200]}")
            for line in again.stderr.splitlines():
                if line.startswith("Counted "):
                    stats.note("next run counted a committed file")
                elif line.startswith("Removed "):
                    stats.note("next run removed an incomplete file")
            if self.plant_here("export", trial):
                plant_export(out, entity, fmt, self.args.plant)
            check_ledger(self.runner, db, problems)
            index.refresh()
            rows = check_export_lane(index, out, entity, fmt, checked_files, problems)
            stats.note("exported rows checked", rows)
            outcome = (f"{entity}/{fmt} {'full' if fresh else 'incremental'} {'killed' if landed else 'exited'} "
                       f"{how} ({stage}); union of {rows} rows")
            if problems:
                self.fail(stats, trial, f"{outcome}; reproduce: {' '.join(args)} killed {how}, then again", problems)
            else:
                log(f"[export {trial}/{count}] {outcome}, ok")

    # MARK: writers

    def scenario_writers(self, stats, count):
        folder = os.path.join(self.work, "writers")
        os.makedirs(folder)
        lo, hi = self.size["writer_delay"]
        ledger_no = 0
        db = logs = None
        me = os.path.abspath(__file__)
        reaper = become_subreaper()
        for trial in range(1, count + 1):
            if db is None or self.rng.random() < 0.25:
                ledger_no += 1
                db = os.path.join(folder, f"ledger{ledger_no}.sqlite")   # not there yet: 4 writers create it
                logs = os.path.join(folder, f"logs{ledger_no}")
                os.makedirs(logs)
            delay = self.rng.uniform(lo, hi)
            writers = []
            for w in range(4):
                log_path = os.path.join(logs, f"t{trial}-w{w}.jsonl")
                writers.append(subprocess.Popen(
                    [sys.executable, me, "writer", "--bin", self.args.bin, "--db", db, "--log", log_path,
                     "--prefix", f"t{trial}-w{w}", "--seed", str(self.rng.randrange(1 << 30))],
                    env=env_with(MAINTLEDGER_NOW=None, MAINTLEDGER_SEED=None, MAINTLEDGER_ACTOR=f"crash-w{w}"),
                    start_new_session=True))
            time.sleep(delay)
            for p in writers:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for p in writers:
                p.wait()
            if reaper:
                while True:
                    try:
                        os.waitpid(-1, 0)
                    except ChildProcessError:
                        break
            else:
                time.sleep(0.1)
            stats.trials += 1
            problems = []
            commands = read_writer_logs(logs)
            cut = sum(1 for c in commands if c["trial"] == trial and c["rc"] is None)
            acked_now = sum(1 for c in commands if c["trial"] == trial and c["rc"] == 0)
            refused = [c for c in commands if c["trial"] == trial and c["rc"] not in (None, 0)]
            for c in refused:
                problems.append(f"a writer's command exited {c['rc']} by itself: {' '.join(c['cmd'])}: {c['err']}")
            stats.landed += cut > 0
            stats.note("commands cut mid-run", cut)
            if self.plant_here("writers", trial, "writers-row"):
                victim = next(c for c in reversed(commands) if c["rc"] == 0 and c["cmd"][0] == "apps:create")
                rc, _, err = sqlite_cli(db, f"DELETE FROM apps WHERE name = '{victim['cmd'][1]}'")
                log(f"PLANTED: deleted app {victim['cmd'][1]} (acked) with sqlite3 ({err or 'ok'})")
            if self.plant_here("writers", trial, "writers-ack"):
                commands.append({"trial": trial, "cmd": ["apps:create", f"t{trial}-phantom"], "rc": 0, "out": "", "err": ""})
                log(f"PLANTED: an acknowledgement of apps:create t{trial}-phantom, which never ran")
            check_ledger(self.runner, db, problems)
            checked = check_acks(db, commands, problems)
            stats.acked += acked_now
            stats.note("acks re-checked from earlier trials", checked - acked_now)
            # The ledger still records after the kill.
            post = self.runner.run(["apps:create", f"t{trial}-after"], db, env=env_with(MAINTLEDGER_SEED=None))
            if post.returncode != 0:
                problems.append(f"apps:create after the kill: exit {post.returncode}: {post.stderr.strip()}")
            outcome = f"killed 4 writers at {delay:.2f} s: {acked_now} acked writes, {cut} commands cut mid-run"
            if problems:
                self.fail(stats, trial, f"{outcome}; ledger {db}", problems)
            else:
                log(f"[writers {trial}/{count}] {outcome}, ok ({checked} acks checked)")


KILL_SHIM = r"""
/* Counts the process's fsync and rename calls (logging each to $CRASH_LOG) and sends itself
   SIGKILL just before (or, with $CRASH_AFTER, just after) call number $CRASH_AT. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int calls;

static int step(const char *what) {
    int n = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
    const char *path = getenv("CRASH_LOG");
    if (path) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            char line[64];
            int len = snprintf(line, sizeof line, "%d %s\n", n, what);
            if (write(fd, line, len) < 0) { /* only a count */ }
            close(fd);
        }
    }
    const char *at = getenv("CRASH_AT");
    if (at && atoi(at) == n && !getenv("CRASH_AFTER")) kill(getpid(), SIGKILL);
    return n;
}

static void done(int n) {
    const char *at = getenv("CRASH_AT");
    if (at && atoi(at) == n && getenv("CRASH_AFTER")) kill(getpid(), SIGKILL);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int n = step("fsync");
    int r = real(fd);
    done(n);
    return r;
}

int rename(const char *from, const char *to) {
    static int (*real)(const char *, const char *);
    if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    int n = step("rename");
    int r = real(from, to);
    done(n);
    return r;
}
"""


def build_kill_shim(work):
    """Compiles KILL_SHIM into a shared library to LD_PRELOAD; None without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        return None
    source, library = os.path.join(work, "killshim.c"), os.path.join(work, "killshim.so")
    with open(source, "w") as f:
        f.write(KILL_SHIM)
    r = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        log(f"cannot build the kill shim: {r.stdout.strip()}")
        return None
    return library


def shift_day(timestamp, days):
    day = datetime.date.fromisoformat(timestamp[:10]) + datetime.timedelta(days=days)
    return day.isoformat() + "T00:00:00Z"


# MARK: writer processes

def writer_main(args):
    """One writer: loops single commands until killed. Logs {"start"} before each command and
    {"exit", rc} after it, with O_APPEND writes that survive the process's death."""
    rng = random.Random(args.seed)
    fd = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def note(obj):
        os.write(fd, (json.dumps(obj) + "\n").encode())

    apps, addons = [], []   # acknowledged ones only
    maintenance = {}        # addon -> (uuid, status) of its open maintenance
    mode = {}
    windows = {}            # addon -> the window this writer last set on it
    n = 0
    while True:
        n += 1
        name = f"{args.prefix}-{n}"
        meta = {}
        if not apps or rng.random() < 0.12:
            cmd = ["apps:create", name + "a"]
        elif not addons or rng.random() < 0.2:
            plan = rng.choice(["heroku-redis:premium-0", "heroku-redis:premium-0", "heroku-postgresql:essential-0"])
            cmd = ["addons:create", plan, "-a", rng.choice(apps), "--name", name + "r"]
        else:
            addon, app, windowed = rng.choice(addons)
            open_m = maintenance.get(addon)
            roll = rng.random()
            if open_m and open_m[1] == "pending":
                cmd = ["platform:maintenances:start", addon]
                meta["uuid"] = open_m[0]
            elif open_m and open_m[1] == "running":
                cmd = ["platform:maintenances:complete", addon]
                meta["uuid"] = open_m[0]
            elif roll < 0.4 and windowed:
                # Setting the window it has records nothing (and exits 0): never ask for that. Default
                # windows start between 18:00 and 23:30, so an hour before 18 is always a change.
                while True:
                    window = (rng.choice(DAYS), f"{rng.randrange(18):02d}:{rng.choice((0, 30)):02d}")
                    if window != windows.get(addon):
                        break
                cmd = ["data:maintenances:window:update", addon, *window]
            elif roll < 0.6:
                cmd = ["maintenance:off" if mode.get(app) else "maintenance:on", "-a", app]
            else:
                required_by = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400))
                cmd = ["platform:maintenances:require", addon, "--required-by", required_by]
        note({"op": "start", "n": n, "cmd": cmd, **meta})
        r = subprocess.run([args.bin, *cmd, "--db", args.db], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out = r.stdout.strip()
        note({"op": "exit", "n": n, "rc": r.returncode, "out": out[-100:], "err": r.stderr.strip()[-300:]})
        if r.returncode != 0:
            continue
        verb = cmd[0]
        if verb == "apps:create":
            apps.append(cmd[1])
        elif verb == "addons:create":
            addons.append((cmd[5], cmd[3], "redis" in cmd[1]))
        elif verb == "platform:maintenances:require":
            maintenance[cmd[1]] = (out.splitlines()[-1], "pending")
        elif verb == "platform:maintenances:start":
            maintenance[cmd[1]] = (maintenance[cmd[1]][0], "running")
        elif verb == "platform:maintenances:complete":
            maintenance.pop(cmd[1])
        elif verb in ("maintenance:on", "maintenance:off"):
            mode[cmd[2]] = verb == "maintenance:on"
        elif verb == "data:maintenances:window:update":
            windows[cmd[1]] = (cmd[2], cmd[3])


def read_writer_logs(folder):
    """Every command the writers of one ledger started: {trial, cmd, rc (None: cut mid-run), out, uuid}."""
    commands = []
    for name in sorted(os.listdir(folder)):
        trial = int(name[1:name.index("-")])
        started = {}
        with open(os.path.join(folder, name)) as f:
            for line in f:
                if not line.endswith("\n"):
                    continue  # a line the kill cut short (a start: its command never ran)
                entry = json.loads(line)
                if entry["op"] == "start":
                    started[entry["n"]] = {"trial": trial, "cmd": entry["cmd"], "rc": None, "out": "", "err": "",
                                           "uuid": entry.get("uuid")}
                else:
                    started[entry["n"]].update(rc=entry["rc"], out=entry["out"], err=entry["err"])
        commands.extend(started.values())
    return commands


def subject_of(cmd):
    verb = cmd[0]
    if verb == "apps:create":
        return verb, "app:" + cmd[1]
    if verb in ("maintenance:on", "maintenance:off"):
        return verb, "app:" + cmd[2]
    if verb == "addons:create":
        return verb, "addon:" + cmd[5]
    return verb, "addon:" + cmd[1]


def check_acks(db, commands, problems):
    """Every acknowledged command is in the ledger; no command is there more often than started."""
    if not os.path.exists(db):
        if any(c["rc"] == 0 for c in commands):
            problems.append("acknowledged writes but no ledger")
        return 0
    con = ro(db)
    trail = {}
    try:
        for action, subject, n in con.execute(
                "SELECT action, subject, count(*) FROM audit_trail WHERE actor LIKE 'crash-w%' GROUP BY 1, 2"):
            trail[(action, subject)] = n
    except sqlite3.OperationalError as e:
        # Every writer killed before the new ledger's schema committed: a file with no tables,
        # which the acknowledged writes below (none, if all is well) are checked against.
        if "no such table" not in str(e):
            raise
    started, acked = {}, {}
    for c in commands:
        key = subject_of(c["cmd"])
        started[key] = started.get(key, 0) + 1
        if c["rc"] == 0:
            acked[key] = acked.get(key, 0) + 1
    for key, n in trail.items():
        if n > started.get(key, 0):
            problems.append(f"{key[0]} {key[1]}: {n} trail entries, but started {started.get(key, 0)} times")
    checked = 0
    for c in commands:
        if c["rc"] != 0:
            continue
        checked += 1
        cmd = c["cmd"]
        verb = cmd[0]
        key = subject_of(cmd)
        if trail.get(key, 0) < acked[key]:
            problems.append(f"acked {' '.join(cmd)}: {trail.get(key, 0)} trail entries for {acked[key]} acks")
        one = lambda sql, *p: con.execute(sql, p).fetchone()
        if verb == "apps:create":
            if not one("SELECT 1 FROM apps WHERE name = ?", cmd[1]):
                problems.append(f"acked {' '.join(cmd)}: no such app in the ledger")
        elif verb == "addons:create":
            row = one("SELECT a.service || ':' || a.plan, p.name FROM addons a JOIN apps p ON p.id = a.app_id "
                      "WHERE a.name = ?", cmd[5])
            if row != (cmd[1], cmd[3]):
                problems.append(f"acked {' '.join(cmd)}: ledger has {row}")
            elif not one("SELECT 1 FROM attachments t JOIN addons a ON a.id = t.addon_id WHERE a.name = ?", cmd[5]):
                problems.append(f"acked {' '.join(cmd)}: no attachment")
        elif verb == "data:maintenances:window:update":
            day = DAYS.index(cmd[2])
            hour, minute = map(int, cmd[3].split(":"))
            if not one("SELECT 1 FROM windows w JOIN addons a ON a.id = w.addon_id WHERE a.name = ? AND w.source = "
                       "'customer' AND w.day_of_week = ? AND w.start_minute = ?", cmd[1], day, hour * 60 + minute):
                problems.append(f"acked {' '.join(cmd)}: no such customer window")
        elif verb == "platform:maintenances:require":
            uuid = c["out"].splitlines()[-1] if c["out"] else ""
            if not one("SELECT 1 FROM maintenances m JOIN addons a ON a.id = m.addon_id WHERE m.uuid = ? AND a.name = ?",
                       uuid, cmd[1]):
                problems.append(f"acked {' '.join(cmd)}: maintenance {uuid!r} not in the ledger")
        elif verb in ("platform:maintenances:start", "platform:maintenances:complete"):
            status = "running" if verb.endswith("start") else "completed"
            if not one("SELECT 1 FROM maintenance_status_changes s JOIN maintenances m ON m.id = s.maintenance_id "
                       "WHERE m.uuid = ? AND s.to_status = ?", c["uuid"], status):
                problems.append(f"acked {' '.join(cmd)}: maintenance {c['uuid']} never became {status}")
    con.close()
    return checked


# MARK: export checks

class TrailIndex:
    """The ledger's trail, read incrementally (it only grows): every entry, and per table and row
    id the (seq, image) of each change."""

    def __init__(self, binary, db):
        self.binary = binary
        self.db = db
        self.entries = {}
        self.images = {"maintenances": {}, "windows": {}}
        self.head = 0
        self.refresh()

    def refresh(self):
        for entry in trail_entries(self.binary, self.db, self.head):
            seq = entry["seq"]
            self.entries[seq] = tuple(entry[c] for c in TRAIL_COLUMNS)
            for change in entry["payload"]["changes"]:
                table = self.images.get(change["table"])
                if table is not None:
                    # A format 2 update holds the columns it set: the row is the one before, changed.
                    changes = table.setdefault(change["row"]["id"], [])
                    row = change["row"] if change["op"] == "insert" else {**changes[-1][1], **change["row"]}
                    changes.append((seq, row))
            self.head = seq
        con = ro(self.db)
        self.columns = {t: [r[1] for r in con.execute(f"PRAGMA table_info({t})")] for t in self.images}
        self.addon_names = dict(con.execute("SELECT id, name FROM addons"))
        self.addon_apps = dict(con.execute("SELECT a.id, p.name FROM addons a JOIN apps p ON p.id = a.app_id"))
        con.close()


def cursor_seq(folder, entity, fmt):
    cursor = os.path.join(folder, f".maintledger-cursor-{entity}-{fmt}")
    if not os.path.exists(cursor):
        return 0
    try:
        with open(cursor) as f:
            return json.load(f)["seq"]
    except ValueError:
        return -1


def export_stage(folder, entity, fmt, cursor_before):
    """Where a kill left an export: what the folder holds past its cursor."""
    names = os.listdir(folder)
    cursor_seq_now = cursor_seq(folder, entity, fmt)
    if cursor_seq_now < 0:
        return "cursor unreadable"
    if cursor_seq_now != cursor_before:
        return "after the cursor moved"
    temp = any(n.startswith(".maintledger-tmp-") for n in names)
    pending = [n for n in names if n.startswith(entity + "-") and n.endswith("." + fmt)
               and int(n[len(entity) + 1:].split("-")[0]) > cursor_seq_now]
    if not pending:
        return "writing the data file" if temp else "before writing"
    if not os.path.exists(os.path.join(folder, pending[-1] + ".manifest.json")):
        return "writing the manifest" if temp else "between data file and manifest"
    return "writing the cursor" if temp else "between manifest and cursor"


def read_export_file(path, fmt):
    if fmt == "csv":
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            return header, [dict(zip(header, r)) | {"__fields": len(r)} for r in reader]
    rows = []
    with open(path) as f:
        for line in f:
            rows.append(json.loads(line))
    return (list(rows[0].keys()) if rows else None), rows


def as_csv(value):
    return "" if value is None else str(value)


def same(a, b):
    return type(a) is type(b) and a == b


def check_export_lane(index, folder, entity, fmt, checked_files, problems):
    """The folder's files for one entity and format, checked against the ledger: manifests match
    their files and follow one another from seq 1 without gap or overlap; the trail's entries are
    each there once, unchanged; a table's rows are there once per file that covers a change to them,
    each with the seq of its latest change in the file's range and as the trail recorded it then,
    and nothing else. Returns the number of rows read."""
    names = sorted(os.listdir(folder))
    for n in names:
        if n.startswith(".maintledger-tmp-"):
            problems.append(f"export left a temporary file {n}")
    data = [n for n in names if n.startswith(entity + "-") and n.endswith("." + fmt)]
    manifests = [n for n in names if n.startswith(entity + "-") and n.endswith("." + fmt + ".manifest.json")]
    for m in manifests:
        if m[: -len(".manifest.json")] not in data:
            problems.append(f"manifest {m} without its data file")
    data.sort(key=lambda n: int(n[len(entity) + 1:].split("-")[0]))
    expected_first = 1
    total = 0
    seen = {}
    for name in data:
        path = os.path.join(folder, name)
        mpath = path + ".manifest.json"
        if not os.path.exists(mpath):
            problems.append(f"data file {name} without a manifest")
            continue
        with open(mpath) as f:
            manifest = json.load(f)
        with open(path, "rb") as f:
            content = f.read()
        sha = hashlib.sha256(content).hexdigest()
        first, last = manifest["first_seq"], manifest["last_seq"]
        if (manifest["file"], manifest["entity"], manifest["format"]) != (name, entity, fmt):
            problems.append(f"{name}: manifest names {manifest['file']} {manifest['entity']} {manifest['format']}")
        if manifest["bytes"] != len(content) or manifest["sha256"] != sha:
            problems.append(f"{name}: size or SHA-256 differs from its manifest")
        if first != expected_first:
            problems.append(f"{name}: covers seq {first}–{last}, but the files before end at {expected_first - 1}"
                            " (rows lost or repeated)")
        if name != f"{entity}-{first:012d}-{last:012d}.{fmt}":
            problems.append(f"{name}: name does not match its range {first}–{last}")
        if last > index.head or index.entries[last][7] != manifest["head_hash"]:
            problems.append(f"{name}: head hash is not the ledger's hash at seq {last}")
        expected_first = last + 1
        header, rows = read_export_file(path, fmt)
        total += len(rows)
        if manifest["rows"] != len(rows):
            problems.append(f"{name}: {len(rows)} rows, manifest says {manifest['rows']}")
        key = (path, sha)
        if entity == "trail":
            ids = [int(r["seq"]) for r in rows]
            for i in ids:
                seen[i] = seen.get(i, 0) + 1
            if ids != list(range(first, last + 1)):
                problems.append(f"{name}: holds seqs {ids[:3]}…{ids[-3:]}, not {first}–{last}")
            if key not in checked_files:
                check_trail_rows(index, name, header, rows, fmt, problems)
        else:
            for r in rows:
                k = (int(r[ID_COLUMN[entity]]), int(r["seq"]))
                seen[k] = seen.get(k, 0) + 1
            if key not in checked_files:
                check_table_rows(index, name, entity, first, last, header, rows, fmt, problems)
        checked_files[key] = True
    repeated = [k for k, n in seen.items() if n > 1]
    if repeated:
        problems.append(f"{len(repeated)} rows exported twice, e.g. {repeated[:3]}")
    cursor_path = os.path.join(folder, f".maintledger-cursor-{entity}-{fmt}")
    cursor = 0
    if os.path.exists(cursor_path):
        with open(cursor_path) as f:
            c = json.load(f)
        cursor = c["seq"]
        if c["head_hash"] != index.entries[cursor][7]:
            problems.append("the cursor's head hash is not the ledger's")
    if cursor != expected_first - 1:
        problems.append(f"the cursor is at {cursor} but the files end at {expected_first - 1}")
    # Nothing the ledger changed after the files' last seq is missing.
    if entity == "trail":
        if cursor != index.head:
            problems.append(f"the trail files end at {cursor}, the ledger at {index.head}")
    else:
        late = [i for i, changes in index.images[entity].items() if changes[-1][0] > cursor]
        if late:
            problems.append(f"{len(late)} {entity} rows changed after seq {cursor} are in no file")
    return total


TRAIL_COLUMNS = ["seq", "recorded_at", "actor", "action", "subject", "payload", "prev_hash", "hash", "format"]


def check_trail_rows(index, name, header, rows, fmt, problems):
    columns = TRAIL_COLUMNS
    if header != columns:
        problems.append(f"{name}: columns {header}")
        return
    bad = 0
    for r in rows:
        entry = index.entries.get(int(r["seq"]))
        if entry is None:
            bad += 1
            continue
        if fmt == "csv":
            ok = r["__fields"] == len(columns) and json.loads(r["payload"]) == entry[5] \
                and all(r[c] == as_csv(v) for c, v in zip(columns, entry) if c != "payload")
        else:
            ok = all(same(r[c], v) for c, v in zip(columns, entry))
        bad += not ok
    if bad:
        problems.append(f"{name}: {bad} trail rows differ from the ledger's entries")


# The export formats a new folder gets: maintenances format 3, the columns of the view
# maintenance_audit (migration 0009: 0008's and who moved it last), windows format 2, the columns
# of window_changes (0008); then seq. Those that copy a table column, by the table's name; the rest are derived, and checked
# by Tests/Auditors/auditor_tools.py and the Swift tests instead.
EXPORT_COLUMNS = {
    "maintenances": ["maintenance_id", "uuid", "app", "addon", "kind", "plan", "status", "reason", "method", "emergency",
                     "customer_requested", "created_at", "required_by", "has_deadline", "scheduled_for",
                     "previously_scheduled_for", "scheduled_window", "outside_window", "started_at", "started_in_window",
                     "completed_at", "duration_seconds", "ended_at", "ended_by", "deadline_met", "server_created_at",
                     "last_moved_by", "last_moved_at", "times_moved", "seq"],
    "windows": ["window_id", "app", "addon", "kind", "plan", "set_at", "set_by", "source", "previous_window_text",
                "previous_day_of_week", "previous_day_name", "previous_start_minute", "previous_start_time", "window_text",
                "day_of_week", "day_name", "start_minute", "start_time", "end_time", "seq"],
}
ID_COLUMN = {"maintenances": "maintenance_id", "windows": "window_id"}
COPIED = {
    "maintenances": {"maintenance_id": "id", "uuid": "uuid", "status": "status", "reason": "reason", "method": "method",
                     "emergency": "emergency", "customer_requested": "customer_requested", "created_at": "created_at",
                     "required_by": "required_by", "scheduled_for": "scheduled_for",
                     "previously_scheduled_for": "previously_scheduled_for", "scheduled_window": "window",
                     "outside_window": "outside_window", "started_at": "started_at", "completed_at": "completed_at",
                     "duration_seconds": "duration_seconds", "server_created_at": "server_created_at"},
    "windows": {"window_id": "id", "set_at": "set_at", "set_by": "set_by", "source": "source",
                "day_of_week": "day_of_week", "start_minute": "start_minute"},
}


def check_table_rows(index, name, entity, first, last, header, rows, fmt, problems):
    columns = EXPORT_COLUMNS[entity]
    extra = ["addon", "app", "seq"]
    if header is not None and header != columns:
        problems.append(f"{name}: columns {header}, expected {columns}")
        return
    images = index.images[entity]
    # The rows the file must hold: every row changed by an entry in first…last (the first file: every row).
    expected = {}
    for i, changes in images.items():
        seqs = [s for s, _ in changes]
        lo = bisect.bisect_left(seqs, first)
        hi = bisect.bisect_right(seqs, last)
        if hi > lo:
            expected[i] = (last if first == 1 else seqs[hi - 1], changes[hi - 1][1])
    ids = [int(r[ID_COLUMN[entity]]) for r in rows]
    if ids != sorted(set(ids)):
        problems.append(f"{name}: ids not in order or repeated")
    missing = set(expected) - set(ids)
    surplus = set(ids) - set(expected)
    if missing:
        problems.append(f"{name}: {len(missing)} rows changed in seq {first}–{last} are missing, e.g. {sorted(missing)[:3]}")
    if surplus:
        problems.append(f"{name}: {len(surplus)} rows not changed in seq {first}–{last}, e.g. {sorted(surplus)[:3]}")
    bad = []
    for r in rows:
        i = int(r[ID_COLUMN[entity]])
        if i not in expected:
            continue
        seq, image = expected[i]
        names = {"addon": index.addon_names.get(image["addon_id"]), "app": index.addon_apps.get(image["addon_id"]), "seq": seq}
        copied = [(c, bool(image[t]) if c in FLAGS else image[t]) for c, t in COPIED[entity].items()] + [(c, names[c]) for c in extra]
        if fmt == "csv":
            # Booleans are true/false in CSV too (format 2).
            ok = r["__fields"] == len(columns) and all(r[c] == ("true" if v else "false") if isinstance(v, bool) else r[c] == as_csv(v)
                                                       for c, v in copied)
        else:
            ok = list(r.keys()) == columns and all(same(r[c], v) for c, v in copied)
        if not ok:
            bad.append(i)
    if bad:
        problems.append(f"{name}: {len(bad)} rows differ from the trail's image of them, e.g. ids {bad[:3]}")


def plant_export(folder, entity, fmt, plant):
    """Repeats (export-dup) or removes (export-drop) a row of the newest file, and rewrites its
    manifest to match, so that only the union check can see it."""
    newest = sorted(n for n in os.listdir(folder) if n.startswith(entity + "-") and n.endswith("." + fmt))[-1]
    path = os.path.join(folder, newest)
    with open(path, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    body_start = 1 if fmt == "csv" else 0
    if plant == "export-dup":
        lines.append(lines[-1])
    else:
        del lines[body_start]
    content = b"".join(lines)
    with open(path, "wb") as f:
        f.write(content)
    mpath = path + ".manifest.json"
    with open(mpath) as f:
        manifest = json.load(f)
    manifest.update(bytes=len(content), sha256=hashlib.sha256(content).hexdigest(),
                    rows=manifest["rows"] + (1 if plant == "export-dup" else -1))
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
    log(f"PLANTED: {'repeated the last' if plant == 'export-dup' else 'removed the first'} row of {newest}, manifest rewritten")


# MARK: main

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "writer":
        p = argparse.ArgumentParser()
        for option in ("--bin", "--db", "--log", "--prefix"):
            p.add_argument(option, required=True)
        p.add_argument("--seed", type=int, required=True)
        writer_main(p.parse_args(sys.argv[2:]))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--short", dest="mode", action="store_const", const="short", default="full")
    p.add_argument("--trials", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--only")
    p.add_argument("--plant", choices=sorted(PLANTS))
    args = p.parse_args()
    args.bin = os.path.abspath(args.bin)
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    scenarios = args.only.split(",") if args.only else SCENARIOS
    for s in scenarios:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s}; choose from {', '.join(SCENARIOS)}")
    total = args.trials or DEFAULT_TRIALS[args.mode]
    counts = {s: total // len(scenarios) + (i < total % len(scenarios)) for i, s in enumerate(scenarios)}
    log(f"{args.mode} mode, {total} trials, seed {args.seed}, binary {args.bin}, work folder {args.work}")
    trials = Trials(args)
    all_stats = []
    started = time.monotonic()
    for s in scenarios:
        stats = Stats(s)
        _, stats.seconds = timed(lambda: getattr(trials, f"scenario_{s}")(stats, counts[s]))
        all_stats.append(stats)
        notes = "; ".join(f"{k} {v}" for k, v in sorted(stats.notes.items()))
        print(f"{s:9} {stats.trials:4} trials, {stats.landed:4} kills landed mid-run, {stats.acked:5} acked writes "
              f"checked, {stats.failures} failures, {stats.seconds:6.1f} s  ({notes})", flush=True)
    seconds = time.monotonic() - started
    failures = sum(s.failures for s in all_stats)
    print(f"total     {sum(s.trials for s in all_stats):4} trials, {sum(s.landed for s in all_stats):4} kills landed "
          f"mid-run, {sum(s.acked for s in all_stats):5} acked writes checked, {failures} failures, {seconds:6.1f} s "
          f"({args.mode} mode, seed {args.seed})", flush=True)
    if failures:
        log(f"{failures} failed trials:")
        for scenario, trial, what, problems in trials.failed_trials:
            log(f"  {scenario} {trial}: {what}: {problems[0]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
