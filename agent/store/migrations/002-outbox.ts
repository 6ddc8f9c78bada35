import type { Migration } from '../migration';

/**
 * The outbox: every signed report, written before any send and kept until retention prunes it.
 *
 * `state` is the delivery state: 'pending' (not yet acknowledged), 'delivered' (the collector
 * answered 200 stored/duplicate), 'rejected' (the collector refused it with a 4xx; kept, not
 * retried) or 'dropped' (the outbox was full: the body is deleted but seq and hash stay, so the
 * local chain still verifies and the collector sees an honest gap). `body` is NULL exactly when the
 * body was dropped (a dropped report that was already in flight may still end up 'delivered'). The partial index makes "next
 * pending report in seq order" and "how many are pending" cheap however many delivered rows remain.
 */
export const migration002Outbox: Migration = {
  version: 2,
  name: 'outbox',
  up(db) {
    db.exec(`
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('report', 'heartbeat')),
        has_findings INTEGER NOT NULL CHECK (has_findings IN (0, 1)),
        created_at INTEGER NOT NULL,
        body TEXT,
        hash TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'rejected', 'dropped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at INTEGER,
        sent_at INTEGER,
        acked_at INTEGER,
        settled_at INTEGER
      ) STRICT;
      CREATE INDEX outbox_pending ON outbox(seq) WHERE state = 'pending';
    `);
  },
};
