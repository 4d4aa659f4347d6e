-- maintledger schema, version 9: who moved a maintenance. Every change of a maintenance's
-- scheduled_for after it was recorded gets a row here, written in the same transaction (and
-- trail entry) as the change: `data:maintenances:schedule`, `data:maintenances:window:update`
-- (which moves a pending maintenance into the new window), the platform giving a maintenance
-- on a plan without windows its time, and `import` seeing a maintenance's schedule change.
-- The maintenance's creation is no move: its first scheduled_for is in the row as created.
--
-- A ledger upgraded from version 8 has no rows for the moves made before: SQL cannot read
-- them back from the trail (its payloads are binary, docs/trail-format.md), so
-- `maintenance_audit` shows NULL and 0 for those, and the trail keeps what happened.

CREATE TABLE maintenance_moves (
    id              INTEGER PRIMARY KEY,
    maintenance_id  INTEGER NOT NULL REFERENCES maintenances(id),
    -- scheduled_for before and after the move; NULL: it had no time (a plan without windows
    -- before the platform picked one).
    moved_from      TEXT    CHECK (moved_from IS NULL OR moved_from GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    moved_to        TEXT    CHECK (moved_to IS NULL OR moved_to GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    moved_at        TEXT    NOT NULL CHECK (moved_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    moved_by        TEXT    NOT NULL CHECK (length(moved_by) > 0),
    -- What moved it: 'schedule' (data:maintenances:schedule), 'window' (window:update),
    -- 'platform' (the engine's platform:maintenances:schedule), 'import'. ORs, not IN: see 0004.
    cause           TEXT    NOT NULL CHECK (cause = 'schedule' OR cause = 'window' OR cause = 'platform' OR cause = 'import'),
    CHECK (moved_from IS NOT moved_to)
);
CREATE INDEX maintenance_moves_by_maintenance ON maintenance_moves(maintenance_id, id);

-- maintenance_audit as in 0008, with three columns at the end: `last_moved_by` and
-- `last_moved_at`, who moved it last and when (NULL if never), and `times_moved`. The
-- maintenance's moves are found by the index above: the newest by one seek, the count by a
-- range of its entries (a maintenance moves a few times at most).
DROP VIEW maintenance_audit;
CREATE VIEW maintenance_audit AS
SELECT id AS maintenance_id, uuid, app, addon, kind, plan, status, reason, method,
       emergency, customer_requested, created_at, required_by, has_deadline,
       scheduled_for, previously_scheduled_for, scheduled_window, outside_window,
       started_at,
       CASE WHEN started_minute_of_week IS NULL OR window_minute_of_week IS NULL THEN NULL
            ELSE ((started_minute_of_week - window_minute_of_week) % 10080 + 10080) % 10080 < 240 END AS started_in_window,
       completed_at, duration_seconds, ended_at, ended_by,
       CASE WHEN NOT has_deadline OR ended_at IS NULL THEN NULL
            ELSE completed_at IS NOT NULL AND completed_at <= required_by END AS deadline_met,
       server_created_at, last_moved_by, last_moved_at, times_moved
FROM (
    SELECT m.id, m.uuid, apps.name AS app, a.name AS addon, a.service AS kind, a.plan, m.status, m.reason, m.method,
           m.emergency, m.customer_requested, m.created_at, m.required_by, m.required_by > m.created_at AS has_deadline,
           m.scheduled_for, m.previously_scheduled_for, m.window AS scheduled_window, m.outside_window, m.started_at,
           m.completed_at, m.duration_seconds, m.server_created_at,
           -- Whole minutes since Sunday 00:00 UTC (a window starts on a whole minute, so the
           -- seconds cannot move a start across its edges). Integers: `%` below truncates reals.
           CAST(strftime('%w', m.started_at) AS INTEGER) * 1440
               + CAST(substr(m.started_at, 12, 2) AS INTEGER) * 60 + CAST(substr(m.started_at, 15, 2) AS INTEGER)
               AS started_minute_of_week,
           -- The window text's day and start ('Fridays 18:00 to 22:00 UTC'); NULL if unreadable.
           CASE substr(m.window, 1, 3) WHEN 'Sun' THEN 0 WHEN 'Mon' THEN 1 WHEN 'Tue' THEN 2 WHEN 'Wed' THEN 3
                                      WHEN 'Thu' THEN 4 WHEN 'Fri' THEN 5 WHEN 'Sat' THEN 6 END * 1440
               + CAST(substr(m.window, instr(m.window, ' ') + 1, 2) AS INTEGER) * 60
               + CAST(substr(m.window, instr(m.window, ' ') + 4, 2) AS INTEGER) AS window_minute_of_week,
           CASE WHEN m.status = 'completed' THEN m.completed_at ELSE s.changed_at END AS ended_at,
           s.actor AS ended_by,
           mv.moved_by AS last_moved_by, mv.moved_at AS last_moved_at,
           -- count(id), not count(*): DuckDB, reading the view through its SQLite extension,
           -- hands SQLite back `count(*)` as count_star(), which SQLite does not have.
           (SELECT count(n.id) FROM maintenance_moves n WHERE n.maintenance_id = m.id) AS times_moved
    FROM maintenances m
    JOIN addons a ON a.id = m.addon_id
    JOIN apps ON apps.id = a.app_id
    -- The change into its final status: a maintenance enters completed, failed or cancelled
    -- once, and never leaves it. (Found among the maintenance's few changes by the index on
    -- maintenance_id; a correlated max(id) lookup instead took 4 times as long on 1M rows.)
    LEFT JOIN maintenance_status_changes s
        ON s.maintenance_id = m.id AND s.to_status = m.status
       AND (m.status = 'completed' OR m.status = 'failed' OR m.status = 'cancelled')
    LEFT JOIN maintenance_moves mv
        ON mv.id = (SELECT max(l.id) FROM maintenance_moves l WHERE l.maintenance_id = m.id)
);
