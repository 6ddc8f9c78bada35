/** The `chain_gaps` table: ranges of seqs a device skipped, open until late reports fill them. */
import { integer, integerOrNull, text, type Queryable, type Row } from './sql';

export interface ChainGapRow {
  readonly id: number;
  readonly deviceId: string;
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly detectedAt: number;
  readonly closedAt: number | null;
}

const COLUMNS = 'id, device_id, from_seq, to_seq, detected_at, closed_at';

function toGap(row: Row): ChainGapRow {
  return {
    id: integer(row, 'id'),
    deviceId: text(row, 'device_id'),
    fromSeq: integer(row, 'from_seq'),
    toSeq: integer(row, 'to_seq'),
    detectedAt: integer(row, 'detected_at'),
    closedAt: integerOrNull(row, 'closed_at'),
  };
}

export async function insertGap(db: Queryable, gap: { deviceId: string; fromSeq: number; toSeq: number; detectedAt: number }): Promise<ChainGapRow> {
  const row = await db.get(
    `INSERT INTO chain_gaps (device_id, from_seq, to_seq, detected_at, closed_at) VALUES (?, ?, ?, ?, NULL) RETURNING ${COLUMNS}`,
    [gap.deviceId, gap.fromSeq, gap.toSeq, gap.detectedAt],
  );
  if (!row) throw new Error('INSERT ... RETURNING gave no row');
  return toGap(row);
}

/** The open gap containing `seq`, if any. */
export async function findOpenGapContaining(db: Queryable, deviceId: string, seq: number): Promise<ChainGapRow | undefined> {
  const row = await db.get(
    `SELECT ${COLUMNS} FROM chain_gaps WHERE device_id = ? AND closed_at IS NULL AND from_seq <= ? AND to_seq >= ?`,
    [deviceId, seq, seq],
  );
  return row && toGap(row);
}

export async function closeGap(db: Queryable, id: number, now: number): Promise<void> {
  await db.run('UPDATE chain_gaps SET closed_at = ? WHERE id = ?', [now, id]);
}

export async function listGaps(db: Queryable, deviceId: string): Promise<ChainGapRow[]> {
  return (await db.all(`SELECT ${COLUMNS} FROM chain_gaps WHERE device_id = ? ORDER BY from_seq, id`, [deviceId])).map(toGap);
}
