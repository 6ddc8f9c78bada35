/** A device's risk for IT: the worst open finding, with silence counted even before its finding is swept in. */
import { RISK_RANK, type RiskLevel } from '../../common/findings';
import type { DeviceRow } from '../storage/devices';
import type { OpenFindingCount } from '../storage/findings';
import { DEVICE_SILENT_KIND, DEVICE_SILENT_SEVERITY } from './findings';
import { isSilent } from './silence';


export interface DeviceSummary extends DeviceRow {
  /** Max severity of open findings and of silence ('none' without either). */
  readonly risk: RiskLevel;
  /** Not heard from for silentAfterMs, or its device-silent finding is still open. */
  readonly silent: boolean;
  readonly openFindings: number;
}

function worse(current: RiskLevel, level: RiskLevel): RiskLevel {
  return RISK_RANK[level] > RISK_RANK[current] ? level : current;
}

export function summarizeDevices(devices: readonly DeviceRow[], counts: readonly OpenFindingCount[], now: number, silentAfterMs: number): DeviceSummary[] {
  const byDevice = new Map<string, { risk: RiskLevel; silent: boolean; open: number }>();
  for (const count of counts) {
    const entry = byDevice.get(count.deviceId) ?? { risk: 'none' as RiskLevel, silent: false, open: 0 };
    entry.risk = worse(entry.risk, count.severity);
    if (count.kind === DEVICE_SILENT_KIND) entry.silent = true;
    entry.open += count.count;
    byDevice.set(count.deviceId, entry);
  }
  return devices.map((device) => {
    const entry = byDevice.get(device.id);
    const silent = (entry?.silent ?? false) || isSilent(device.lastSeenAt, now, silentAfterMs);
    const risk = worse(entry?.risk ?? 'none', silent ? DEVICE_SILENT_SEVERITY : 'none');
    return { ...device, risk, silent, openFindings: entry?.open ?? 0 };
  });
}
