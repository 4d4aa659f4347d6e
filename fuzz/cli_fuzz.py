#!/usr/bin/env python3
"""Property-based fuzzing of the `maintledger` command line (issue 13, "Bad input, everywhere").

Runs the built binary on a copy of a small scratch ledger with generated arguments, environment
variables and import files, and checks every run:

- no signal (a crash, a trap), no hang (a time-out; waits that are waits are counted apart);
- the exit code is a documented one (README "Output and exit codes": 0 1 3 4 64 65 74 75);
- a failure's stderr is `Error: ...` on one line, optionally preceded by `Warning: ...` lines
  and followed by one hint line; ArgumentParser's usage errors (`   or: `, `Help:`, `Usage:`
  and `See '...' for more information.` lines) are counted apart, and one that holds any other
  line (a value echoed with its line breaks) is a finding;
- no raw control character, line separator or bidirectional control on stderr (maintledger's
  own messages write them out; ArgumentParser's do not);
- no raw SQLite error (`Error: SQLite error ...`) and no Swift runtime failure reaches the user;
- a failed command changed nothing: the ledger's dump is byte for byte the same (a command that
  ends with exit 74 may have recorded), a missing ledger is still missing, a file that is not a
  ledger has the same bytes, nothing is left beside /dev/null (SQLite's journal, as root);
- a command that exits 0 and changed the ledger leaves one that `audit:verify` accepts.

Children run with a 4 GB address-space limit, so that a runaway allocation is a finding (a
crash) rather than the machine's memory.

Seeded and reproducible: the same --seed and --cases give the same runs. Each finding is kept
in --out as a JSON record and a shell script that reproduces it.

    python3 fuzz/cli_fuzz.py --bin PATH/TO/maintledger --cases 3000 --seed 1 --out /tmp/cli-fuzz
"""

import argparse
import collections
import difflib
import hashlib
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import sqlite3  # only to make a SQLite file that is not a ledger
import subprocess
import sys
import time
import unicodedata

DOCUMENTED_EXIT_CODES = {0, 1, 3, 4, 64, 65, 74, 75}
DEFAULT_NOW = "2023-05-01T12:00:00.000Z"
# Linux refuses one argument or environment string of 128 KiB or more (MAX_ARG_STRLEN), so a
# "huge" argument is about the largest one that can be passed (room left for `--option=` or
# `NAME=`); megabytes go through import files and standard input.
HUGE_BYTES = 131_000
HUGE = "a" * HUGE_BYTES
BUILD_NOW = "2023-04-24T09:00:00Z"

# MARK: - values


def odd_times(rng):
    """Times people, systems and attackers type."""
    fixed = [
        "9999-99-99", "9999-12-31", "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999-14:00",
        "9999-12-31T23:59:59-00:01", "0000-01-01", "0000-01-01T00:00:00Z", "0000-01-01T00:00:00+14:00",
        "0000-01-01T00:00:00+00:01", "1970-01-01", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000+14:00",
        "1969-12-31T23:59:59.999Z", "2016-12-31T23:59:60Z", "2023-04-28T23:59:60+00:00", "2023-04-28T18:04:21+14:00",
        "2023-04-28T18:04:21-12:00", "2023-04-28T18:04:21+23:59", "2023-04-28T18:04:21+24:00", "+14:00", "-00:00",
        "-0001-01-01", "-2023-04-28", "+002023-04-28", "2023-02-29", "2024-02-29", "2023-04-31", "2023-13-01",
        "2023-00-10", "2023-04-28T24:00:00Z", "2023-04-28T23:59:59.9999999999999999999Z", "2023-04-28T18:04:21,141Z",
        "2023-04-28t18:04:21z", "2023-04-28 18:04:21 +0000", "2023-04-28 ", " 2023-04-28", "", " ",
        "2023-04-28T18:04:21.141Z\n", "20230428T180421Z", "2023-W17-5", "2023-118", "now", "today", "1682705061",
        "\uff12\uff10\uff12\uff13-04-28", "\u0662\u0660\u0662\u0663-04-28", "2023-04-28T18:04:21.141Z" + "9" * 100_000,
        "2023-04-28T18:04:21." + "9" * (HUGE_BYTES - 30) + "Z", "2023-04-28\u202eZ", "2023-04-28T18:04:21.141Z\x00"[:-1],
        "2023-05-02T00:00:00Z", "2023-04-30T23:59:59.999Z", "2023-05-01T12:00:00.001Z", "2023-05-01T12:00:00Z",
        "2022-12-26T08:30:37.872Z", "2023-05-03T08:54:02.518Z", "2023-04-28",
    ]
    if rng.random() < 0.6:
        return rng.choice(fixed)
    # A random time in a random form, across the whole range and its edges.
    year = rng.choice([0, 1, 1969, 1970, 2022, 2023, 2024, 2100, 9998, 9999, rng.randint(0, 9999)])
    month = rng.choice([1, 2, 12, rng.randint(0, 13)])
    day = rng.choice([1, 28, 29, 30, 31, rng.randint(0, 32)])
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if rng.random() < 0.8:
        hour, minute, second = rng.choice([0, 23, 24, rng.randint(0, 23)]), rng.choice([0, 59, 60]), rng.choice([0, 59, 60, 61])
        text += rng.choice(["T", " ", "t"]) + f"{hour:02d}:{minute:02d}"
        if rng.random() < 0.7:
            text += f":{second:02d}"
            if rng.random() < 0.5:
                text += rng.choice([".", ","]) + "".join(rng.choice("0123456789") for _ in range(rng.choice([1, 3, 9, 20])))
        text += rng.choice(["", "Z", "z", "+00:00", "-00:00", "+14:00", "-14:00", "+23:59", "-23:59", "+0530", " +0000", "+1", "+99:99"])
    return text


CONTROL = "".join(chr(c) for c in range(1, 32)) + "\x7f\u0085\u2028\u2029\u202e\u200b\u2066\ufeff"


def odd_strings(rng):
    """Names and free text: valid ones, huge, unicode, RTL, control characters (never NUL)."""
    fixed = [
        "example-app", "reporting-app", "redis-lively-12345", "REDIS_URL", "REDIS", "DATABASE_URL", "postgresql-pending-1",
        "kafka-basic-1", "redis-running-1", "CACHE", "nosuch-app", "a", "ab", "abc", "a" * 30, "a" * 31, "a" * 60, "a" * 61,
        "", " ", "-", "--", "-a", "--db", "--help", "-h", "Example-App", "exämple-app", "example_app", "1app",
        HUGE, "\u00fc" * (HUGE_BYTES // 2), "\U0001F680" * (HUGE_BYTES // 4), "\u202eppa-elpmaxe", "example-app\u202e",
        "\u05d0\u05e4\u05dc\u05d9\u05e7\u05e6\u05d9\u05d4", "e\u0301xample", "\u212aafka", "ops\nseq 999 forged line",
        "a\rb", "a\tb", "\x1b[31mred\x1b[0m", "premium HA", "'; DROP TABLE apps; --", "%s%s%n", "${HOME}", "$(id)",
        "\\", "\"", "REDIS_URL\n", "redis-lively-12345 ", " redis-lively-12345", "\u200bexample-app",
    ]
    if rng.random() < 0.7:
        return rng.choice(fixed)
    alphabet = rng.choice(["abcdefghijklmnopqrstuvwxyz0123456789-", CONTROL, "é中🚀\u0301\u202e", "ABCDEFGHIJ_URL"])
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 3, 10, 40, 1000])))


def odd_numbers(rng):
    return rng.choice([
        "0", "1", "2", "-1", "-2", "5", "1000", "1001", "-1000", "-1001", "36500", "36501", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "99999999999999999999999999", "1e309",
        "1e308", "1e-320", "nan", "NaN", "inf", "-inf", "0x10", "1_000", " 1", "1 ", "+1", "\u0663", "1.5", "-0", "0.5",
        "00000000000000000000001", "", "1e3", "0.0000001", "4294967296", "18446744073709551615", "18446744073709551616",
    ])


def invalid_utf8(rng):
    return rng.choice([b"\xff", b"\xfe\xff", b"\xc3", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe2\x82", b"\xf4\x90\x80\x80",
                       b"example-app\xff", b"\x80abc", b"redis-\xc3\xa9-\xff"])


def maybe_bytes(rng, text):
    """Sometimes a value becomes bytes with invalid UTF-8 in it."""
    if rng.random() < 0.06:
        raw = text.encode("utf-8", "surrogatepass")[:200]
        cut = rng.randint(0, len(raw))
        return raw[:cut] + invalid_utf8(rng) + raw[cut:]
    return text


# MARK: - import files


class ImportFiles:
    """Import files made from the demo's lines: valid, truncated, corrupted, huge, nested."""

    def __init__(self, seed_lines):
        self.lines = seed_lines

    def make(self, rng, folder, index):
        """Writes the file into `folder` (staged) and returns its kind, the path the command gets
        (under {work}, where the case runs) and what stdin gets."""
        line = rng.choice(self.lines)
        kind = rng.choice([
            "valid", "valid-many", "truncated", "truncated-mid-file", "byte-flip", "deep-array", "deep-in-field",
            "huge-line", "huge-string-field", "invalid-utf8", "nul-bytes", "bom", "crlf", "many-keys", "duplicate-key",
            "canonical-duplicate", "numbers", "times", "field-types", "empty-lines", "no-newline-huge", "unicode-names",
            "future", "control-in-strings", "dev-null", "stdin", "folder", "missing", "not-json",
        ])
        path = os.path.join(folder, f"import-{index}.ndjson")
        named = f"{{work}}/import-{index}.ndjson"
        data = None
        if kind == "valid":
            data = (line + "\n").encode()
        elif kind == "valid-many":
            data = ("\n".join(rng.sample(self.lines, min(len(self.lines), rng.randint(2, 30)))) + "\n").encode()
        elif kind == "truncated":
            data = line.encode()[: rng.randint(0, len(line))]
        elif kind == "truncated-mid-file":
            good = rng.sample(self.lines, min(len(self.lines), 5))
            data = ("\n".join(good) + "\n" + line[: rng.randint(1, len(line) - 1)]).encode()
        elif kind == "byte-flip":
            raw = bytearray(line.encode())
            for _ in range(rng.randint(1, 5)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            data = bytes(raw) + b"\n"
        elif kind == "deep-array":
            depth = rng.choice([63, 64, 65, 1000, 100_000])
            data = ("[" * depth + "]" * depth * rng.choice([0, 1]) + "\n").encode()
        elif kind == "deep-in-field":
            depth = rng.choice([60, 63, 64, 100_000])
            data = (line.replace('"addon_description":null', '"addon_description":' + "[" * depth + "]" * depth, 1) + "\n").encode()
        elif kind == "huge-line":
            data = (line[:-1] + ',"x":"' + "a" * rng.choice([1_000_000, 20_000_000]) + '"}\n').encode()
        elif kind == "huge-string-field":
            data = (line.replace('"addon_description":null', '"addon_description":"' + rng.choice(["é", "a", "\\n", "\\u202e"]) * 1_000_000 + '"', 1) + "\n").encode()
        elif kind == "invalid-utf8":
            raw = line.encode()
            at = rng.choice([m.start() + 1 for m in re.finditer(b'"', raw)])
            data = raw[:at] + invalid_utf8(rng) + raw[at:] + b"\n"
        elif kind == "nul-bytes":
            raw = line.encode()
            at = rng.randrange(len(raw))
            data = raw[:at] + b"\x00" + raw[at:] + b"\n"
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + line.encode() + b"\n"
        elif kind == "crlf":
            data = (line + "\r\n" + line + "\r\r\n").encode()
        elif kind == "many-keys":
            data = (line[:-1] + "," + ",".join(f'"k{i}":{i}' for i in range(rng.choice([20, 100_000]))) + "}\n").encode()
        elif kind == "duplicate-key":
            key = rng.choice(["status", "uuid", "app", "addon", "required_by", "name"])
            data = (line.replace("{", '{"' + key + '":null,', 1) + "\n").encode()
        elif kind == "canonical-duplicate":
            # Two keys that differ in bytes but are equal as Swift Strings (canonical equivalence).
            data = (line[:-1] + ',"\u00e9":1,"e\u0301":2}\n').encode()
        elif kind == "numbers":
            value = rng.choice(["1e400", "-1e400", "9223372036854775808", "-0", "186.0", "1.5", "01", "1e2", "-9223372036854775809", "0.1e1"])
            data = (re.sub(r'"duration_seconds":[^,]*', lambda _: '"duration_seconds":' + value, line) + "\n").encode()
        elif kind == "times":
            field = rng.choice(["required_by", "scheduled_for", "started_at", "completed_at", "server_created_at", "previously_scheduled_for"])
            replacement = '"' + field + '":' + json.dumps(odd_times(rng)[:200])
            data = (re.sub(r'"' + field + r'":("[^"]*"|null)', lambda _: replacement, line) + "\n").encode()
        elif kind == "field-types":
            field = rng.choice(["uuid", "status", "app", "addon", "attachments", "kind", "emergency", "window", "plan", "name"])
            value = rng.choice(["1", "true", "[]", "{}", '""', '"x"', "null", '["a",1]', '"' + "a" * 1000 + '"'])
            data = (re.sub(r'"' + field + r'":("[^"]*"|null|true|false|\[[^\]]*\])', lambda _: '"' + field + '":' + value, line, count=1) + "\n").encode()
        elif kind == "empty-lines":
            data = ("\n \n\t\n" + line + "\n\n").encode()
        elif kind == "no-newline-huge":
            data = b" " * 5_000_000 + line.encode()
        elif kind == "unicode-names":
            name = rng.choice(["\u212aafka", "exämple", "app\u202e", "a\nb", "\U0001F680" * 10, "x" * 100])
            data = (line.replace('"name":"', '"name":' + json.dumps(name)[:-1], 1) + "\n").encode()
        elif kind == "future":
            data = (re.sub(r'"completed_at":"[^"]*"', lambda _: '"completed_at":"2099-01-01T00:00:00Z"', line) + "\n").encode()
        elif kind == "control-in-strings":
            data = (line.replace('"addon_description":null', '"addon_description":"a\\u0000b\\n\\u001b[31m\\u202e"', 1) + "\n").encode()
        elif kind == "not-json":
            data = rng.choice([b"hello\n", b"\x00\x01\x02", b"null\n", b"[]\n", b"1\n", b'"a"\n', b"{}\n", b"{" * 10])
        elif kind == "dev-null":
            return kind, "/dev/null", None
        elif kind == "stdin":
            return kind, "-", (line + "\n").encode()
        elif kind == "folder":
            return kind, "{work}", None
        elif kind == "missing":
            return kind, "{work}/missing.ndjson", None
        with open(path, "wb") as handle:
            handle.write(data)
        return kind, named, None


# MARK: - the commands


class Command:
    def __init__(self, name, positionals, options):
        self.name = name
        self.positionals = positionals  # names like "app", "service:plan"
        self.options = options  # [(long, short, value_name or None, [values])]


def discover(binary):
    """Every subcommand with its arguments and options, from `--help`."""
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    names = re.findall(r"^  ([a-z][a-z:]*)(?:\s|$)", help_text.split("SUBCOMMANDS:")[1], re.M)
    commands = []
    for name in names:
        text = subprocess.run([binary, name, "--help"], capture_output=True, text=True).stdout
        usage = re.search(r"USAGE: maintledger \S+(.*)", text).group(1)
        positionals = [m for m in re.findall(r"(?<![-\w] )<([^>]+)>", usage) if not re.search(r"--[\w-]+ <" + re.escape(m) + ">", usage)]
        if "<options>" in usage:
            positionals = [p for p in positionals if p != "options"]
        options = []
        body = text.split("OPTIONS:")[1] if "OPTIONS:" in text else ""
        for match in re.finditer(r"^  (?:-(\w), )?--([\w-]+)(?: <([^>]+)>)?(.*(?:\n {10,}.*)*)", body, re.M):
            short, long, value, description = match.groups()
            if long == "help":
                continue
            values = re.search(r"\(values: ([^;)]*)", description.replace("\n", " "))
            choices = [v.strip() for v in re.sub(r"\s+", " ", values.group(1)).split(",")] if values else []
            options.append((long, short, value, choices))
        commands.append(Command(name, positionals, options))
    return commands


TIME_OPTIONS = {"at", "required-by", "server-created-at", "since", "until", "as-of", "week", "start"}
NUMBER_OPTIONS = {"weeks", "limit", "num", "since-seq", "timeout", "max-rows", "apps", "days", "seed", "failure-rate"}
SQL_QUERIES = [
    "SELECT count(*) FROM maintenances", "SELECT * FROM audit_trail", "DELETE FROM apps", "DROP TABLE apps",
    "INSERT INTO apps VALUES (1)", "PRAGMA writable_schema = 1", "ATTACH DATABASE '/tmp/x' AS x", "SELECT load_extension('x')",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "SELECT randomblob(100000000)", "SELECT zeroblob(1000000000)", "SELECT printf('%.*c', 1000000000, 'x')",
    "SELECT 1; DELETE FROM apps", "", ";", "SELECT", "SELECT char(10) || 'forged'", "SELECT x'ff00fe'",
    "SELECT 1e999, -1e999, 0.0/0", "SELECT 9223372036854775807 + 1", "VACUUM", "BEGIN", "SELECT * FROM sqlite_master",
]


# Paths outside the case's folder are ones nothing can be made in (/proc): a command that records
# makes the missing folders of its ledger's path, and as root it would make them anywhere.
def option_value(rng, long, value_name, choices, import_file):
    if choices and rng.random() < 0.6:
        return rng.choice(choices)
    if long in TIME_OPTIONS or value_name in ("time", "yyyy-mm-dd"):
        return odd_times(rng) if rng.random() < 0.85 else odd_strings(rng)
    if long in NUMBER_OPTIONS:
        return odd_numbers(rng) if rng.random() < 0.9 else odd_strings(rng)
    if long == "to":
        return rng.choice(["{work}/export", "{work}", "/proc/maintledger-fuzz/folder", "{work}/ledger.sqlite", "", "/dev/null", "/proc"])
    if long == "db":
        return rng.choice(["{db}", "{db}", "{db}", "/proc/maintledger-fuzz/x/ledger.sqlite", "{work}", "/dev/null", "", "{work}/not-a-ledger",
                           "{work}/new/sub/ledger.sqlite"])
    return odd_strings(rng)


def positional_value(rng, name, import_file):
    if name == "file":
        return import_file
    if name == "service:plan":
        return rng.choice(["heroku-redis:premium-0", "heroku-redis:mini", "heroku-postgresql:standard-0", "heroku-kafka:basic-0",
                           "heroku-redis:premium-99999999999999999999", "heroku-redis:premium--1", "heroku-redis:", ":premium-0",
                           "heroku-redis:premium-0:x", "redis:premium-0", "heroku-redis:PREMIUM-0", odd_strings(rng)])
    if name == "day":
        return rng.choice(["sunday", "Sundays", "SUN", "fri", "friday", "Fridays", "sundays", "Sundayss", "", "mon\n",
                           "\u0441unday", odd_strings(rng)])
    if name == "time":
        return rng.choice(["14:30", "2:30PM", "2:30 pm", "12:00am", "12:30pm", "00:00", "23:30", "24:00", "23:59", "13:00PM",
                           "0:00AM", "1:0", "01:000", "+1:30", "-0:00", "١٤:٣٠", "14:30\n", odd_strings(rng)])
    if name == "query":
        return rng.choice(SQL_QUERIES)
    if name in ("addon", "app", "attachment"):
        return odd_strings(rng)
    return odd_strings(rng)


def generate(rng, commands, import_files, staging):
    """One case: argv (str or bytes items), environment changes, stdin, and what it touches."""
    command = rng.choice(commands)
    argv = []
    notes = {}
    if rng.random() < 0.02:
        argv.append(rng.choice(["nosuch", "", "help", "--version", "-h", "APPS:CREATE", "apps:create\n"]))
    else:
        argv.append(command.name)
    stdin = None
    import_file = None
    if command.name == "import":
        notes["import"], import_file, stdin = import_files.make(rng, staging, 0)
    for name in command.positionals:
        if rng.random() < 0.95:
            argv.append(maybe_bytes(rng, positional_value(rng, name, import_file)))
    if rng.random() < 0.03:
        argv.append(odd_strings(rng))  # one too many
    use_db = rng.random() < 0.9
    for long, short, value_name, choices in command.options:
        if long == "db":
            continue
        # Waiting commands get a short time-out (a wait on a running maintenance waits, as documented).
        chance = 0.9 if long == "timeout" and command.name.endswith("wait") else 0.35
        if rng.random() >= chance:
            continue
        flag = f"-{short}" if short and rng.random() < 0.3 else f"--{long}"
        if value_name is None:
            argv.append(flag)
            continue
        value = option_value(rng, long, value_name, choices, import_file)
        if long == "timeout" and (command.name.endswith("wait") or command.name == "sql") and rng.random() < 0.7:
            value = rng.choice(["0.2", "1", "0.001"])
        value = maybe_bytes(rng, value)
        if rng.random() < 0.15 and isinstance(value, str):
            argv.append(f"{flag}={value}")
        else:
            argv += [flag, value]
        if rng.random() < 0.03:
            argv += [flag, value]  # the same option twice
    if command.name == "simulate":
        # A fleet that would legitimately take minutes is not a hang: keep the valid ones small.
        for option in ("--apps", "--days"):
            if option in argv:
                at = argv.index(option) + 1
                if isinstance(argv[at], str) and argv[at].isdigit() and 5 < int(argv[at]) <= 36500:
                    argv[at] = str(rng.randint(1, 5))
    if rng.random() < 0.03:
        argv.insert(rng.randint(1, len(argv)), rng.choice(["--", "--nosuch", "-", "-x", "--db", "--app"]))
    if use_db:
        db = rng.choice(["{db}"] * 8 + [option_value(rng, "db", "path", [], None)])
        argv += ["--db", db] if rng.random() < 0.8 else [f"--db={db}"]
    # The environment.
    env = {}
    if rng.random() < 0.15:
        env["MAINTLEDGER_NOW"] = maybe_bytes(rng, odd_times(rng))
    if rng.random() < 0.06:
        env["MAINTLEDGER_ACTOR"] = maybe_bytes(rng, odd_strings(rng))
    if rng.random() < 0.04:
        env["MAINTLEDGER_SEED"] = maybe_bytes(rng, odd_numbers(rng))
    if rng.random() < 0.04:
        env["USER"] = maybe_bytes(rng, odd_strings(rng))
        if rng.random() < 0.5:
            env["MAINTLEDGER_ACTOR"] = ""
    if not use_db and rng.random() < 0.5:
        env["MAINTLEDGER_DB"] = rng.choice(["{db}", "{db}", "", "/proc/maintledger-fuzz/x.sqlite", "{work}"])
    if not use_db and rng.random() < 0.3:
        env["XDG_DATA_HOME"] = maybe_bytes(rng, rng.choice(["{work}/xdg", "", "relative/path", "\u00e9\u202e", "{work}/ledger.sqlite"]))
    # The ledger the case starts from.
    ledger = rng.choices(["base", "missing", "empty-file", "not-sqlite", "other-sqlite"], [0.86, 0.06, 0.03, 0.03, 0.02])[0]
    full_stdout = rng.random() < 0.02
    return {"argv": argv, "env": env, "stdin": stdin, "ledger": ledger, "notes": notes, "full_stdout": full_stdout}


# MARK: - running and checking


def encode(value, work, db):
    if isinstance(value, bytes):
        return value.replace(b"{work}", work.encode()).replace(b"{db}", db.encode())
    return value.replace("{work}", work).replace("{db}", db).encode("utf-8", "surrogatepass")


STRAYS = ["/dev/null-journal", "/dev/null-wal", "/dev/null-shm"]
SNAPSHOTS = None  # where ledger_state copies a ledger to dump it
DUMPS = {}  # the text of each dump seen, by digest (a changed ledger's difference is kept with its finding)


def ledger_state(path):
    """The ledger's whole content (`sqlite3 .dump` of a copy, with its WAL: reading the ledger
    itself could checkpoint or create files beside it), or the file's bytes when it is no ledger."""
    if not os.path.exists(path):
        return ("missing",)
    if os.path.isdir(path):
        return ("folder",)
    with open(path, "rb") as handle:
        raw = handle.read()
    if not raw.startswith(b"SQLite format 3\x00"):
        return ("bytes", hashlib.sha256(raw).hexdigest())
    copy = os.path.join(SNAPSHOTS, "copy.sqlite")
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
    shutil.copyfile(path, copy)
    if os.path.exists(path + "-wal"):
        shutil.copyfile(path + "-wal", copy + "-wal")
    dump = subprocess.run(["sqlite3", copy, ".dump"], capture_output=True)
    if dump.returncode != 0 or b"CREATE TABLE" not in dump.stdout:
        return ("bytes", hashlib.sha256(raw).hexdigest())
    text = dump.stdout.decode("utf-8", "surrogateescape")
    digest = hashlib.sha256(dump.stdout).hexdigest()
    DUMPS[digest] = text
    return ("dump", digest)


USAGE_TAIL = re.compile(r"^  See 'maintledger( [^']*)? --help' for more information\.$")
BIDI_CONTROLS = {0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}


def controls_display(character):
    """What maintledger's own messages write out (`escapingControlCharacters`): a control
    character, a line or paragraph separator, a bidirectional control."""
    return unicodedata.category(character) in ("Cc", "Zl", "Zp") or ord(character) in BIDI_CONTROLS


def classify_stderr(stderr, code=None):
    """The shape of a failure's stderr (exit 74 comes after the work, so after its progress lines)."""
    text = stderr.decode("utf-8", "replace")
    if not text.endswith("\n"):
        return "no-final-newline"
    lines = text[:-1].split("\n")
    if any(controls_display(c) for line in lines for c in line):
        return "raw-control-character"
    while lines and (lines[0].startswith("Warning: ") or (code == 74 and not lines[0].startswith("Error: "))):
        lines.pop(0)
    if not lines or not lines[0].startswith("Error: "):
        return "no-error-line"
    rest = lines[1:]
    if not rest:
        return "one-line"
    if "Usage: maintledger" in text:
        # ArgumentParser: `Error: …`, maybe `   or: …` (a second reading of the same word),
        # maybe `Help: …`, then `Usage: …` and `  See '…' for more information.` (`help` has
        # no See line). Any other line is a value it echoed across lines.
        known = all(line.startswith(("   or: ", "Help: ", "Usage: ")) or USAGE_TAIL.match(line) for line in rest)
        ends = USAGE_TAIL.match(rest[-1]) or rest[-1].startswith("Usage: maintledger help ")
        return "argparser-usage" if known and ends else "argparser-value-across-lines"
    if len(rest) == 1 and not rest[0].startswith("Error"):
        return "error-and-hint"
    return "several-lines"


FINDING_SHAPES = {"no-final-newline", "no-error-line", "raw-control-character", "argparser-value-across-lines", "several-lines"}


class Fuzzer:
    def __init__(self, binary, out, timeout):
        self.binary = os.path.abspath(binary)
        self.out = out
        self.timeout = timeout
        self.root = os.path.join(out, "scratch")
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        self.base = os.path.join(self.root, "base.sqlite")
        global SNAPSHOTS
        SNAPSHOTS = os.path.join(self.root, "snapshots")
        os.makedirs(SNAPSHOTS)
        self.findings = []
        self.totals = collections.Counter()
        self.shapes = collections.Counter()
        self.argparser_examples = {}
        self.sql_errors = 0

    def child_limits(self):
        # Memory beyond 4 GB is a finding (an OOM, a crash), not a machine brought down.
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        os.setsid()

    def run(self, argv, env, cwd, stdin=None, stdout_path=None, timeout=None):
        stdout_handle = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
        started = time.monotonic()
        try:
            process = subprocess.Popen([self.binary.encode()] + argv, env=env, cwd=cwd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                       stdout=stdout_handle, stderr=subprocess.PIPE, preexec_fn=self.child_limits)
        except OSError as error:
            if error.errno != 7:
                raise
            return None, b"", b"", False, 0.0  # more than the kernel takes (E2BIG): not run
        try:
            out, err = process.communicate(input=stdin, timeout=timeout or self.timeout)
            hung = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            hung = True
        if stdout_path:
            stdout_handle.close()
        return process.returncode, out or b"", err, hung, time.monotonic() - started

    def base_env(self, work):
        return {b"PATH": b"/usr/bin:/bin", b"HOME": work.encode(), b"MAINTLEDGER_NOW": DEFAULT_NOW.encode(),
                b"MAINTLEDGER_ACTOR": b"fuzz", b"LANG": b"C.UTF-8", b"SWIFT_BACKTRACE": b"enable=no"}

    def build_base(self):
        """A small ledger: the article's example (completed), a pending and a running maintenance,
        an add-on without window, an attachment to a second app."""
        steps = [
            (BUILD_NOW, ["apps:create", "example-app"]),
            (BUILD_NOW, ["apps:create", "reporting-app"]),
            (BUILD_NOW, ["addons:create", "heroku-redis:premium-0", "-a", "example-app", "--name", "redis-lively-12345",
                         "--description", "premium HA", "--server-created-at", "2022-12-26T08:30:37.872Z"]),
            (BUILD_NOW, ["data:maintenances:window:update", "REDIS_URL", "Fridays", "6:00PM", "-a", "example-app"]),
            (BUILD_NOW, ["addons:attach", "redis-lively-12345", "-a", "reporting-app", "--as", "CACHE"]),
            (BUILD_NOW, ["platform:maintenances:require", "REDIS_URL", "-a", "example-app", "--required-by", "2023-05-03T08:54:02.518Z"]),
            ("2023-04-28T18:01:14.191Z", ["platform:maintenances:start", "redis-lively-12345"]),
            ("2023-04-28T18:04:21.141Z", ["platform:maintenances:complete", "redis-lively-12345"]),
            ("2023-04-28T18:05:00Z", ["addons:create", "heroku-postgresql:standard-0", "-a", "example-app", "--name", "postgresql-pending-1"]),
            ("2023-04-28T18:05:00Z", ["platform:maintenances:require", "postgresql-pending-1", "--required-by", "2023-06-30T00:00:00Z"]),
            ("2023-04-28T18:05:00Z", ["addons:create", "heroku-kafka:basic-0", "-a", "reporting-app", "--name", "kafka-basic-1"]),
            ("2023-04-28T18:05:00Z", ["platform:maintenances:require", "kafka-basic-1", "--required-by", "2023-06-30T00:00:00Z"]),
            ("2023-04-28T18:05:00Z", ["addons:create", "heroku-redis:premium-1", "-a", "reporting-app", "--name", "redis-running-1"]),
            ("2023-04-28T18:05:00Z", ["platform:maintenances:require", "redis-running-1", "--required-by", "2023-06-30T00:00:00Z", "--emergency"]),
            ("2023-04-29T00:00:00Z", ["platform:maintenances:start", "redis-running-1"]),
        ]
        for now, argv in steps:
            env = self.base_env(self.root)
            env[b"MAINTLEDGER_NOW"] = now.encode()
            env[b"MAINTLEDGER_SEED"] = b"1"
            code, out, err, hung, _ = self.run([a.encode() for a in argv + ["--db", self.base]], env, self.root)
            if code != 0:
                sys.exit(f"building the base ledger failed at {argv}: exit {code}\n{err.decode()}")
        self.base_state = ledger_state(self.base)

    def prepare(self, case, work, db):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(os.path.join(work, "export"))
        with open(os.path.join(work, "not-a-ledger"), "wb") as handle:
            handle.write(b"not a ledger\n")
        kind = case["ledger"]
        if kind == "base":
            shutil.copyfile(self.base, db)
            os.chmod(db, 0o600)
        elif kind == "empty-file":
            open(db, "wb").close()
            os.chmod(db, 0o600)
        elif kind == "not-sqlite":
            with open(db, "wb") as handle:
                handle.write(b"SQLite format 3\x00" + b"\x00" * 100)
        elif kind == "other-sqlite":
            connection = sqlite3.connect(db)
            connection.execute("CREATE TABLE t(x)")
            connection.commit()
            connection.close()

    def check(self, index, case, staging):
        work = os.path.join(self.root, "case")
        db = os.path.join(work, "ledger.sqlite")
        self.prepare(case, work, db)
        for name in os.listdir(staging):  # the import file the generator made
            shutil.move(os.path.join(staging, name), os.path.join(work, name))
        argv = [encode(a, work, db) for a in case["argv"]]
        env = self.base_env(work)
        for key, value in case["env"].items():
            env[key.encode()] = encode(value, work, db)
        # Every file a command could write: the ledger, the other places --db, MAINTLEDGER_DB,
        # XDG_DATA_HOME and HOME lead to, and a file that is no ledger.
        watched = [db, os.path.join(work, "not-a-ledger"), os.path.join(work, "new"), os.path.join(work, "new/sub/ledger.sqlite"),
                   os.path.join(work, "xdg"), os.path.join(work, "xdg/maintledger/ledger.sqlite"),
                   os.path.join(work, ".local"), os.path.join(work, ".local/share/maintledger/ledger.sqlite")]
        before = {path: ledger_state(path) for path in watched}
        # SQLite makes a ledger's journal beside it: beside a device given as --db, that is in /dev.
        strays = [path for path in STRAYS if not os.path.exists(path)]
        stdout_path = "/dev/full" if case["full_stdout"] else None
        waits = argv[0] in (b"data:maintenances:wait",) or (argv[0] == b"data:maintenances:run" and (b"--wait" in argv or b"-w" in argv))
        code, out, err, hung, seconds = self.run(argv, env, work, stdin=case["stdin"], stdout_path=stdout_path,
                                                  timeout=10 if waits else None)
        after = {path: ledger_state(path) for path in watched}
        problems = []
        for path in strays:
            if os.path.exists(path):
                problems.append(f"the command left {path} behind")
                os.remove(path)
        if not os.path.isdir(work):
            problems.append("the folder the command ran in (and its ledger) is gone")
            os.makedirs(work)
        if code is None:
            self.totals["not run (argv and environment over the kernel's limit)"] += 1
            return code, hung
        if hung:
            if waits:
                self.totals["timeout (a wait that waits)"] += 1
            else:
                problems.append(f"hang: no exit after {self.timeout} s")
        elif code < 0:
            problems.append(f"crash: signal {-code}")
        elif code not in DOCUMENTED_EXIT_CODES:
            problems.append(f"undocumented exit code {code}")
        if not hung:
            self.totals[code] += 1
        shape = None
        if not hung and code != 0:
            shape = classify_stderr(err, code)
            self.shapes[shape] += 1
            if shape in FINDING_SHAPES:
                problems.append(f"stderr shape {shape}")
            if shape in ("argparser-usage", "argparser-value-across-lines"):
                first = err.decode("utf-8", "replace").split("\n")[0]
                pattern = re.sub(r"'[^']*'", "'…'", first)[:90]
                self.argparser_examples.setdefault(pattern, err.decode("utf-8", "replace"))
        if b"SQLite error" in err:
            problems.append("a raw SQLite error reached the user")
        if b"Fatal error" in err or b"Swift runtime failure" in err or b"Backtrace" in err:
            problems.append("a Swift runtime failure on stderr")
        changed = [os.path.relpath(path, work) for path in watched if before[path] != after[path]]
        empty = ("bytes", hashlib.sha256(b"").hexdigest())
        if not hung and code not in (0, 74) and changed == ["ledger.sqlite"] and before[db] == empty and after[db][0] == "dump":
            # Known, and counted apart: a command that records migrates an empty file first.
            problems.append("a refused command left an empty ledger file migrated (the schema, no rows)")
        elif not hung and code not in (0, 74) and changed:
            problems.append(f"a failed command changed {', '.join(changed)} "
                            f"({'; '.join(f'{before[p][0]} → {after[p][0]}' for p in watched if before[p] != after[p])})")
        if not hung and code == 0:
            for path in watched:
                if before[path] != after[path] and after[path][0] == "dump":
                    verify_code, _, verify_err, _, _ = self.run([b"audit:verify", b"--db", path.encode()], self.base_env(work), work)
                    if verify_code != 0:
                        problems.append(f"audit:verify refuses what the command left in {os.path.relpath(path, work)}: "
                                        f"{verify_err.decode('utf-8', 'replace').strip()}")
        if problems:
            diffs = {os.path.relpath(p, work): (before[p], after[p]) for p in watched if before[p] != after[p]}
            self.record(index, case, argv, env, code, out, err, problems, work, diffs)
        return code, hung

    def record(self, index, case, argv, env, code, out, err, problems, work, diffs=None):
        folder = os.path.join(self.out, "findings", f"{index:05d}")
        os.makedirs(folder, exist_ok=True)
        # Keep the files the case used (the import file) beside the record.
        for name in os.listdir(work):
            path = os.path.join(work, name)
            if name.startswith("import-") and os.path.getsize(path) < 50_000_000:
                shutil.copy(path, os.path.join(folder, name))
        def show(value):
            return value.decode("utf-8", "backslashreplace")[:300] + ("…" if len(value) > 300 else "")
        record = {"case": index, "problems": problems, "exit": code, "ledger": case["ledger"], "notes": case["notes"],
                  "argv": [show(a) for a in argv], "env": {show(k): show(v) for k, v in env.items()},
                  "stdout": show(out), "stderr": err.decode("utf-8", "backslashreplace")[:3000]}
        for name, (old, new) in (diffs or {}).items():
            with open(os.path.join(folder, name.replace("/", "_") + ".diff"), "w") as handle:
                handle.writelines(difflib.unified_diff(DUMPS.get(old[-1], str(old)).splitlines(True), DUMPS.get(new[-1], str(new)).splitlines(True),
                                                       "before", "after"))
        with open(os.path.join(folder, "finding.json"), "w") as handle:
            json.dump(record, handle, indent=2, ensure_ascii=False)
        # A bash script that reproduces it on a fresh copy of the base ledger (and the import file).
        def quote(value):
            pieces = value.split(work.encode())
            return '"$W"'.join("$'" + "".join(f"\\x{b:02x}" if b < 0x20 or b >= 0x7f or b in b"'\\" else chr(b) for b in piece) + "'"
                               for piece in pieces)
        lines = ["#!/bin/bash", f"# {'; '.join(problems)}", "set -u", "HERE=$(cd \"$(dirname \"$0\")\" && pwd)", 'W=$(mktemp -d)',
                 f"cp {shlex.quote(self.base)} \"$W/ledger.sqlite\"", 'cp "$HERE"/import-* "$W"/ 2>/dev/null', 'mkdir -p "$W/export"',
                 "printf 'not a ledger\\n' > \"$W/not-a-ledger\"", 'cd "$W"']
        env_text = " ".join(f"{k.decode()}={quote(v)}" for k, v in env.items())
        stdin = ' < "$W"/stdin' if case["stdin"] is not None else ""
        if case["stdin"] is not None:
            with open(os.path.join(folder, "import-stdin"), "wb") as handle:
                handle.write(case["stdin"])
        lines.append(f"env -i {env_text} {shlex.quote(self.binary)} " + " ".join(quote(a) for a in argv) + stdin.replace("stdin", "import-stdin"))
        lines.append('echo "exit $?"')
        with open(os.path.join(folder, "repro.sh"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
        self.findings.append(record)
        print(f"case {index}: {'; '.join(problems)} (exit {code}): {' '.join(show(a)[:60] for a in argv)[:300]}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the maintledger binary")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a run is a hang")
    parser.add_argument("--out", default="/tmp/maintledger-cli-fuzz")
    parser.add_argument("--seeds", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "import-base.ndjson"),
                        help="NDJSON lines that import files are made from")
    parser.add_argument("--only", help="only this subcommand")
    parser.add_argument("--first", type=int, default=0, help="generate the cases before this one without running them (to rerun one)")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    fuzzer = Fuzzer(args.bin, args.out, args.timeout)
    commands = discover(fuzzer.binary)
    if args.only:
        commands = [c for c in commands if c.name == args.only]
    print(f"{len(commands)} commands: {' '.join(c.name for c in commands)}", flush=True)
    fuzzer.build_base()
    with open(args.seeds) as handle:
        import_files = ImportFiles([line for line in handle.read().splitlines() if line.strip()])
    rng = random.Random(args.seed)
    started = time.monotonic()
    staging = os.path.join(fuzzer.root, "staging")
    for index in range(args.cases):
        case_rng = random.Random(rng.getrandbits(64))
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        case = generate(case_rng, commands, import_files, staging)
        if index < args.first:
            continue
        fuzzer.check(index, case, staging)
        if (index + 1) % 250 == 0:
            print(f"{index + 1} cases in {time.monotonic() - started:.0f} s; exits {dict(sorted(fuzzer.totals.items(), key=str))}; "
                  f"{len(fuzzer.findings)} findings", flush=True)
    summary = {"cases": args.cases, "seed": args.seed, "seconds": round(time.monotonic() - started),
               "exit codes": {str(k): v for k, v in sorted(fuzzer.totals.items(), key=str)},
               "stderr shapes of failures": dict(fuzzer.shapes), "findings": len(fuzzer.findings),
               "findings by problem": dict(collections.Counter(p.split(":")[0] for f in fuzzer.findings for p in f["problems"])),
               "argparser error forms": fuzzer.argparser_examples}
    with open(os.path.join(args.out, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=2, ensure_ascii=False)
    print(json.dumps({k: v for k, v in summary.items() if k != "argparser error forms"}, indent=2, ensure_ascii=False))
    return 1 if fuzzer.findings else 0


if __name__ == "__main__":
    sys.exit(main())
