import { typesFor, type CollectorMigration } from '../migration';

/** SQL for a severity's rank (common/findings.ts SEVERITY_RANK), -1 for none. */
const SEVERITY_RANK_SQL = "CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 WHEN 'info' THEN 0 ELSE -1 END";

/** Recomputes one device's denormalized risk and open-finding count from its open findings. */
export function refreshDeviceSql(deviceIdExpression: string): string {
  return `UPDATE devices SET
      risk_rank = (SELECT coalesce(max(${SEVERITY_RANK_SQL}), -1) FROM findings WHERE device_id = ${deviceIdExpression} AND closed_at IS NULL),
      open_findings = (SELECT count(*) FROM findings WHERE device_id = ${deviceIdExpression} AND closed_at IS NULL)
    WHERE id = ${deviceIdExpression}`;
}

/**
 * IT triage at fleet scale.
 *
 * `devices.risk_rank` and `devices.open_findings` are kept by triggers on `findings` (every path that
 * writes a finding, now or later, keeps them true), so the device list sorts and filters by risk
 * through an index instead of aggregating every finding of the fleet per request. The triage state
 * of a finding, notes, tags, suppressions, the hash-chained audit log, the collector's own identity
 * (its audit-feed signing key) and the SIEM push state live in their own tables; nothing here edits
 * a signed report.
 */
export const migration002Triage: CollectorMigration = {
  version: 2,
  name: 'triage',
  statements(dialect) {
    const t = typesFor(dialect);
    const triggers =
      dialect === 'sqlite'
        ? [
            `CREATE TRIGGER findings_risk_insert AFTER INSERT ON findings BEGIN ${refreshDeviceSql('NEW.device_id')}; END`,
            `CREATE TRIGGER findings_risk_update AFTER UPDATE OF severity, closed_at, device_id ON findings BEGIN ${refreshDeviceSql('NEW.device_id')}; END`,
            `CREATE TRIGGER findings_risk_delete AFTER DELETE ON findings BEGIN ${refreshDeviceSql('OLD.device_id')}; END`,
          ]
        : [
            `CREATE FUNCTION telltale_refresh_device_risk() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF TG_OP = 'DELETE' THEN
                 ${refreshDeviceSql('OLD.device_id')};
               ELSE
                 ${refreshDeviceSql('NEW.device_id')};
               END IF;
               RETURN NULL;
             END $$`,
            `CREATE TRIGGER findings_risk AFTER INSERT OR DELETE OR UPDATE OF severity, closed_at, device_id ON findings
             FOR EACH ROW EXECUTE FUNCTION telltale_refresh_device_risk()`,
          ];
    return [
      `ALTER TABLE devices ADD COLUMN risk_rank ${t.bigint} NOT NULL DEFAULT -1`,
      `ALTER TABLE devices ADD COLUMN open_findings ${t.bigint} NOT NULL DEFAULT 0`,
      `ALTER TABLE devices ADD COLUMN retired_at ${t.bigint}`,
      refreshDeviceSql('devices.id').replace(/WHERE id = devices\.id$/, ''),
      ...triggers,
      // The device list's sort orders, each with id as the tie-break the keyset cursor needs.
      `CREATE INDEX devices_risk_order ON devices(risk_rank, last_seen_at, id)`,
      `CREATE INDEX devices_seen_order ON devices(last_seen_at, id)`,
      `CREATE INDEX devices_host_order ON devices(hostname, id)`,
      // The incident queue: open findings, newest change first.
      `CREATE INDEX findings_open_cursor ON findings(cursor) WHERE closed_at IS NULL`,
      `CREATE INDEX findings_open_severity_cursor ON findings(severity, cursor) WHERE closed_at IS NULL`,
      `CREATE TABLE device_tags (
        device_id TEXT NOT NULL REFERENCES devices(id),
        tag TEXT NOT NULL,
        added_at ${t.bigint} NOT NULL,
        PRIMARY KEY (device_id, tag)
      )${t.strict}`,
      `CREATE INDEX device_tags_tag ON device_tags(tag, device_id)`,
      `CREATE TABLE finding_triage (
        finding_id ${t.bigint} PRIMARY KEY REFERENCES findings(id),
        device_id TEXT NOT NULL REFERENCES devices(id),
        status TEXT NOT NULL,
        assignee TEXT,
        reason TEXT,
        updated_at ${t.bigint} NOT NULL,
        updated_by TEXT NOT NULL
      )${t.strict}`,
      `CREATE INDEX finding_triage_device ON finding_triage(device_id)`,
      `CREATE TABLE notes (
        id ${t.serialKey},
        device_id TEXT NOT NULL REFERENCES devices(id),
        finding_id ${t.bigint},
        at ${t.bigint} NOT NULL,
        author TEXT NOT NULL,
        text TEXT NOT NULL
      )${t.strict}`,
      `CREATE INDEX notes_device ON notes(device_id, id)`,
      `CREATE TABLE suppressions (
        id ${t.serialKey},
        kind TEXT NOT NULL,
        device_id TEXT,
        tag TEXT,
        until_at ${t.bigint} NOT NULL,
        reason TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL,
        created_by TEXT NOT NULL,
        lifted_at ${t.bigint},
        CHECK ((device_id IS NULL) <> (tag IS NULL))
      )${t.strict}`,
      `CREATE INDEX suppressions_kind ON suppressions(kind, until_at)`,
      `CREATE TABLE audit_log (
        seq ${t.bigint} PRIMARY KEY,
        at ${t.bigint} NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        device_id TEXT,
        finding_id ${t.bigint},
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      )${t.strict}`,
      `CREATE INDEX audit_log_device ON audit_log(device_id, seq)`,
      `CREATE TABLE collector_identity (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL
      )${t.strict}`,
      `CREATE TABLE siem_state (
        finding_id ${t.bigint} PRIMARY KEY,
        severity TEXT NOT NULL,
        closed INTEGER NOT NULL
      )${t.strict}`,
      `INSERT INTO counters (name, value) VALUES ('siem_cursor', 0)`,
    ];
  },
};
