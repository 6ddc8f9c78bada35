/** Enrollment: one device per public key, so an agent that enrolls again (proving it holds the key) gets its old id back. */
import crypto from 'node:crypto';
import { findDeviceByPublicKey, insertDevice, updateDeviceDescription } from '../storage/devices';
import type { Queryable, SqlDatabase } from '../storage/sql';

export interface EnrollInput {
  readonly publicKey: string;
  readonly hostname: string;
  readonly platform: string;
  readonly agentVersion: string;
}

/**
 * Enroll a key, or refresh the description of the device already enrolled with it and return it.
 * `admitNew` runs before a new device is created and throws to refuse it (enrolment limits).
 * The caller has checked that the sender holds the key (the enrolment proof).
 */
export async function enrollDevice(
  database: SqlDatabase,
  input: EnrollInput,
  now: number,
  admitNew: (tx: Queryable) => Promise<void>,
): Promise<{ deviceId: string; created: boolean }> {
  return database.transaction(async (tx) => {
    const existing = await findDeviceByPublicKey(tx, input.publicKey);
    if (existing) {
      await updateDeviceDescription(tx, existing.id, input);
      return { deviceId: existing.id, created: false };
    }
    await admitNew(tx);
    const deviceId = crypto.randomUUID();
    await insertDevice(tx, { id: deviceId, ...input, now });
    return { deviceId, created: true };
  });
}
