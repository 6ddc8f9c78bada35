import { typesFor, type CollectorMigration } from '../migration';

/**
 * Devices, their signed reports, the findings those reports carry, chain gaps, and counters.
 *
 * `reports.body` is the canonical JSON exactly as signed (TEXT, not jsonb, so the bytes survive).
 * `findings.cursor` is a global, monotonically increasing change number taken from `counters`
 * inside the writing transaction: the row lock on the counter orders cursor values by commit, so an
 * NDJSON consumer paging by cursor never skips a row that commits late.
 */
export const migration001Initial: CollectorMigration = {
  version: 1,
  name: 'initial',
  statements(dialect) {
    const t = typesFor(dialect);
    return [
      `CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        public_key TEXT NOT NULL UNIQUE,
        hostname TEXT NOT NULL,
        platform TEXT NOT NULL,
        agent_version TEXT NOT NULL,
        enrolled_at ${t.bigint} NOT NULL,
        last_seen_at ${t.bigint} NOT NULL,
        head_seq ${t.bigint} NOT NULL DEFAULT 0,
        head_hash TEXT
      )${t.strict}`,
      `CREATE INDEX devices_last_seen_at ON devices(last_seen_at)`,
      `CREATE TABLE reports (
        device_id TEXT NOT NULL REFERENCES devices(id),
        seq ${t.bigint} NOT NULL,
        hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        kind TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL,
        body TEXT NOT NULL,
        sig TEXT NOT NULL,
        received_at ${t.bigint} NOT NULL,
        PRIMARY KEY (device_id, seq)
      )${t.strict}`,
      `CREATE TABLE findings (
        id ${t.serialKey},
        cursor ${t.bigint} NOT NULL UNIQUE,
        device_id TEXT NOT NULL REFERENCES devices(id),
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        title TEXT NOT NULL,
        explanation TEXT NOT NULL,
        evidence TEXT NOT NULL,
        first_seen_at ${t.bigint} NOT NULL,
        last_seen_at ${t.bigint} NOT NULL,
        closed_at ${t.bigint},
        report_seq ${t.bigint},
        created_at ${t.bigint} NOT NULL,
        updated_at ${t.bigint} NOT NULL
      )${t.strict}`,
      `CREATE UNIQUE INDEX findings_identity ON findings(device_id, key, first_seen_at)`,
      `CREATE INDEX findings_device_open ON findings(device_id, closed_at)`,
      `CREATE INDEX findings_kind_open ON findings(kind, device_id) WHERE closed_at IS NULL`,
      `CREATE TABLE chain_gaps (
        id ${t.serialKey},
        device_id TEXT NOT NULL REFERENCES devices(id),
        from_seq ${t.bigint} NOT NULL,
        to_seq ${t.bigint} NOT NULL,
        detected_at ${t.bigint} NOT NULL,
        closed_at ${t.bigint}
      )${t.strict}`,
      `CREATE INDEX chain_gaps_device ON chain_gaps(device_id, from_seq)`,
      `CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value ${t.bigint} NOT NULL
      )${t.strict}`,
      `INSERT INTO counters (name, value) VALUES ('finding_cursor', 0)`,
    ];
  },
};
