"""The benchmark's synthetic fleet, shared by the generators (Python 3.11 stdlib only).

A fleet of apps, each owning two data add-ons (a Key-Value Store and a Postgres, or a Kafka
instead of the Postgres on one app in ten), each add-on with `per_addon` maintenances spaced
about 90 days apart since its server was made. Everything is drawn from one seeded
`random.Random`, so the same arguments give the same fleet, row for row.

Rows are produced as the ledger stores them (times as `YYYY-MM-DDTHH:MM:SS.sssZ`, booleans as
0/1), and recorded in the trail as maintledger records them: format 2 entries (payloads of
changes as bytes, 32-byte hashes) and the Merkle tree's nodes of level 4 and up, implemented here
from docs/trail-format.md alone. `python3 bench/model.py` checks that implementation against the
document's example.
"""

import hashlib
import random
import re
import struct

# ---------------------------------------------------------------------------------------------
# Columns in table order (checked against the ledger's schema by `check_columns`).

COLUMNS = {
    "apps": ["id", "uuid", "name", "maintenance_mode", "created_at"],
    "addons": ["id", "uuid", "name", "service", "plan", "description", "app_id", "server_created_at",
               "provisioned_at", "deprovisioned_at"],
    "attachments": ["id", "app_id", "addon_id", "name", "attached_at", "detached_at"],
    "windows": ["id", "addon_id", "day_of_week", "start_minute", "duration_minutes", "source", "set_at", "set_by"],
    "maintenances": ["id", "uuid", "addon_id", "status", "reason", "method", "required_by", "scheduled_for",
                     "previously_scheduled_for", "window", "outside_window", "started_at", "completed_at",
                     "duration_seconds", "server_created_at", "customer_requested", "emergency", "created_at"],
    "maintenance_status_changes": ["id", "maintenance_id", "from_status", "to_status", "changed_at", "actor"],
}


def check_columns(connection):
    """Refuses to generate rows for a schema whose column order is not the one assumed here."""
    for table, expected in COLUMNS.items():
        actual = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
        if actual != expected:
            raise SystemExit(f"bench: {table} has columns {actual}, the generator assumes {expected}")


# ---------------------------------------------------------------------------------------------
# JSON exactly as JSONValue.compactText writes it (the import file's lines).

_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def json_string(text):
    if not _NEEDS_ESCAPE.search(text):
        return '"' + text + '"'
    out = ['"']
    for c in text:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c < " ":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def json_value(value):
    kind = type(value)
    if kind is str:
        return '"' + value + '"' if not _NEEDS_ESCAPE.search(value) else json_string(value)
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    raise TypeError(f"no JSON form for {value!r}")


# ---------------------------------------------------------------------------------------------
# Times: epoch milliseconds → storage text (2023-04-28T18:04:21.141Z) or Heroku's (+00:00).

MS_MINUTE = 60_000
MS_DAY = 86_400_000
MS_WEEK = 7 * MS_DAY
_days = {}


def _day_text(day):
    text = _days.get(day)
    if text is None:
        # Howard Hinnant's civil_from_days, as Timestamp.civil does.
        z = day + 719_468
        era = z // 146_097
        doe = z - era * 146_097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146_096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        d = doy - (153 * mp + 2) // 5 + 1
        m = mp + 3 if mp < 10 else mp - 9
        y = yoe + era * 400 + (1 if m <= 2 else 0)
        text = _days[day] = f"{y:04d}-{m:02d}-{d:02d}"
    return text


_HHMM = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_SSMS = [f"{x // 1000:02d}.{x % 1000:03d}" for x in range(MS_MINUTE)]


def stored(ms):
    if ms is None:
        return None
    day, rest = divmod(ms, MS_DAY)
    minute, rest = divmod(rest, MS_MINUTE)
    text = _days.get(day) or _day_text(day)
    return text + "T" + _HHMM[minute] + _SSMS[rest] + "Z"


def iso(ms):
    if ms is None:
        return None
    day, rest = divmod(ms, MS_DAY)
    minute, rest = divmod(rest, MS_MINUTE)
    text = _days.get(day) or _day_text(day)
    return text + "T" + _HHMM[minute] + _SSMS[rest] + "+00:00"


def days_from_civil(y, m, d):
    y = y - 1 if m <= 2 else y
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def parse_stored(text):
    """Epoch ms of '2026-01-01T00:00:00Z' or '...00.000Z'."""
    date, _, clock = text.rstrip("Z").partition("T")
    y, m, d = (int(x) for x in date.split("-"))
    hh, mm, ss = clock.split(":")
    seconds = float(ss)
    return (days_from_civil(y, m, d) * MS_DAY + (int(hh) * 60 + int(mm)) * MS_MINUTE + round(seconds * 1000))


# ---------------------------------------------------------------------------------------------
# The trail, format 2 (docs/trail-format.md), written from the document: entry payloads as bytes,
# hashes as 32 bytes, the Merkle tree's nodes of level 4 and up.

TABLE_CODES = {"apps": 1, "addons": 2, "attachments": 3, "windows": 4, "maintenances": 5,
               "maintenance_status_changes": 6, "notices": 7, "engine_ticks": 8, "checkpoints": 9,
               "maintenance_moves": 10}
INSERT, UPDATE = 1, 2
FORMAT_TAG = b"\x02"
DIGEST_BYTES = 16
LOWEST_STORED_LEVEL = 4


_SMALL = [bytes((n,)) for n in range(0x80)]


def varint(n):
    """Unsigned LEB128, shortest form (Go's binary.AppendUvarint)."""
    if 0 <= n < 0x80:
        return _SMALL[n]
    if n < 0 or n >> 64:
        raise ValueError(f"no varint for {n}")
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(n):
    """(n << 1) ^ (n >> 63) of a 64-bit signed integer, as the unsigned number it is."""
    if not -(1 << 63) <= n < 1 << 63:
        raise ValueError(f"{n} is not a 64-bit integer")
    return (n << 1) ^ (n >> 63)


_TIME_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_UUID_FORM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
_dates = {}


def _date_ms(date):
    """Epoch ms of the midnight of 'YYYY-MM-DD' (digits already checked); None for no such day."""
    ms = _dates.get(date, False)
    if ms is False:
        y, m, d = int(date[0:4]), int(date[5:7]), int(date[8:10])
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        valid = 1 <= m <= 12 and 1 <= d <= _MONTH_DAYS[m - 1] + (m == 2 and leap)
        ms = _dates[date] = days_from_civil(y, m, d) * MS_DAY if valid else None
    return ms


def stored_time_ms(text):
    """Epoch ms of a text that is exactly the stored form of an instant, YYYY-MM-DDTHH:MM:SS.sssZ
    (a real day and time, years 0000 to 9999); None for any other text."""
    if len(text) != 24 or text[23] != "Z" or not _TIME_FORM.fullmatch(text):
        return None
    day = _date_ms(text[:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if day is None or hour > 23 or minute > 59 or second > 59:
        return None
    return day + ((hour * 60 + minute) * 60 + second) * 1000 + int(text[20:23])


def _plain(value):
    """A value with the tags 0x00 to 0x04 only: the plain encoding row digests cover."""
    kind = type(value)
    if value is None:
        return b"\x00"
    if kind is int or kind is bool:
        return b"\x01" + varint(zigzag(int(value)))
    if kind is str:
        data = value.encode()
        return b"\x03" + varint(len(data)) + data
    if kind is float:
        return b"\x02" + struct.pack(">d", value)
    if kind is bytes:
        return b"\x04" + varint(len(value)) + value
    raise TypeError(f"SQLite stores no {kind.__name__} ({value!r})")


def _value(value, recorded_at, actor):
    """A value in a payload: a text takes the first of 0x06, 0x07, 0x05, 0x08, 0x03 that fits it."""
    if type(value) is not str:
        return _plain(value)
    if value == recorded_at:
        return b"\x06"
    if value == actor:
        return b"\x07"
    ms = stored_time_ms(value)
    if ms is not None:
        return b"\x05" + varint(zigzag(ms))
    if len(value) == 36 and _UUID_FORM.fullmatch(value):
        return b"\x08" + bytes.fromhex(value.replace("-", ""))
    return _plain(value)


def row_digest(values):
    """The first 16 bytes of SHA-256 of a row's plain encoding (every column, id first)."""
    return hashlib.sha256(b"".join(map(_plain, values))).digest()[:DIGEST_BYTES]


def insert(table, row, recorded_at, actor):
    """The change recording an inserted row, given whole (id first, table order), as SQLite
    stores it: values of the types their columns keep (int, str, float, bytes or None)."""
    if table in COLUMNS and len(row) != len(COLUMNS[table]):
        raise ValueError(f"{table} has {len(COLUMNS[table])} columns, not {len(row)}")
    out = [_SMALL[INSERT << 4 | TABLE_CODES[table]], varint(row[0]), varint(len(row) - 1)]
    out += [_value(value, recorded_at, actor) for value in row[1:]]
    return b"".join(out)


def update(table, row, columns_set, recorded_at, actor):
    """The change recording an update: the columns it set (names) with their values in `row`, the
    whole row after it, then that row's digest."""
    positions = sorted(COLUMNS[table].index(name) for name in columns_set)
    if not positions or positions[0] == 0 or len(set(positions)) != len(positions):
        raise ValueError(f"an update sets columns other than id, each once, not {columns_set}")
    out = [_SMALL[UPDATE << 4 | TABLE_CODES[table]], varint(row[0]), varint(len(positions))]
    for position in positions:
        out += [varint(position), _value(row[position], recorded_at, actor)]
    return b"".join(out) + row_digest(row)


def entry_hash(previous, seq, recorded_at, actor, action, subject, payload):
    """SHA-256(0x02 ‖ previous hash (32 bytes) ‖ varint(seq) ‖ the four texts, each after its
    length in UTF-8 bytes ‖ payload): the 32 bytes `hash` stores."""
    if len(previous) != 32:
        raise ValueError("a format 2 entry follows a 32-byte hash")
    covered = bytearray(FORMAT_TAG + previous + varint(seq))
    for text in (recorded_at, actor, action, subject):
        data = text.encode()
        covered += varint(len(data)) + data
    return hashlib.sha256(bytes(covered) + payload).digest()


class TreeEdge:
    """The Merkle tree over the trail as maintledger grows trail_tree: leaf = SHA-256(0x00 ‖ the
    entry's 32-byte hash), node = SHA-256(0x01 ‖ left ‖ right); keeps the last complete node of
    each level. `append` returns the (level, node) rows of level 4 and up the next entry
    completes: trail_tree stores no lower one."""

    def __init__(self, hashes=()):
        self.nodes, self.count = [], 0
        for entry in hashes:
            self.append(entry)

    def append(self, entry):
        node = hashlib.sha256(b"\x00" + entry).digest()
        index, level, completed = self.count, 0, []
        while index & 1:
            node = hashlib.sha256(b"\x01" + self.nodes[level] + node).digest()
            level, index = level + 1, index >> 1
            if level >= LOWEST_STORED_LEVEL:
                completed.append((level, node))
        if len(self.nodes) == level:
            self.nodes.append(node)
        else:
            self.nodes[level] = node
        self.count += 1
        return completed


class Trail:
    """Appends format 2 entries after a ledger's last one (maintledger wrote it: a format 2 entry),
    with the trail_tree nodes each completes; `flush` inserts those gathered so far."""

    def __init__(self, connection):
        hashes = [h for (h,) in connection.execute("SELECT hash FROM audit_trail ORDER BY seq")]
        if not hashes or any(type(h) is not bytes or len(h) != 32 for h in hashes):
            raise SystemExit("bench: the ledger's trail should hold format 2 entries only (a new ledger's)")
        self.seq, self.head = len(hashes), hashes[-1]
        self.edge = TreeEdge(hashes)
        self.entries, self.nodes = [], []

    def append(self, recorded_at, actor, action, subject, payload):
        self.seq += 1
        self.head = entry_hash(self.head, self.seq, recorded_at, actor, action, subject, payload)
        self.entries.append((self.seq, recorded_at, actor, action, subject, payload, self.head))
        self.nodes.extend((self.seq, level, node) for level, node in self.edge.append(self.head))

    def flush(self, connection):
        connection.executemany("INSERT INTO audit_trail (seq, recorded_at, actor, action, subject, payload, prev_hash, hash) "
                               "VALUES (?, ?, ?, ?, ?, ?, NULL, ?)", self.entries)
        connection.executemany("INSERT INTO trail_tree (last_seq, level, hash) VALUES (?, ?, ?)", self.nodes)
        self.entries.clear()
        self.nodes.clear()


# ---------------------------------------------------------------------------------------------
# Windows, as WeeklyWindow does them.

DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def window_text(day, start):
    def clock(minute):
        return f"{minute // 60:02d}:{minute % 60:02d}"
    end = start + 240
    head = f"{DAY_NAMES[day]}s {clock(start)}"
    if end < 1440:
        return f"{head} to {clock(end)} UTC"
    return f"{head} to {DAY_NAMES[(day + 1) % 7]}s {clock(end - 1440)} UTC"


def window_start_on_or_after(day, start, ms):
    """WeeklyWindow.start(onOrAfter:)."""
    epoch_day = ms // MS_DAY
    dow = (epoch_day + 4) % 7
    candidate = (epoch_day - dow) * MS_DAY + (day * 1440 + start) * MS_MINUTE
    if candidate < ms:
        candidate += MS_WEEK
    return candidate


# ---------------------------------------------------------------------------------------------
# The fleet.

FLEET_START = parse_stored("2023-01-01T00:00:00.000Z")
METHODS = {"heroku-redis": "failover", "heroku-postgresql": "changeover", "heroku-kafka": "rolling_restart"}
ATTACHMENTS = {"heroku-redis": "REDIS_URL", "heroku-postgresql": "DATABASE_URL", "heroku-kafka": "KAFKA_URL"}
PREFIX = {"heroku-redis": "redis", "heroku-postgresql": "postgresql", "heroku-kafka": "kafka"}
WINDOW_TIERS = {"heroku-redis": {"premium", "private", "shield"},
                "heroku-postgresql": {"standard", "premium", "private", "shield"},
                "heroku-kafka": set()}


def uuid4(rng):
    h = "%032x" % rng.getrandbits(128)
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _plan(rng, service):
    x = rng.random()
    if service == "heroku-redis":
        return "premium-0" if x < 0.70 else "mini" if x < 0.85 else "private-2" if x < 0.95 else "shield-3"
    if service == "heroku-postgresql":
        return "standard-0" if x < 0.60 else "essential-0" if x < 0.90 else "premium-1"
    return "basic-0" if x < 0.5 else "standard-1"


class Addon:
    __slots__ = ("id", "uuid", "name", "service", "plan", "app_id", "app_name", "app_uuid", "server_created",
                 "attachment", "window", "window_text", "method")


def fleet(addon_count, seed, app0_uuid=None):
    """(apps, addons): apps as (id, uuid, name); add-ons as Addon, ids from 1 in creation order.
    Two add-ons per app; app 1 is bench-app-0 (its uuid given when it already exists)."""
    rng = random.Random(seed)
    apps = []
    addons = []
    app_count = (addon_count + 1) // 2
    for index in range(app_count):
        uuid = app0_uuid if index == 0 and app0_uuid else uuid4(rng)
        apps.append((index + 1, uuid, f"bench-app-{index}"))
    for index in range(addon_count):
        app_id, app_uuid, app_name = apps[index // 2]
        a = Addon()
        a.id = index + 1
        a.uuid = uuid4(rng)
        if index % 2 == 0:
            a.service = "heroku-redis"
        else:
            a.service = "heroku-kafka" if (index // 2) % 10 == 9 else "heroku-postgresql"
        a.plan = _plan(rng, a.service)
        a.name = f"{PREFIX[a.service]}-bench-{index}"
        a.app_id, a.app_uuid, a.app_name = app_id, app_uuid, app_name
        a.server_created = FLEET_START + rng.randrange(90 * MS_DAY)
        a.attachment = ATTACHMENTS[a.service]
        if a.plan.rsplit("-", 1)[0] in WINDOW_TIERS[a.service]:
            a.window = (rng.randint(1, 5), 18 * 60 + 30 * rng.randint(0, 10))
            a.window_text = window_text(*a.window)
        else:
            a.window = None
            a.window_text = None
        a.method = METHODS[a.service]
        addons.append(a)
    return apps, addons


class Maintenance:
    __slots__ = ("uuid", "addon", "status", "reason", "required_by", "scheduled_for", "started_at", "completed_at",
                 "duration_seconds", "customer_requested", "created_at")

    def row(self, mid, addon_id=None):
        a = self.addon
        return (mid, self.uuid, a.id if addon_id is None else addon_id, self.status, self.reason, a.method,
                stored(self.required_by), stored(self.scheduled_for), None, a.window_text, 0,
                stored(self.started_at), stored(self.completed_at), self.duration_seconds,
                stored(a.server_created), self.customer_requested, 0, stored(self.created_at))

    def lifecycle(self):
        """The status changes `import` records for it: (from, to, at_ms)."""
        steps = [(None, "pending", self.created_at)]
        if self.started_at is not None:
            steps.append(("pending", "running", self.started_at))
        if self.status == "completed":
            steps.append(("running", "completed", self.completed_at))
        elif self.status == "failed":
            steps.append(("running", "failed", self.started_at))
        elif self.status == "cancelled":
            steps.append(("pending", "cancelled", self.created_at))
        return steps

    def info_json(self):
        """One line of `data:maintenances:info --json`, compact: what `import` reads."""
        a = self.addon
        fields = [
            ("addon", "{" + ",".join([
                '"attachments":[' + json_string(a.attachment) + "]",
                '"kind":' + json_string(a.service),
                '"name":' + json_string(a.name),
                '"plan":' + json_string(a.plan),
                '"uuid":' + json_string(a.uuid),
                '"window":' + json_value(a.window_text)]) + "}"),
            ("addon_description", "null"),
            ("app", '{"name":' + json_string(a.app_name) + ',"uuid":' + json_string(a.app_uuid) + "}"),
            ("completed_at", json_value(iso(self.completed_at))),
            ("customer_requested", "true" if self.customer_requested else "false"),
            ("duration_seconds", json_value(self.duration_seconds)),
            ("emergency", "false"),
            ("method", json_string(a.method)),
            ("outside_window", "false"),
            ("previously_scheduled_for", "null"),
            ("reason", json_string(self.reason)),
            ("required_by", json_string(iso(self.required_by))),
            ("scheduled_for", json_value(iso(self.scheduled_for))),
            ("server_created_at", json_string(iso(a.server_created))),
            ("started_at", json_value(iso(self.started_at))),
            ("status", json_string(self.status)),
            ("uuid", json_string(self.uuid)),
            ("window", json_value(a.window_text)),
        ]
        return "{" + ",".join(json_string(k) + ":" + v for k, v in fields) + "}"


def maintenances(addons, per_addon, seed, now_ms, start=0, stop=None):
    """Maintenances number start..stop-1 (from 0) of the fleet, which has `per_addon` per add-on,
    round by round (maintenance i is round i // len(addons) of add-on i % len(addons), so ids
    follow time roughly, as in a real fleet): about 90 days apart, scheduled in the add-on's
    window (or at a time the platform picked), 98% completed, 1.5% failed, 0.5% cancelled; one in
    twenty run by the customer. Each block of CHUNK maintenances draws from its own seeded
    generator, so blocks can be made in any order (and in parallel) with the same result."""
    count = len(addons)
    stop = count * per_addon if stop is None else stop
    assert start % CHUNK == 0
    rng = None
    for i in range(start, stop):
        if i % CHUNK == 0:
            rng = random.Random(f"{seed}:maintenances:{i // CHUNK}")
        k, a = divmod(i, count)
        a = addons[a]
        m = Maintenance()
        m.uuid = uuid4(rng)
        m.addon = a
        m.required_by = a.server_created + (k + 1) * 90 * MS_DAY - rng.randrange(5 * MS_DAY)
        target = m.required_by - 14 * MS_DAY + rng.randrange(6 * MS_DAY)
        if a.window:
            m.scheduled_for = window_start_on_or_after(a.window[0], a.window[1], target)
        else:
            m.scheduled_for = target
        x = rng.random()
        m.status = "completed" if x < 0.98 else "failed" if x < 0.995 else "cancelled"
        m.customer_requested = 1 if rng.random() < 0.05 and a.window else 0
        m.reason = "customer_request" if m.customer_requested else "routine_maintenance"
        if m.status == "cancelled":
            m.started_at = None
        else:
            m.started_at = m.scheduled_for + rng.randrange(10_000, 180_000)
        if m.status == "completed":
            duration = rng.randrange(120_000, 600_000) if rng.random() < 0.95 else rng.randrange(600_000, 3_600_000)
            m.completed_at = m.started_at + duration
            m.duration_seconds = duration // 1000
        else:
            m.completed_at = None
            m.duration_seconds = None
        # import's rule: the earliest time the object names.
        m.created_at = min(t for t in (m.scheduled_for, m.started_at, m.completed_at, m.required_by) if t is not None)
        if m.completed_at is not None and m.completed_at >= now_ms:
            raise SystemExit("bench: generated a maintenance after MAINTLEDGER_NOW; use fewer --per-addon")
        yield m


CHUNK = 10_000


def check_against_document():
    """The example of docs/trail-format.md, and the rules it states, byte for byte."""
    at, actor = "2026-01-01T00:00:00.000Z", "engine"
    row = (332, "0b4e7c1a-9f3d-4c2e-8a1b-5d6f7e8a9b0c", 7, "running", "routine_maintenance", "failover",
           "2026-01-20T00:00:00.000Z", "2026-01-01T00:00:00.000Z", None, "Tuesdays 19:00 to 23:00 UTC", 0, at, None, None,
           "2025-10-01T12:00:00.000Z", 0, 0, "2025-12-20T00:00:00.000Z")
    changes = (update("maintenances", row, ["started_at", "status"], at, actor)
               + insert("maintenance_status_changes", (1481, 332, "ready", "running", at, actor), at, actor))
    expected = (bytes.fromhex("25cc02" "02" "030307") + b"running" + bytes.fromhex("0b06") + row_digest(row)
                + bytes.fromhex("16c90b" "05" "019805" "0305") + b"ready" + bytes.fromhex("0307") + b"running" + bytes.fromhex("0607"))
    assert changes == expected, changes.hex()
    assert varint(332) == bytes.fromhex("cc02") and zigzag(332) == 664 and varint(664) == bytes.fromhex("9805")
    assert [zigzag(n) for n in (0, -1, 1, -2, (1 << 63) - 1, -(1 << 63))] == [0, 1, 2, 3, (1 << 64) - 2, (1 << 64) - 1]

    def value(text, at=at, actor=actor):
        return _value(text, at, actor)
    uuid = "0b4e7c1a-9f3d-4c2e-8a1b-5d6f7e8a9b0c"
    assert value(uuid) == b"\x08" + bytes.fromhex(uuid.replace("-", ""))
    assert value(uuid, actor=uuid) == b"\x07"                                 # 0x07 before 0x08
    assert value(at, actor=at) == b"\x06"                                     # 0x06 before 0x07
    assert value("1970-01-01T00:00:00.001Z") == b"\x05\x02"                  # zigzag 1
    assert value("1969-12-31T23:59:59.999Z") == b"\x05\x01"                  # zigzag -1
    assert value("0000-01-01T00:00:00.000Z")[0] == 5 and value("9999-12-31T23:59:59.999Z")[0] == 5
    for other in ["2023-02-29T00:00:00.000Z", "2024-01-01T24:00:00.000Z", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000+00:00",
                  uuid.upper(), uuid[:-1], "", "bench"]:
        assert value(other) == b"\x03" + varint(len(other.encode())) + other.encode(), other
    assert value("2024-02-29T23:59:59.999Z")[0] == 5
    assert value(-5) == b"\x01\x09" and value(None) == b"\x00" and value(b"\x01") == b"\x04\x01\x01"
    assert value(1.5) == b"\x02" + bytes.fromhex("3ff8000000000000")
    assert entry_hash(bytes(32), 1, at, actor, "a", "s", changes) == hashlib.sha256(
        b"\x02" + bytes(32) + b"\x01" + b"\x18" + at.encode() + b"\x06engine\x01a\x01s" + changes).digest()
    edge = TreeEdge()
    stored = [edge.append(bytes([n]) * 32) for n in range(32)]
    assert [len(nodes) for nodes in stored] == [0] * 15 + [1] + [0] * 15 + [2]
    assert [level for level, _ in stored[31]] == [4, 5]


if __name__ == "__main__":
    check_against_document()
    print("model: format 2 as docs/trail-format.md writes it")
