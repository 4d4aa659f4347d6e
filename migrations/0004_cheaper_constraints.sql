-- maintledger schema, version 4: the same rules on maintenances and their status changes,
-- written so that SQLite checks them cheaply.
--
-- SQLite evaluates `x IN (a, b, c, …)` (three or more values) in a CHECK or a partial index's
-- WHERE by building a temporary b-tree of the list for every row written: about 2 µs per list
-- and row, 26% of `simulate`. `x = a OR x = b OR …` accepts exactly the same values and costs
-- about 0.1 µs. The tables are rebuilt (SQLite's documented 12-step procedure; the migrator
-- turns foreign keys off around it and runs foreign_key_check before committing). Columns,
-- their order and every row stay as they were, so the trail's row images still match.

CREATE TABLE maintenances_v4 (
    id                        INTEGER PRIMARY KEY,
    uuid                      TEXT    NOT NULL UNIQUE CHECK (length(uuid) = 36),
    addon_id                  INTEGER NOT NULL REFERENCES addons(id),
    status                    TEXT    NOT NULL
                              CHECK (status = 'pending' OR status = 'preparing' OR status = 'ready' OR status = 'running'
                                     OR status = 'completed' OR status = 'failed' OR status = 'cancelled'),
    reason                    TEXT    NOT NULL
                              CHECK (reason = 'routine_maintenance' OR reason = 'customer_request' OR reason = 'hardware_issue'),
    method                    TEXT    NOT NULL
                              CHECK (method = 'failover' OR method = 'changeover' OR method = 'rolling_restart'),
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
    CHECK (started_at IS NOT NULL OR NOT (status = 'running' OR status = 'completed' OR status = 'failed')),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
INSERT INTO maintenances_v4 SELECT * FROM maintenances;
DROP TABLE maintenances;
ALTER TABLE maintenances_v4 RENAME TO maintenances;

-- At most one open maintenance per add-on.
CREATE UNIQUE INDEX maintenances_one_open ON maintenances(addon_id)
    WHERE status = 'pending' OR status = 'preparing' OR status = 'ready' OR status = 'running';
CREATE INDEX maintenances_by_addon ON maintenances(addon_id, created_at, id);
CREATE INDEX maintenances_by_addon_status ON maintenances(addon_id, status);
CREATE INDEX maintenances_by_scheduled ON maintenances(scheduled_for);
CREATE INDEX maintenances_by_started ON maintenances(started_at);
CREATE INDEX maintenances_by_completed ON maintenances(completed_at);
CREATE INDEX maintenances_by_status ON maintenances(status, scheduled_for);

-- Every status a maintenance entered, when, and by whom (from_status NULL at creation).
CREATE TABLE maintenance_status_changes_v4 (
    id              INTEGER PRIMARY KEY,
    maintenance_id  INTEGER NOT NULL REFERENCES maintenances(id),
    from_status     TEXT    CHECK (from_status IS NULL OR from_status = 'pending' OR from_status = 'preparing'
                                   OR from_status = 'ready' OR from_status = 'running'),
    to_status       TEXT    NOT NULL
                    CHECK (to_status = 'pending' OR to_status = 'preparing' OR to_status = 'ready' OR to_status = 'running'
                           OR to_status = 'completed' OR to_status = 'failed' OR to_status = 'cancelled'),
    changed_at      TEXT    NOT NULL CHECK (changed_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    actor           TEXT    NOT NULL CHECK (length(actor) > 0)
);
INSERT INTO maintenance_status_changes_v4 SELECT * FROM maintenance_status_changes;
DROP TABLE maintenance_status_changes;
ALTER TABLE maintenance_status_changes_v4 RENAME TO maintenance_status_changes;
CREATE INDEX maintenance_status_changes_by_maintenance ON maintenance_status_changes(maintenance_id, id);
