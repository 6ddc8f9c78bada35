/**
 * Enrollment: trading the enrollment secret and the device's public key for a device id.
 *
 * The collector's enrollment is idempotent per public key, so enrolling again with the same key
 * (after a crash between the answer and our write) yields the same device id. The record is kept in
 * kv (`enrollment`, plus the bare id under `deviceId` for readers that only need that).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { enrollProofMessage, type EnrollRequest } from '../../common/report';
import type { Db } from '../store/database';
import { getValue, setValue } from '../store/kv';
import type { UploadOutcome, Uploader } from '../sync/uploader';
import type { DeviceIdentity } from './device-identity';

/** What enrollment stored. */
export interface EnrollmentRecord {
  readonly deviceId: string;
  /** The public key (SPKI DER base64) that was enrolled. */
  readonly publicKey: string;
  /** The collector it was enrolled with. */
  readonly collectorUrl: string;
  /** Agent clock at enrollment (epoch ms). */
  readonly enrolledAt: number;
}

export const ENROLLMENT_KEY = 'enrollment';
export const DEVICE_ID_KEY = 'deviceId';

export function getEnrollment(db: Db): EnrollmentRecord | undefined {
  return getValue<EnrollmentRecord>(db, ENROLLMENT_KEY);
}

/** The enrolled device id, or undefined before enrollment. */
export function getDeviceId(db: Db): string | undefined {
  return getEnrollment(db)?.deviceId;
}

export interface EnrollOptions {
  readonly db: Db;
  readonly uploader: Uploader;
  readonly identity: DeviceIdentity;
  readonly enrollmentSecret: string | null;
  readonly collectorUrl: string;
  readonly agentVersion: string;
  readonly now: number;
  /** Defaults to os.hostname() / process.platform. */
  readonly hostname?: string;
  readonly platform?: string;
}

/**
 * Return the stored enrollment, or enroll now. A stored enrollment for a different key is refused
 * (the chain belongs to that key's device): the outcome is 'rejected' with code IDENTITY_CHANGED.
 */
export async function ensureEnrolled(options: EnrollOptions): Promise<UploadOutcome<EnrollmentRecord>> {
  const existing = getEnrollment(options.db);
  if (existing !== undefined) {
    if (existing.publicKey === options.identity.publicKeySpki) return { kind: 'ok', value: existing };
    return {
      kind: 'rejected',
      status: 0,
      code: 'IDENTITY_CHANGED',
      message: `This database was enrolled as ${existing.deviceId} with another device key; the key file was replaced. Restore the key or reset the data folder.`,
    };
  }
  if (options.enrollmentSecret === null) {
    return { kind: 'rejected', status: 0, code: 'NO_ENROLLMENT_SECRET', message: 'The policy has no enrollmentSecret, so this device cannot enroll.' };
  }
  const described = {
    publicKey: options.identity.publicKeySpki,
    hostname: (options.hostname ?? os.hostname()).slice(0, 255),
    platform: (options.platform ?? process.platform).slice(0, 32),
    agentVersion: options.agentVersion.slice(0, 64),
    signedAt: options.now,
  };
  // The signature proves to the collector that this device holds the key it enrols.
  const proof = crypto.sign(null, Buffer.from(enrollProofMessage(described), 'utf8'), options.identity.privateKey).toString('base64url');
  const request: EnrollRequest = { enrollmentSecret: options.enrollmentSecret, ...described, proof };
  const outcome = await options.uploader.enroll(request);
  if (outcome.kind !== 'ok') return outcome;
  const record: EnrollmentRecord = {
    deviceId: outcome.value.deviceId,
    publicKey: options.identity.publicKeySpki,
    collectorUrl: options.collectorUrl,
    enrolledAt: options.now,
  };
  options.db.transaction(() => {
    setValue(options.db, ENROLLMENT_KEY, record);
    setValue(options.db, DEVICE_ID_KEY, record.deviceId);
  })();
  return { kind: 'ok', value: record };
}
