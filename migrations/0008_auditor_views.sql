-- maintledger schema, version 8: views for auditors, who open the ledger in DuckDB, pandas,
-- Datasette or sqlite-utils and would otherwise write these joins by hand. docs/commands.md ("Views
-- for auditors") documents every column; `audit:verify` compares each view's SQL with this
-- file's, so a view someone redefined is reported, not trusted.
--
-- Column names avoid words other SQL dialects reserve (`window`, `end`, `from`): DuckDB, for
-- one, reads the views of an attached SQLite file and would need them quoted. Booleans are 0/1
-- as in the tables (exports write them true/false). Each view reads its rows by index: no
-- per-row scan (Tests/MaintenanceLedgerTests/QueryPlanTests.swift holds them to their plans).

-- Every window ever set, decoded: the day's name, the times, and the text the commands print.
CREATE VIEW windows_decoded AS
SELECT w.id, w.addon_id, w.day_of_week,
       CASE w.day_of_week WHEN 0 THEN 'Sunday' WHEN 1 THEN 'Monday' WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday'
                          WHEN 4 THEN 'Thursday' WHEN 5 THEN 'Friday' WHEN 6 THEN 'Saturday' END AS day_name,
       w.start_minute,
       substr(time(w.start_minute * 60, 'unixepoch'), 1, 5) AS start_time,
       substr(time((w.start_minute + w.duration_minutes) * 60, 'unixepoch'), 1, 5) AS end_time,
       w.duration_minutes,
       CASE w.day_of_week WHEN 0 THEN 'Sundays' WHEN 1 THEN 'Mondays' WHEN 2 THEN 'Tuesdays' WHEN 3 THEN 'Wednesdays'
                          WHEN 4 THEN 'Thursdays' WHEN 5 THEN 'Fridays' WHEN 6 THEN 'Saturdays' END
           || ' ' || substr(time(w.start_minute * 60, 'unixepoch'), 1, 5) || ' to '
           || CASE WHEN w.start_minute + w.duration_minutes < 1440 THEN ''
                   ELSE CASE w.day_of_week WHEN 6 THEN 'Sundays' WHEN 0 THEN 'Mondays' WHEN 1 THEN 'Tuesdays' WHEN 2 THEN 'Wednesdays'
                                           WHEN 3 THEN 'Thursdays' WHEN 4 THEN 'Fridays' WHEN 5 THEN 'Saturdays' END || ' ' END
           || substr(time((w.start_minute + w.duration_minutes) * 60, 'unixepoch'), 1, 5) || ' UTC' AS window_text,
       w.source, w.set_at, w.set_by
FROM windows w;

-- Every window set, with the one it replaced (NULL for an add-on's first).
CREATE VIEW window_changes AS
SELECT w.id AS window_id, apps.name AS app, a.name AS addon, a.service AS kind, a.plan,
       w.set_at, w.set_by, w.source,
       p.window_text AS previous_window_text, p.day_of_week AS previous_day_of_week, p.day_name AS previous_day_name,
       p.start_minute AS previous_start_minute, p.start_time AS previous_start_time,
       w.window_text, w.day_of_week, w.day_name, w.start_minute, w.start_time, w.end_time
FROM windows_decoded w
JOIN addons a ON a.id = w.addon_id
JOIN apps ON apps.id = a.app_id
LEFT JOIN windows_decoded p ON p.id = (SELECT max(q.id) FROM windows q WHERE q.addon_id = w.addon_id AND q.id < w.id);

-- Each add-on's window now (its newest), destroyed add-ons included with their last one.
CREATE VIEW current_windows AS
SELECT apps.name AS app, a.name AS addon, a.service AS kind, a.plan,
       w.window_text, w.day_of_week, w.day_name, w.start_minute, w.start_time, w.end_time,
       w.source, w.set_at, w.set_by, a.deprovisioned_at
FROM addons a
JOIN apps ON apps.id = a.app_id
JOIN windows_decoded w ON w.id = (SELECT max(q.id) FROM windows q WHERE q.addon_id = a.id);

-- One row per maintenance, with what an audit asks of it. `ended_at`/`ended_by`: when and by
-- whom it entered completed, failed or cancelled (that status change; NULL while open).
-- `started_in_window`: whether it started inside the window it was scheduled with (the weekly
-- occurrence holding started_at; NULL when it did not start or had no window), as
-- `audit:compliance` counts it. `deadline_met`: completed at or before required_by (NULL with
-- no deadline, or while open).
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
       server_created_at
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
           s.actor AS ended_by
    FROM maintenances m
    JOIN addons a ON a.id = m.addon_id
    JOIN apps ON apps.id = a.app_id
    -- The change into its final status: a maintenance enters completed, failed or cancelled
    -- once, and never leaves it. (Found among the maintenance's few changes by the index on
    -- maintenance_id; a correlated max(id) lookup instead took 4 times as long on 1M rows.)
    LEFT JOIN maintenance_status_changes s
        ON s.maintenance_id = m.id AND s.to_status = m.status
       AND (m.status = 'completed' OR m.status = 'failed' OR m.status = 'cancelled')
);
