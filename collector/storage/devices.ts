/** The `devices` table: enrolled devices, their public keys and chain heads. */
import { integer, text, textOrNull, type Queryable, type Row } from './sql';

export interface DeviceRow {
  readonly id: string;
  /** Ed25519 SPKI DER, base64, normalized. */
  readonly publicKey: string;
  readonly hostname: string;
  readonly platform: string;
  readonly agentVersion: string;
  readonly enrolledAt: number;
  readonly lastSeenAt: number;
  /** Highest stored seq, 0 before the first report. */
  readonly headSeq: number;
  readonly headHash: string | null;
}

const COLUMNS = 'id, public_key, hostname, platform, agent_version, enrolled_at, last_seen_at, head_seq, head_hash';

function toDevice(row: Row): DeviceRow {
  return {
    id: text(row, 'id'),
    publicKey: text(row, 'public_key'),
    hostname: text(row, 'hostname'),
    platform: text(row, 'platform'),
    agentVersion: text(row, 'agent_version'),
    enrolledAt: integer(row, 'enrolled_at'),
    lastSeenAt: integer(row, 'last_seen_at'),
    headSeq: integer(row, 'head_seq'),
    headHash: textOrNull(row, 'head_hash'),
  };
}

export async function findDeviceById(db: Queryable, id: string): Promise<DeviceRow | undefined> {
  const row = await db.get(`SELECT ${COLUMNS} FROM devices WHERE id = ?`, [id]);
  return row && toDevice(row);
}

export async function findDeviceByPublicKey(db: Queryable, publicKey: string): Promise<DeviceRow | undefined> {
  const row = await db.get(`SELECT ${COLUMNS} FROM devices WHERE public_key = ?`, [publicKey]);
  return row && toDevice(row);
}

export async function listDeviceRows(db: Queryable): Promise<DeviceRow[]> {
  return (await db.all(`SELECT ${COLUMNS} FROM devices ORDER BY hostname, id`)).map(toDevice);
}

export async function insertDevice(
  db: Queryable,
  device: { id: string; publicKey: string; hostname: string; platform: string; agentVersion: string; now: number },
): Promise<void> {
  await db.run(
    `INSERT INTO devices (id, public_key, hostname, platform, agent_version, enrolled_at, last_seen_at, head_seq, head_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL)`,
    [device.id, device.publicKey, device.hostname, device.platform, device.agentVersion, device.now, device.now],
  );
}

/** Re-enrollment of a known key: refresh what the device says about itself. */
export async function updateDeviceDescription(
  db: Queryable,
  id: string,
  description: { hostname: string; platform: string; agentVersion: string; now: number },
): Promise<void> {
  await db.run('UPDATE devices SET hostname = ?, platform = ?, agent_version = ?, last_seen_at = ? WHERE id = ?', [
    description.hostname,
    description.platform,
    description.agentVersion,
    description.now,
    id,
  ]);
}

/** Record contact (never moves last_seen_at backwards) and, when `head` is given, a new chain head. */
export async function touchDevice(db: Queryable, id: string, now: number, head: { seq: number; hash: string } | null): Promise<void> {
  if (head === null) {
    await db.run('UPDATE devices SET last_seen_at = CASE WHEN last_seen_at > ? THEN last_seen_at ELSE ? END WHERE id = ?', [now, now, id]);
  } else {
    await db.run(
      `UPDATE devices SET last_seen_at = CASE WHEN last_seen_at > ? THEN last_seen_at ELSE ? END, head_seq = ?, head_hash = ?
       WHERE id = ? AND head_seq < ?`,
      [now, now, head.seq, head.hash, id, head.seq],
    );
  }
}

/** Devices whose last contact is before `cutoff` (index devices_last_seen_at). */
export async function listDevicesSeenBefore(db: Queryable, cutoff: number): Promise<DeviceRow[]> {
  return (await db.all(`SELECT ${COLUMNS} FROM devices WHERE last_seen_at < ?`, [cutoff])).map(toDevice);
}
