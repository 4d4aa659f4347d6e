-- maintledger schema, version 3: indexes for fleet-wide history and the audit reports.
-- `history` filters and orders on one of three times; each has its own index, so that
-- "newest first, LIMIT n" reads n index entries instead of sorting the fleet.
CREATE INDEX maintenances_by_scheduled ON maintenances(scheduled_for);
CREATE INDEX maintenances_by_started ON maintenances(started_at);
CREATE INDEX maintenances_by_completed ON maintenances(completed_at);
-- Rare statuses (failed, cancelled) are found without a scan.
CREATE INDEX maintenances_by_status ON maintenances(status, scheduled_for);
-- --kind/--plan select add-ons first; --app reaches add-ons through owners and attachments.
CREATE INDEX addons_by_plan ON addons(service, plan);
CREATE INDEX attachments_by_app ON attachments(app_id);
