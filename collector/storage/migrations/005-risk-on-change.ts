import type { CollectorMigration } from '../migration';
import { refreshDeviceSql } from './002-triage';

/** The columns a device's denormalized risk depends on, changed by an UPDATE (SQLite spelling). */
const CHANGED_SQLITE = 'OLD.severity IS NOT NEW.severity OR OLD.closed_at IS NOT NEW.closed_at OR OLD.device_id IS NOT NEW.device_id';
const CHANGED_POSTGRES = 'OLD.severity IS DISTINCT FROM NEW.severity OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.device_id IS DISTINCT FROM NEW.device_id';

/**
 * The device-risk triggers of step 2 fire on an UPDATE only when a finding's severity, open state
 * or device really changed.
 *
 * An agent finding is upserted from every report that carries it (its last-seen time moves), and
 * that upsert's SET names severity and closed_at, so `UPDATE OF` fired for every finding of every
 * report and recomputed the device's risk: two aggregates over its findings and a write of the
 * device row and its sort indexes, most of what storing a report cost. The risk depends on those
 * three columns only, so skipping unchanged rows gives the same values. A finding moved to another
 * device (no path does that today) now refreshes both devices.
 */
export const migration005RiskOnChange: CollectorMigration = {
  version: 5,
  name: 'risk-on-change',
  statements(dialect) {
    if (dialect === 'sqlite') {
      return [
        `DROP TRIGGER findings_risk_update`,
        `CREATE TRIGGER findings_risk_update AFTER UPDATE OF severity, closed_at, device_id ON findings
           WHEN ${CHANGED_SQLITE}
         BEGIN
           ${refreshDeviceSql('NEW.device_id')};
           ${refreshDeviceSql('OLD.device_id')} AND OLD.device_id IS NOT NEW.device_id;
         END`,
      ];
    }
    return [
      `DROP TRIGGER findings_risk ON findings`,
      `CREATE TRIGGER findings_risk AFTER INSERT OR DELETE ON findings FOR EACH ROW EXECUTE FUNCTION telltale_refresh_device_risk()`,
      `CREATE TRIGGER findings_risk_update AFTER UPDATE OF severity, closed_at, device_id ON findings
         FOR EACH ROW WHEN (${CHANGED_POSTGRES}) EXECUTE FUNCTION telltale_refresh_device_risk()`,
    ];
  },
};
