"""The benchmark's synthetic fleet, shared by the generators (Python 3.11 stdlib only).

A fleet of apps, each owning two data add-ons (a Key-Value Store and a Postgres, or a Kafka
instead of the Postgres on one app in ten), each add-on with `per_addon` maintenances spaced
about 90 days apart since its server was made. Everything is drawn from one seeded
`random.Random`, so the same arguments give the same fleet, row for row.

Rows are produced as the ledger stores them (times as `YYYY-MM-DDTHH:MM:SS.sssZ`, booleans as
0/1) and their trail images are rendered the way `JSONValue.compactText` renders `RowImage.json`:
columns in table order, no spaces, strings escaped like Swift's `writeString`.
"""

import hashlib
import random
import re
from operator import add as _add

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
# JSON exactly as JSONValue.compactText writes it.

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


# Per table, what precedes each value: '{"id":', ',"uuid":', …
_KEYS = {table: [("{" if i == 0 else ",") + json_string(c) + ":" for i, c in enumerate(cols)]
         for table, cols in COLUMNS.items()}


def row_image(table, values):
    """RowImage.json(row).compactText for a row given in table order."""
    return "".join(map(_add, _KEYS[table], map(json_value, values))) + "}"


def change(table, values, op="insert"):
    return '{"op":"' + op + '","table":"' + table + '","row":' + row_image(table, values) + "}"


def payload(changes):
    return '{"changes":[' + ",".join(changes) + "]}"


class TreeEdge:
    """The Merkle tree over the trail as maintledger grows trail_tree: leaf = SHA-256(0x00 ‖ the
    entry hash's 32 bytes), node = SHA-256(0x01 ‖ left ‖ right); keeps the last complete node of
    each level. `append` returns the (level, node) rows the next entry completes."""

    def __init__(self, connection=None):
        self.nodes, self.count = [], 0
        if connection is not None:  # the entries already in the ledger (maintledger stored their nodes)
            for (existing_hash,) in connection.execute("SELECT hash FROM audit_trail ORDER BY seq"):
                self.append(existing_hash)

    def append(self, entry_hash):
        node = hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()
        index, level, completed = self.count, 0, []
        while index & 1:
            node = hashlib.sha256(b"\x01" + self.nodes[level] + node).digest()
            level, index = level + 1, index >> 1
            completed.append((level, node))
        if len(self.nodes) == level:
            self.nodes.append(node)
        else:
            self.nodes[level] = node
        self.count += 1
        return completed


def canonical(seq, recorded_at, actor, action, subject, payload_text):
    """TrailEntry.canonicalContent."""
    return ("[" + str(seq) + "," + json_string(recorded_at) + "," + json_string(actor) + "," + json_string(action)
            + "," + json_string(subject) + "," + payload_text + "]")


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
