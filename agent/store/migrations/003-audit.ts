import type { Migration } from '../migration';

/**
 * The audit entries about this device, as the collector signed them (common/audit.ts): what IT
 * looked at and did, shown to the employee and included in the export. `seq` is the position in
 * the collector's one audit chain, so it orders the rows and is the cursor of the next fetch.
 * `received_at` is the agent clock when the verified feed was stored.
 */
export const migration003Audit: Migration = {
  version: 3,
  name: 'audit',
  up(db) {
    db.exec(`
      CREATE TABLE audit_entries (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        device_id TEXT,
        finding_id INTEGER,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        received_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
