/** The `counters` table: named monotonic counters, e.g. the global findings cursor. */
import { integer, type Queryable } from './sql';

/**
 * Reserve `count` consecutive values of counter `name`; returns the first.
 * Inside a write transaction the row lock orders reservations by commit (see migration 001).
 */
export async function reserve(db: Queryable, name: string, count: number): Promise<number> {
  const row = await db.get('UPDATE counters SET value = value + ? WHERE name = ? RETURNING value', [count, name]);
  if (!row) throw new Error(`Counter ${name} does not exist`);
  return integer(row, 'value') - count + 1;
}
