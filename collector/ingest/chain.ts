/**
 * Where an incoming report fits in its device's hash chain: the pure decision, no storage.
 *
 * Rules (head = highest stored seq):
 * - the same seq already stored with the same hash: a duplicate delivery, acknowledged, stored once;
 * - seq = head + 1 and prevHash = head's hash: appended;
 * - seq > head + 1: stored, and the missing range [head + 1, seq - 1] is flagged as a chain gap;
 * - seq already stored with a different hash, or seq = head + 1 with a wrong prevHash: a fork
 *   (forgery, a cloned key, or a rewritten history), refused;
 * - seq < head, not stored, inside an open gap: a late report filling the gap. Accepted only if it
 *   links to whichever neighbours are stored (prevHash = hash of seq - 1, and seq + 1's prevHash =
 *   its hash); otherwise a fork. Below head and outside any gap is a fork too.
 */
import { GENESIS_HASH } from '../../common/report';

/** What the chain already holds around an incoming report. */
export interface ChainState {
  /** Highest stored seq (0 when none) and its hash (null when none). */
  readonly headSeq: number;
  readonly headHash: string | null;
  /** Hash of the report already stored at this seq, if any. */
  readonly storedHashAtSeq: string | null;
  /** Hash of the stored report at seq - 1, if any (only needed for gap fills). */
  readonly previousHash: string | null;
  /** prevHash of the stored report at seq + 1, if any (only needed for gap fills). */
  readonly nextPrevHash: string | null;
  /** The open gap containing seq, if any. */
  readonly openGap: { readonly fromSeq: number; readonly toSeq: number } | null;
}

export type ChainDecision =
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'append' }
  | { readonly kind: 'gap'; readonly fromSeq: number; readonly toSeq: number }
  | { readonly kind: 'fill'; readonly gap: { readonly fromSeq: number; readonly toSeq: number } }
  | { readonly kind: 'fork'; readonly reason: string };

/** Decide what to do with a report `{ seq, prevHash, hash }` given `state`. */
export function decideChain(report: { seq: number; prevHash: string; hash: string }, state: ChainState): ChainDecision {
  const { seq, prevHash, hash } = report;
  if (state.storedHashAtSeq !== null) {
    return state.storedHashAtSeq === hash
      ? { kind: 'duplicate' }
      : { kind: 'fork', reason: `seq ${seq} is already stored with different content` };
  }
  if (seq === state.headSeq + 1) {
    const expected = state.headSeq === 0 ? GENESIS_HASH : state.headHash;
    return prevHash === expected
      ? { kind: 'append' }
      : { kind: 'fork', reason: `seq ${seq} does not link to seq ${state.headSeq} (prevHash mismatch)` };
  }
  if (seq > state.headSeq + 1) return { kind: 'gap', fromSeq: state.headSeq + 1, toSeq: seq - 1 };
  // Below the head and not stored: only a late report inside a known gap may land here.
  if (state.openGap === null) return { kind: 'fork', reason: `seq ${seq} is behind the chain head ${state.headSeq} and not in a known gap` };
  const expectedPrevious = seq === 1 ? GENESIS_HASH : state.previousHash;
  if (expectedPrevious !== null && prevHash !== expectedPrevious) {
    return { kind: 'fork', reason: `seq ${seq} does not link to the stored seq ${seq - 1}` };
  }
  if (state.nextPrevHash !== null && state.nextPrevHash !== hash) {
    return { kind: 'fork', reason: `the stored seq ${seq + 1} does not link back to this seq ${seq}` };
  }
  return { kind: 'fill', gap: state.openGap };
}
