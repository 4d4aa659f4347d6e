-- maintledger schema, version 1: inventory, windows, maintenances and the audit trail.
-- Timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.sssZ' (fixed width, so text order is time
-- order). Booleans are 0/1. No foreign key cascades: history is never deleted.

PRAGMA application_id = 1296387143; -- 'MLDG': marks the file as a maintledger ledger

CREATE TABLE apps (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT    NOT NULL UNIQUE CHECK (length(uuid) = 36),
    name              TEXT    NOT NULL UNIQUE
                      CHECK (length(name) BETWEEN 3 AND 30 AND name GLOB '[a-z]*' AND name NOT GLOB '*[^a-z0-9-]*'),
    maintenance_mode  INTEGER NOT NULL DEFAULT 0 CHECK (maintenance_mode IN (0, 1)),
    created_at        TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
);

CREATE TABLE addons (
    id                 INTEGER PRIMARY KEY,
    uuid               TEXT    NOT NULL UNIQUE CHECK (length(uuid) = 36),
    name               TEXT    NOT NULL UNIQUE
                       CHECK (length(name) BETWEEN 3 AND 60 AND name GLOB '[a-z]*' AND name NOT GLOB '*[^a-z0-9-]*'),
    service            TEXT    NOT NULL CHECK (service IN ('heroku-redis', 'heroku-postgresql', 'heroku-kafka')),
    plan               TEXT    NOT NULL CHECK (plan GLOB '[a-z]*' AND plan NOT GLOB '*[^a-z0-9-]*'),
    description        TEXT,
    app_id             INTEGER NOT NULL REFERENCES apps(id),
    server_created_at  TEXT    NOT NULL CHECK (server_created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    provisioned_at     TEXT    NOT NULL CHECK (provisioned_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    deprovisioned_at   TEXT    CHECK (deprovisioned_at IS NULL OR deprovisioned_at >= provisioned_at)
);
CREATE INDEX addons_by_app ON addons(app_id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    app_id       INTEGER NOT NULL REFERENCES apps(id),
    addon_id     INTEGER NOT NULL REFERENCES addons(id),
    name         TEXT    NOT NULL
                 CHECK (name GLOB '[A-Z]*_URL' AND name NOT GLOB '*[^A-Z0-9_]*'),
    attached_at  TEXT    NOT NULL CHECK (attached_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    detached_at  TEXT    CHECK (detached_at IS NULL OR detached_at >= attached_at)
);
-- A config var names one live attachment per app; detached ones stay as history.
CREATE UNIQUE INDEX attachments_live_name ON attachments(app_id, name) WHERE detached_at IS NULL;
CREATE INDEX attachments_by_addon ON attachments(addon_id);

-- Every window ever set; the current one is the newest row of the add-on.
CREATE TABLE windows (
    id                INTEGER PRIMARY KEY,
    addon_id          INTEGER NOT NULL REFERENCES addons(id),
    day_of_week       INTEGER NOT NULL CHECK (day_of_week BETWEEN 0 AND 6), -- 0 = Sunday
    start_minute      INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1410 AND start_minute % 30 = 0),
    duration_minutes  INTEGER NOT NULL DEFAULT 240 CHECK (duration_minutes = 240),
    source            TEXT    NOT NULL CHECK (source IN ('default', 'customer')),
    set_at            TEXT    NOT NULL CHECK (set_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    set_by            TEXT    NOT NULL CHECK (length(set_by) > 0)
);
CREATE INDEX windows_by_addon ON windows(addon_id, id);

CREATE TABLE maintenances (
    id                        INTEGER PRIMARY KEY,
    uuid                      TEXT    NOT NULL UNIQUE CHECK (length(uuid) = 36),
    addon_id                  INTEGER NOT NULL REFERENCES addons(id),
    status                    TEXT    NOT NULL
                              CHECK (status IN ('pending', 'preparing', 'ready', 'running', 'completed', 'failed', 'cancelled')),
    reason                    TEXT    NOT NULL CHECK (reason IN ('routine_maintenance', 'customer_request', 'hardware_issue')),
    method                    TEXT    NOT NULL CHECK (method IN ('failover', 'changeover', 'rolling_restart')),
    required_by               TEXT    NOT NULL CHECK (required_by GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    scheduled_for             TEXT    CHECK (scheduled_for IS NULL OR scheduled_for GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    previously_scheduled_for  TEXT    CHECK (previously_scheduled_for IS NULL OR scheduled_for IS NOT NULL),
    -- The window's text when the maintenance was scheduled; NULL on plans without windows.
    window                    TEXT,
    -- 1 when scheduled_for lies outside that window (no window fitted before required_by).
    outside_window            INTEGER NOT NULL DEFAULT 0 CHECK (outside_window IN (0, 1) AND (window IS NOT NULL OR outside_window = 0)),
    started_at                TEXT,
    completed_at              TEXT    CHECK (completed_at IS NULL OR (started_at IS NOT NULL AND completed_at >= started_at)),
    duration_seconds          INTEGER CHECK ((duration_seconds IS NULL) = (completed_at IS NULL) AND (duration_seconds IS NULL OR duration_seconds >= 0)),
    -- The add-on's server when the maintenance was recorded.
    server_created_at         TEXT    NOT NULL,
    customer_requested        INTEGER NOT NULL DEFAULT 0 CHECK (customer_requested IN (0, 1)),
    emergency                 INTEGER NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1)),
    created_at                TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    CHECK (status NOT IN ('running', 'completed', 'failed') OR started_at IS NOT NULL),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
-- At most one open maintenance per add-on.
CREATE UNIQUE INDEX maintenances_one_open ON maintenances(addon_id)
    WHERE status IN ('pending', 'preparing', 'ready', 'running');
CREATE INDEX maintenances_by_addon ON maintenances(addon_id, created_at, id);

-- Every status a maintenance entered, when, and by whom (from_status NULL at creation).
CREATE TABLE maintenance_status_changes (
    id              INTEGER PRIMARY KEY,
    maintenance_id  INTEGER NOT NULL REFERENCES maintenances(id),
    from_status     TEXT    CHECK (from_status IS NULL OR from_status IN ('pending', 'preparing', 'ready', 'running')),
    to_status       TEXT    NOT NULL
                    CHECK (to_status IN ('pending', 'preparing', 'ready', 'running', 'completed', 'failed', 'cancelled')),
    changed_at      TEXT    NOT NULL CHECK (changed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    actor           TEXT    NOT NULL CHECK (length(actor) > 0)
);
CREATE INDEX maintenance_status_changes_by_maintenance ON maintenance_status_changes(maintenance_id, id);

-- The tamper-evident trail: entry N stores SHA-256(hash of N-1 || canonical content of N).
CREATE TABLE audit_trail (
    seq          INTEGER PRIMARY KEY CHECK (seq >= 1),
    recorded_at  TEXT    NOT NULL CHECK (recorded_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    actor        TEXT    NOT NULL CHECK (length(actor) > 0),
    action       TEXT    NOT NULL CHECK (length(action) > 0),
    subject      TEXT    NOT NULL CHECK (length(subject) > 0),
    payload      TEXT    NOT NULL CHECK (json_valid(payload)),
    prev_hash    TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash         TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64)
);

CREATE TRIGGER audit_trail_append_only_update BEFORE UPDATE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'audit_trail is append-only');
END;

CREATE TRIGGER audit_trail_append_only_delete BEFORE DELETE ON audit_trail
BEGIN
    SELECT RAISE(ABORT, 'audit_trail is append-only');
END;

-- Entries come in order, each chained to the one before. (ORDER BY … LIMIT 1 reads the last
-- entry through the primary key; coalesce(max(seq)) would scan the whole trail.)
CREATE TRIGGER audit_trail_chained BEFORE INSERT ON audit_trail
WHEN NEW.seq IS NOT coalesce((SELECT seq FROM audit_trail ORDER BY seq DESC LIMIT 1), 0) + 1
  OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_trail ORDER BY seq DESC LIMIT 1),
                                   '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
    SELECT RAISE(ABORT, 'audit_trail entries must extend the chain');
END;
