import type { Migration } from '../migration';

/** Timing windows, findings and a small key-value table for agent state. */
export const migration001Initial: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE timing_windows (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        ended_at INTEGER NOT NULL,
        features TEXT NOT NULL
      ) STRICT;
      CREATE INDEX timing_windows_ended_at ON timing_windows(ended_at);

      CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        title TEXT NOT NULL,
        explanation TEXT NOT NULL,
        evidence TEXT NOT NULL,
        first_seen_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        closed_at INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX findings_open_key ON findings(key) WHERE closed_at IS NULL;
      CREATE INDEX findings_last_seen_at ON findings(last_seen_at);

      CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `);
  },
};
