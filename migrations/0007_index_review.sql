-- maintledger schema, version 7: the maintenances' indexes reviewed against the queries that use
-- them (Tests/MaintenanceLedgerTests/QueryPlanTests.swift holds each query to its plan). Bytes
-- per maintenance in brackets, on a simulated fleet (1,000 apps, 730 days): the seven indexes
-- took 272, now 201.
--
-- Kept as they were:
--   sqlite_autoindex_maintenances_1 (uuid) [50]: UNIQUE(uuid); `import` finds a maintenance by it.
--   maintenances_one_open (addon_id) WHERE open: one open maintenance per add-on; the engine
--     and the commands find it through it (`INDEXED BY`).
--   maintenances_by_scheduled / _by_started / _by_completed [37 each]: `history` orders on one of
--     the three times (newest first, LIMIT n reads n entries) and filters --since/--until on it.

-- maintenances_by_addon_status (addon_id, status) [22 → 0]: dropped. Its users read an add-on's
-- maintenances, a few dozen rows: the engine's last completion (max(completed_at) of the
-- add-on's completed ones) and `history --addon/--app`, which sorted them anyway. They read
-- maintenances_by_addon now, which finds the same rows.
DROP INDEX maintenances_by_addon_status;

-- maintenances_by_status (status, scheduled_for) [47 → 1]: only the statuses other than
-- completed. `history --status S` needs it for those: failed and cancelled are 1–2% of the
-- maintenances, the open ones at most one per add-on, and newest first without it would read
-- the fleet's time index until it met n of them. Completed (98% of the rows) does not: its
-- listing reads maintenances_by_scheduled from the newest entry on, nearly all of them
-- completed but the open maintenances, at most one per add-on, scheduled ahead of them.
-- The condition names the statuses: SQLite uses a partial index for a query whose WHERE implies
-- the index's, and it sees that `status = 'failed'` implies `… OR status = 'failed' OR …`, not
-- that it implies `status <> 'completed'`. ORs, not IN: see 0004.
DROP INDEX maintenances_by_status;
CREATE INDEX maintenances_by_status_not_completed ON maintenances(status, scheduled_for)
    WHERE status = 'pending' OR status = 'preparing' OR status = 'ready' OR status = 'running'
       OR status = 'failed' OR status = 'cancelled';

-- maintenances_by_addon (addon_id, created_at, id) [43 → 39]: rebuilt without `id`. An index
-- entry of a rowid table ends with the rowid, which `id` is: the column stored it twice. SQLite
-- orders by that trailing rowid as by a column, so `ORDER BY created_at DESC, id DESC` (an
-- add-on's newest maintenance: the engine, data:maintenances:info and :history, the reports'
-- first server) still reads the index in order, without a sort.
DROP INDEX maintenances_by_addon;
CREATE INDEX maintenances_by_addon ON maintenances(addon_id, created_at);
