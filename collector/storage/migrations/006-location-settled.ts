import { typesFor, type CollectorMigration } from '../migration';

/**
 * Correlation on change. Each device's location row records the version of IT's location settings
 * (expected countries, approved places) under which its cluster and egress finding were last
 * settled; the `location_settings` counter is that version, and every change to those settings
 * bumps it. A report whose signals equal the stored ones, from a device still inside the window and
 * settled under the current version, then only moves the device's last-seen time (see
 * location/correlate.ts), instead of re-walking its cluster on every report.
 */
export const migration006LocationSettled: CollectorMigration = {
  version: 6,
  name: 'location-settled',
  statements(dialect) {
    const t = typesFor(dialect);
    return [`ALTER TABLE device_locations ADD COLUMN settled_version ${t.bigint}`, `INSERT INTO counters (name, value) VALUES ('location_settings', 0)`];
  },
};
