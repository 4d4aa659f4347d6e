-- maintledger schema, version 2: upcoming-maintenance notices and the engine's ticks.

-- One notice per scheduling or rescheduling of a maintenance: what an email job sends.
-- App, add-on, attachments and window are copied as they were when the notice was made.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY,
    maintenance_id  INTEGER NOT NULL REFERENCES maintenances(id),
    kind            TEXT    NOT NULL CHECK (kind IN ('scheduled', 'rescheduled')),
    app             TEXT    NOT NULL,
    addon           TEXT    NOT NULL,
    attachments     TEXT    NOT NULL CHECK (json_valid(attachments) AND json_type(attachments) = 'array'),
    window          TEXT,
    scheduled_for   TEXT    NOT NULL CHECK (scheduled_for GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    required_by     TEXT    NOT NULL CHECK (required_by GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    created_at      TEXT    NOT NULL CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
);
CREATE INDEX notices_by_maintenance ON notices(maintenance_id);

-- Every tick of the maintenance engine: how far it has processed, with the seed and failure
-- rate that shaped durations and outcomes. Ticks only move forward.
CREATE TABLE engine_ticks (
    id                     INTEGER PRIMARY KEY,
    ticked_until           TEXT    NOT NULL CHECK (ticked_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    seed                   INTEGER NOT NULL,
    failures_per_million   INTEGER NOT NULL CHECK (failures_per_million BETWEEN 0 AND 1000000),
    recorded_at            TEXT    NOT NULL
);

CREATE TRIGGER engine_ticks_forward_only BEFORE INSERT ON engine_ticks
WHEN NEW.ticked_until <= (SELECT max(ticked_until) FROM engine_ticks)
BEGIN
    SELECT RAISE(ABORT, 'engine ticks only move forward');
END;

-- The engine finds what falls due per add-on; these keep its look-ups indexed.
CREATE INDEX maintenances_by_addon_status ON maintenances(addon_id, status);
