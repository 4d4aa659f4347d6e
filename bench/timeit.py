#!/usr/bin/env python3
"""Times a command end to end, best of N runs, and appends the result to a JSONL file.

    python3 bench/timeit.py --out RESULTS --key KEY [--runs N] [--budget S] [--fresh-dir DIR]
                            [--stdout FILE] [--fsync-stdout] [--rss] [--expect-stdout RE]
                            [--expect-stderr RE] [--note TEXT] -- COMMAND ARG...

Each run is a new process (wall-clock from spawn to exit, measured here). --fresh-dir empties
and re-creates DIR before each run, outside the timed part. --stdout sends the command's output
to FILE (else it is read and kept for --expect-stdout); with --fsync-stdout FILE is fsynced
before the clock stops (as `export` fsyncs its files). --rss runs the command under
`/usr/bin/time -f %M` and records its peak resident set size. Runs stop early once their total
passes --budget seconds (at least one run is made). A run that exits non-zero, or whose output
does not match --expect-stdout / --expect-stderr, is recorded as a problem (with the actual
output), reported on stderr, and makes this script exit 1.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=float("inf"))
    parser.add_argument("--fresh-dir")
    parser.add_argument("--stdout")
    parser.add_argument("--fsync-stdout", action="store_true")
    parser.add_argument("--rss", action="store_true")
    parser.add_argument("--expect-stdout")
    parser.add_argument("--expect-stderr")
    parser.add_argument("--note", default="")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")

    times, rss = [], []
    problem = None
    stdout_text = stderr_text = ""
    spent = 0.0
    for run in range(args.runs):
        if args.fresh_dir:
            shutil.rmtree(args.fresh_dir, ignore_errors=True)
            os.makedirs(args.fresh_dir)
        rss_file = None
        argv = command
        if args.rss:
            rss_file = tempfile.NamedTemporaryFile(prefix="bench-rss-", delete=False)
            rss_file.close()
            argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + command
        out = open(args.stdout, "wb") if args.stdout else subprocess.PIPE
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE)
        captured, errors = process.communicate()
        if args.stdout and args.fsync_stdout:
            out.flush()
            os.fsync(out.fileno())
        elapsed = time.perf_counter() - start
        if args.stdout:
            out.close()
        stdout_text = (captured or b"").decode(errors="replace")
        stderr_text = errors.decode(errors="replace")
        if rss_file:
            with open(rss_file.name) as f:
                lines = [line for line in f.read().split("\n") if line.strip()]
            os.unlink(rss_file.name)
            if lines and lines[-1].strip().isdigit():
                rss.append(int(lines[-1]))
        if process.returncode != 0:
            problem = f"exit {process.returncode}; stderr: {stderr_text.strip()[-600:]}"
            break
        if args.expect_stdout and not re.search(args.expect_stdout, stdout_text):
            problem = f"stdout does not match /{args.expect_stdout}/: {stdout_text.strip()[:600]!r}"
            break
        if args.expect_stderr and not re.search(args.expect_stderr, stderr_text):
            problem = f"stderr does not match /{args.expect_stderr}/: {stderr_text.strip()[:600]!r}"
            break
        times.append(elapsed)
        spent += elapsed
        print(f"  {args.key} run {run + 1}: {elapsed:.3f} s" + (f", peak RSS {rss[-1] / 1024:.1f} MB" if rss else ""),
              file=sys.stderr)
        if spent > args.budget:
            break

    result = {"key": args.key, "command": command, "runs": times, "best": min(times) if times else None,
              "rss_kb": max(rss) if rss else None, "note": args.note,
              "stdout": stdout_text[:2000], "stderr": stderr_text[-2000:], "problem": problem}
    with open(args.out, "a") as f:
        f.write(json.dumps(result) + "\n")
    if problem:
        print(f"bench: PROBLEM in {args.key}: `{' '.join(command)}`: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
