/** Enrollment: one device per public key, so an agent that enrolls again gets its old id back. */
import crypto from 'node:crypto';
import { findDeviceByPublicKey, insertDevice, updateDeviceDescription } from '../storage/devices';
import type { SqlDatabase } from '../storage/sql';

export interface EnrollInput {
  readonly publicKey: string;
  readonly hostname: string;
  readonly platform: string;
  readonly agentVersion: string;
}

/** Enroll a key, or refresh and return the device already enrolled with it. */
export async function enrollDevice(database: SqlDatabase, input: EnrollInput, now: number): Promise<{ deviceId: string; created: boolean }> {
  return database.transaction(async (tx) => {
    const existing = await findDeviceByPublicKey(tx, input.publicKey);
    if (existing) {
      await updateDeviceDescription(tx, existing.id, { ...input, now });
      return { deviceId: existing.id, created: false };
    }
    const deviceId = crypto.randomUUID();
    await insertDevice(tx, { id: deviceId, ...input, now });
    return { deviceId, created: true };
  });
}
