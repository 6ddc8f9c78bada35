/**
 * The location tables (migration 003): each device's latest location, farm clusters and members,
 * approved places and expected countries. Bound SQL only; row mappers beside the queries.
 */
import { LINK_KINDS, type LinkKind } from '../schemas';
import { reserve } from './counters';
import { integer, integerOrNull, text, textOrNull, type Queryable, type Row } from './sql';

export { LINK_KINDS, type LinkKind };

const LINK_COLUMN: Readonly<Record<LinkKind, string>> = { gateway: 'gateway_hash', bssid: 'bssid_hash', 'egress-ip': 'egress_ip' };

export interface DeviceLocationRow {
  readonly deviceId: string;
  readonly gatewayHash: string | null;
  readonly bssidHash: string | null;
  readonly ssidHash: string | null;
  readonly subnetHash: string | null;
  readonly timezone: string | null;
  readonly utcOffsetMinutes: number | null;
  readonly defaultRouteTunnel: boolean;
  readonly interfaceKind: string | null;
  readonly egressIp: string | null;
  readonly egressAsn: number | null;
  readonly egressOrg: string | null;
  readonly egressCountry: string | null;
  readonly egressHosting: boolean;
  readonly seenAt: number;
  /** The location-settings version this row's cluster and egress finding were settled under (migration 006); null: never. */
  readonly settledVersion?: number | null;
}

const LOCATION_COLUMNS =
  'device_id, gateway_hash, bssid_hash, ssid_hash, subnet_hash, timezone, utc_offset_minutes, default_route_tunnel, interface_kind, egress_ip, egress_asn, egress_org, egress_country, egress_hosting, seen_at, settled_version';

/** The counter that versions IT's location settings; each change of those settings bumps it. */
const SETTINGS_COUNTER = 'location_settings';

function toLocation(row: Row): DeviceLocationRow {
  return {
    deviceId: text(row, 'device_id'),
    gatewayHash: textOrNull(row, 'gateway_hash'),
    bssidHash: textOrNull(row, 'bssid_hash'),
    ssidHash: textOrNull(row, 'ssid_hash'),
    subnetHash: textOrNull(row, 'subnet_hash'),
    timezone: textOrNull(row, 'timezone'),
    utcOffsetMinutes: integerOrNull(row, 'utc_offset_minutes'),
    defaultRouteTunnel: integer(row, 'default_route_tunnel') === 1,
    interfaceKind: textOrNull(row, 'interface_kind'),
    egressIp: textOrNull(row, 'egress_ip'),
    egressAsn: integerOrNull(row, 'egress_asn'),
    egressOrg: textOrNull(row, 'egress_org'),
    egressCountry: textOrNull(row, 'egress_country'),
    egressHosting: integer(row, 'egress_hosting') === 1,
    seenAt: integer(row, 'seen_at'),
    settledVersion: integerOrNull(row, 'settled_version'),
  };
}

export async function findDeviceLocation(db: Queryable, deviceId: string): Promise<DeviceLocationRow | undefined> {
  const row = await db.get(`SELECT ${LOCATION_COLUMNS} FROM device_locations WHERE device_id = ?`, [deviceId]);
  return row ? toLocation(row) : undefined;
}

export async function findDeviceLocations(db: Queryable, deviceIds: readonly string[]): Promise<DeviceLocationRow[]> {
  if (db.dialect === 'postgres') {
    if (deviceIds.length === 0) return [];
    return (await db.all(`SELECT ${LOCATION_COLUMNS} FROM device_locations WHERE device_id = ANY(?::text[])`, [deviceIds])).map(toLocation);
  }
  const out: DeviceLocationRow[] = [];
  for (const id of deviceIds) {
    const row = await findDeviceLocation(db, id);
    if (row) out.push(row);
  }
  return out;
}

export async function upsertDeviceLocation(db: Queryable, row: DeviceLocationRow): Promise<void> {
  await db.run(
    `INSERT INTO device_locations (${LOCATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (device_id) DO UPDATE SET gateway_hash = excluded.gateway_hash, bssid_hash = excluded.bssid_hash,
       ssid_hash = excluded.ssid_hash, subnet_hash = excluded.subnet_hash, timezone = excluded.timezone,
       utc_offset_minutes = excluded.utc_offset_minutes, default_route_tunnel = excluded.default_route_tunnel,
       interface_kind = excluded.interface_kind, egress_ip = excluded.egress_ip, egress_asn = excluded.egress_asn,
       egress_org = excluded.egress_org, egress_country = excluded.egress_country, egress_hosting = excluded.egress_hosting,
       seen_at = excluded.seen_at, settled_version = excluded.settled_version`,
    [
      row.deviceId,
      row.gatewayHash,
      row.bssidHash,
      row.ssidHash,
      row.subnetHash,
      row.timezone,
      row.utcOffsetMinutes,
      row.defaultRouteTunnel ? 1 : 0,
      row.interfaceKind,
      row.egressIp,
      row.egressAsn,
      row.egressOrg,
      row.egressCountry,
      row.egressHosting ? 1 : 0,
      row.seenAt,
      row.settledVersion ?? null,
    ],
  );
}

/** Move devices' last-seen times forward (never back), leaving their signals as they are. */
export async function touchDeviceLocations(db: Queryable, seen: readonly { readonly deviceId: string; readonly seenAt: number }[]): Promise<void> {
  if (seen.length === 0) return;
  if (db.dialect === 'postgres') {
    await db.run(
      `UPDATE device_locations AS l SET seen_at = GREATEST(l.seen_at, u.seen_at)
       FROM unnest(?::text[], ?::int8[]) AS u(device_id, seen_at) WHERE l.device_id = u.device_id`,
      [seen.map((item) => item.deviceId), seen.map((item) => item.seenAt)],
    );
    return;
  }
  for (const item of seen) await db.run('UPDATE device_locations SET seen_at = max(seen_at, ?) WHERE device_id = ?', [item.seenAt, item.deviceId]);
}

/** The current version of IT's location settings (expected countries, approved places). */
export async function locationSettingsVersion(db: Queryable): Promise<number> {
  const row = await db.get('SELECT value FROM counters WHERE name = ?', [SETTINGS_COUNTER]);
  return row ? integer(row, 'value') : 0;
}

/** Every device's next report re-settles its cluster and egress finding under the new settings. */
async function bumpLocationSettings(db: Queryable): Promise<void> {
  await reserve(db, SETTINGS_COUNTER, 1);
}

/** Devices seen since `since` whose `kind` signal equals `value` (index device_locations_<kind>). */
export async function devicesSharing(db: Queryable, kind: LinkKind, value: string, since: number, limit: number): Promise<string[]> {
  const column = LINK_COLUMN[kind];
  const rows = await db.all(`SELECT device_id FROM device_locations WHERE ${column} = ? AND seen_at >= ? LIMIT ?`, [value, since, limit]);
  return rows.map((row) => text(row, 'device_id'));
}

export interface FarmClusterRow {
  readonly id: number;
  readonly openedAt: number;
  readonly updatedAt: number;
  readonly closedAt: number | null;
  readonly deviceCount: number;
  /** JSON: device ids, sorted. */
  readonly members: string;
  /** JSON: the shared signals. */
  readonly signals: string;
}

const CLUSTER_COLUMNS = 'id, opened_at, updated_at, closed_at, device_count, members, signals';

function toCluster(row: Row): FarmClusterRow {
  return {
    id: integer(row, 'id'),
    openedAt: integer(row, 'opened_at'),
    updatedAt: integer(row, 'updated_at'),
    closedAt: integerOrNull(row, 'closed_at'),
    deviceCount: integer(row, 'device_count'),
    members: text(row, 'members'),
    signals: text(row, 'signals'),
  };
}

/** Open cluster ids of the given devices. */
export async function clustersOfDevices(db: Queryable, deviceIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const id of deviceIds) {
    const row = await db.get('SELECT cluster_id FROM farm_members WHERE device_id = ?', [id]);
    if (row) out.set(id, integer(row, 'cluster_id'));
  }
  return out;
}

export async function findCluster(db: Queryable, id: number): Promise<FarmClusterRow | undefined> {
  const row = await db.get(`SELECT ${CLUSTER_COLUMNS} FROM farm_clusters WHERE id = ?`, [id]);
  return row ? toCluster(row) : undefined;
}

export async function insertCluster(db: Queryable, now: number, members: string, signals: string, count: number): Promise<number> {
  const row = await db.get(
    'INSERT INTO farm_clusters (opened_at, updated_at, closed_at, device_count, members, signals) VALUES (?, ?, NULL, ?, ?, ?) RETURNING id',
    [now, now, count, members, signals],
  );
  if (!row) throw new Error('INSERT ... RETURNING gave no row');
  return integer(row, 'id');
}

export async function updateCluster(db: Queryable, id: number, now: number, members: string, signals: string, count: number): Promise<void> {
  await db.run('UPDATE farm_clusters SET updated_at = ?, members = ?, signals = ?, device_count = ? WHERE id = ?', [now, members, signals, count, id]);
}

export async function closeCluster(db: Queryable, id: number, now: number): Promise<void> {
  await db.run('UPDATE farm_clusters SET closed_at = ?, updated_at = ? WHERE id = ? AND closed_at IS NULL', [now, now, id]);
  await db.run('DELETE FROM farm_members WHERE cluster_id = ?', [id]);
}

export async function setMembers(db: Queryable, clusterId: number, deviceIds: readonly string[]): Promise<void> {
  await db.run('DELETE FROM farm_members WHERE cluster_id = ?', [clusterId]);
  for (const id of deviceIds) {
    await db.run('INSERT INTO farm_members (device_id, cluster_id) VALUES (?, ?) ON CONFLICT (device_id) DO UPDATE SET cluster_id = excluded.cluster_id', [id, clusterId]);
  }
}

/** Open clusters, newest activity first (index farm_clusters_open). */
export async function listOpenClusters(db: Queryable, limit: number): Promise<FarmClusterRow[]> {
  return (await db.all(`SELECT ${CLUSTER_COLUMNS} FROM farm_clusters WHERE closed_at IS NULL ORDER BY updated_at DESC LIMIT ?`, [limit])).map(toCluster);
}

export interface ApprovedPlaceRow {
  readonly kind: LinkKind;
  readonly value: string;
  readonly label: string;
  readonly createdAt: number;
}

export async function listApprovedPlaces(db: Queryable): Promise<ApprovedPlaceRow[]> {
  return (await db.all('SELECT kind, value, label, created_at FROM approved_places ORDER BY created_at')).map((row) => ({
    kind: text(row, 'kind') as LinkKind,
    value: text(row, 'value'),
    label: text(row, 'label'),
    createdAt: integer(row, 'created_at'),
  }));
}

export async function isApprovedPlace(db: Queryable, kind: LinkKind, value: string): Promise<boolean> {
  return (await db.get('SELECT 1 AS found FROM approved_places WHERE kind = ? AND value = ?', [kind, value])) !== undefined;
}

export async function upsertApprovedPlace(db: Queryable, place: ApprovedPlaceRow): Promise<void> {
  await bumpLocationSettings(db);
  await db.run('INSERT INTO approved_places (kind, value, label, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, value) DO UPDATE SET label = excluded.label', [
    place.kind,
    place.value,
    place.label,
    place.createdAt,
  ]);
}

export async function deleteApprovedPlace(db: Queryable, kind: LinkKind, value: string): Promise<boolean> {
  await bumpLocationSettings(db);
  return (await db.run('DELETE FROM approved_places WHERE kind = ? AND value = ?', [kind, value])) > 0;
}

/** The expected country of a device: its own setting, else the fleet's ('*'), else null. */
export async function expectedCountry(db: Queryable, deviceId: string): Promise<string | null> {
  const row = (await db.get('SELECT country FROM expected_countries WHERE scope = ?', [deviceId])) ?? (await db.get("SELECT country FROM expected_countries WHERE scope = '*'"));
  return row ? text(row, 'country') : null;
}

export async function setExpectedCountry(db: Queryable, scope: string, country: string | null, now: number): Promise<void> {
  await bumpLocationSettings(db);
  if (country === null) await db.run('DELETE FROM expected_countries WHERE scope = ?', [scope]);
  else {
    await db.run('INSERT INTO expected_countries (scope, country, updated_at) VALUES (?, ?, ?) ON CONFLICT (scope) DO UPDATE SET country = excluded.country, updated_at = excluded.updated_at', [
      scope,
      country,
      now,
    ]);
  }
}

/** Hostnames of the given devices in one query per 500 ids (the farm list's members). */
export async function hostnamesOf(db: Queryable, deviceIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let start = 0; start < deviceIds.length; start += 500) {
    const chunk = deviceIds.slice(start, start + 500);
    const rows =
      db.dialect === 'sqlite'
        ? await db.all(`SELECT id, hostname FROM devices WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk)
        : await db.all('SELECT id, hostname FROM devices WHERE id = ANY(?::text[])', [chunk]);
    for (const row of rows) out.set(text(row, 'id'), text(row, 'hostname'));
  }
  return out;
}
