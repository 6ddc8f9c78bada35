/** The `devices` table: enrolled devices, their public keys and chain heads. */
import { integer, text, textOrNull, type Queryable, type Row } from './sql';
import { deleteDeviceTriage } from './triage';

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

/** The devices among `ids` that exist: one `= ANY` query on PostgreSQL, primary-key lookups on SQLite. */
export async function findDevicesByIds(db: Queryable, ids: readonly string[]): Promise<DeviceRow[]> {
  if (ids.length === 0) return [];
  if (db.dialect === 'sqlite') {
    const found: DeviceRow[] = [];
    for (const id of ids) {
      const device = await findDeviceById(db, id);
      if (device) found.push(device);
    }
    return found;
  }
  return (await db.all(`SELECT ${COLUMNS} FROM devices WHERE id = ANY(?::text[])`, [ids])).map(toDevice);
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

/** Re-enrollment of a known key: refresh what the device says about itself. Not contact: last_seen_at moves only with reports. */
export async function updateDeviceDescription(db: Queryable, id: string, description: { hostname: string; platform: string; agentVersion: string }): Promise<void> {
  await db.run('UPDATE devices SET hostname = ?, platform = ?, agent_version = ? WHERE id = ?', [
    description.hostname,
    description.platform,
    description.agentVersion,
    id,
  ]);
}

export async function countDevices(db: Queryable): Promise<number> {
  const row = await db.get('SELECT count(*) AS n FROM devices');
  return row ? integer(row, 'n') : 0;
}

/** Delete a device and everything stored of it; the counts of rows removed, or null when there is no such device. */
export async function deleteDevice(db: Queryable, id: string): Promise<{ reports: number; findings: number; gaps: number } | null> {
  await deleteDeviceTriage(db, id);
  const findings = await db.run('DELETE FROM findings WHERE device_id = ?', [id]);
  const gaps = await db.run('DELETE FROM chain_gaps WHERE device_id = ?', [id]);
  const reports = await db.run('DELETE FROM reports WHERE device_id = ?', [id]);
  const devices = await db.run('DELETE FROM devices WHERE id = ?', [id]);
  return devices === 0 ? null : { reports, findings, gaps };
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

/**
 * touchDevice for many devices (each id at most once; `head` only when it moves forward): one
 * unnest UPDATE on PostgreSQL, the prepared single-row UPDATEs on SQLite.
 */
export async function touchDevices(db: Queryable, touches: readonly { id: string; now: number; head: { seq: number; hash: string } | null }[]): Promise<void> {
  if (touches.length === 0) return;
  if (db.dialect === 'sqlite') {
    for (const touch of touches) await touchDevice(db, touch.id, touch.now, touch.head);
    return;
  }
  // Same rules as touchDevice: last_seen_at never moves back, the head only forward.
  await db.run(
    `UPDATE devices AS d SET
       last_seen_at = GREATEST(d.last_seen_at, u.now),
       head_seq = CASE WHEN u.head_seq IS NOT NULL AND u.head_seq > d.head_seq THEN u.head_seq ELSE d.head_seq END,
       head_hash = CASE WHEN u.head_seq IS NOT NULL AND u.head_seq > d.head_seq THEN u.head_hash ELSE d.head_hash END
     FROM unnest(?::text[], ?::int8[], ?::int8[], ?::text[]) AS u(id, now, head_seq, head_hash)
     WHERE d.id = u.id`,
    [
      touches.map((touch) => touch.id),
      touches.map((touch) => touch.now),
      touches.map((touch) => touch.head?.seq ?? null),
      touches.map((touch) => touch.head?.hash ?? null),
    ],
  );
}

/** Devices whose last contact is before `cutoff` (index devices_last_seen_at). */
export async function listDevicesSeenBefore(db: Queryable, cutoff: number): Promise<DeviceRow[]> {
  return (await db.all(`SELECT ${COLUMNS} FROM devices WHERE last_seen_at < ?`, [cutoff])).map(toDevice);
}
