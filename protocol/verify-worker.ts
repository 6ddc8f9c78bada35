/**
 * The verifier pool's worker thread (protocol/verify-pool.ts spawns it).
 *
 * It receives batches of jobs in one message (messages, SPKI keys, signatures) and answers with one
 * byte per job. Signatures arrive already decoded by `decodeSignature` on the main thread, and each
 * is checked with the same `verifySignatureBytes` the inline path uses. Device keys are parsed once
 * per worker and kept in a small LRU cache keyed by their SPKI spelling.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { publicKeyFromSpki, SIGNATURE_BYTES, verifySignatureBytes } from './report-crypto';

/** One message from the pool: jobs laid end to end in two transferred buffers. */
export interface VerifyBatch {
  readonly ids: readonly number[];
  readonly keys: readonly string[];
  /** End offset of each job's message in `bytes`. */
  readonly ends: readonly number[];
  readonly bytes: Uint8Array;
  /** SIGNATURE_BYTES per job, in job order. */
  readonly signatures: Uint8Array;
}

/** The answer: 1 for a valid signature, 0 otherwise, in job order. */
export interface VerifyReply {
  readonly ids: readonly number[];
  readonly results: Uint8Array;
}

export interface VerifyWorkerData {
  readonly keyCacheSize: number;
}

const capacity = (workerData as VerifyWorkerData).keyCacheSize;
const keys = new Map<string, KeyObject | null>();

/** The key for an SPKI string (null for one that does not parse), most recently used last. */
function keyFor(spki: string): KeyObject | null {
  let key = keys.get(spki);
  if (key !== undefined) {
    keys.delete(spki);
  } else {
    try {
      key = publicKeyFromSpki(spki);
    } catch {
      key = null;
    }
    if (keys.size >= capacity) keys.delete(keys.keys().next().value as string);
  }
  keys.set(spki, key);
  return key;
}

parentPort?.on('message', (batch: VerifyBatch) => {
  const results = new Uint8Array(batch.ids.length);
  let start = 0;
  for (let index = 0; index < batch.ids.length; index++) {
    const end = batch.ends[index] ?? start;
    const key = keyFor(batch.keys[index] ?? '');
    const signature = batch.signatures.subarray(index * SIGNATURE_BYTES, (index + 1) * SIGNATURE_BYTES);
    results[index] = key !== null && verifySignatureBytes(key, batch.bytes.subarray(start, end), signature) ? 1 : 0;
    start = end;
  }
  const reply: VerifyReply = { ids: batch.ids, results };
  parentPort?.postMessage(reply, [results.buffer]);
});
