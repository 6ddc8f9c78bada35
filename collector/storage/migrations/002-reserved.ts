import type { CollectorMigration } from '../migration';

/**
 * Placeholder for schema step 2, which another branch adds; steps must be contiguous. Drop this
 * file at merge in favour of that step (no database outside tests has run it).
 */
export const migration002Reserved: CollectorMigration = {
  version: 2,
  name: 'reserved',
  statements() {
    return [];
  },
};
