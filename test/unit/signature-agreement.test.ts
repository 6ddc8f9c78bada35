/**
 * Agent and collector agree on every signature: the same corpus of valid and mutated signatures
 * goes through the transparency view's local check (agent/report/verify-local.ts) and through the
 * collector's POST /v1/reports, and a report the view calls "signature valid" is exactly one the
 * collector stores.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalize } from '../../protocol/canonical-json';
import { decodeSignature, sealReport } from '../../protocol/report-crypto';
import type { SignedReport } from '../../common/report';
import { verifyOutboxEntries } from '../../agent/report/verify-local';
import type { OutboxEntry } from '../../agent/store/outbox';
import { startTestCollector } from '../helpers/collector/harness';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same 64 bytes spelled another way: the last character's 4 spare bits set differently. */
function respell(sig: string): string {
  const last = BASE64URL.indexOf(sig.at(-1)!);
  return sig.slice(0, -1) + BASE64URL[(last & 0b110000) | ((last + 1) & 0b001111)]!;
}

function flipBit(sig: string, byte: number): string {
  const raw = Buffer.from(sig, 'base64url');
  raw[byte] = raw[byte]! ^ 0x01;
  return raw.toString('base64url');
}

/** Each case: the signed report as it would be stored and sent, and whether it is valid. */
function corpus(report: SignedReport, otherKey: crypto.KeyObject): { name: string; envelope: string }[] {
  const { body, sig } = report;
  const withSig = (value: unknown) => canonicalize({ body, sig: value });
  return [
    { name: 'valid', envelope: withSig(sig) },
    { name: 'same bytes, non-canonical spelling', envelope: withSig(respell(sig)) },
    { name: 'first byte flipped', envelope: withSig(flipBit(sig, 0)) },
    { name: 'last byte flipped', envelope: withSig(flipBit(sig, 63)) },
    { name: 'another key', envelope: withSig(sealReport(body, otherKey).report.sig) },
    { name: 'body changed after signing', envelope: canonicalize({ body: { ...body, createdAt: body.createdAt + 1 }, sig }) },
    { name: 'padded', envelope: withSig(`${sig}==`) },
    { name: 'standard base64 alphabet', envelope: withSig(Buffer.from(sig, 'base64url').toString('base64').replace(/=+$/, '')) },
    { name: 'truncated', envelope: withSig(sig.slice(0, 85)) },
    { name: 'one character too many', envelope: withSig(`${sig}A`) },
    { name: 'space inside', envelope: withSig(`${sig.slice(0, 40)} ${sig.slice(41)}`) },
    { name: 'empty', envelope: withSig('') },
    { name: 'not a string', envelope: withSig(12345) },
    { name: 'all zero bytes', envelope: withSig(Buffer.alloc(64).toString('base64url')) },
  ];
}

function outboxEntry(envelope: string, hash: string): OutboxEntry {
  return {
    seq: 1,
    kind: 'report',
    hasFindings: false,
    createdAt: 0,
    body: envelope,
    hash,
    state: 'pending',
    attempts: 0,
    lastError: null,
    nextAttemptAt: null,
    sentAt: null,
    ackedAt: null,
    settledAt: null,
  };
}

describe('signature agreement between agent and collector', () => {
  it('the encoder only makes the one accepted spelling', () => {
    for (let index = 0; index < 200; index++) {
      const raw = crypto.randomBytes(64);
      const spelled = raw.toString('base64url');
      assert.deepEqual(decodeSignature(spelled), raw);
      assert.equal(decodeSignature(respell(spelled)), null);
    }
  });

  it('every case gets the same answer from the local view and from the collector', async (t) => {
    const collector = await startTestCollector(t);
    const other = crypto.generateKeyPairSync('ed25519').privateKey;
    const outcomes: string[] = [];
    const cases = corpus((await collector.enroll()).nextReport(), other).length;
    for (let index = 0; index < cases; index++) {
      // A fresh device per case, so every case is the first report of its chain.
      const device = await collector.enroll();
      const variants = corpus(device.nextReport(), other);
      const { name, envelope } = variants[index]!;
      // A signature without '-' or '_' reads the same in both base64 alphabets: that variant is then the valid one again.
      if (index > 0 && envelope === variants[0]!.envelope) continue;
      const body = (JSON.parse(envelope) as SignedReport).body;
      const [check] = verifyOutboxEntries([outboxEntry(envelope, sealReport(body, device.privateKey).hash)], device.publicKey, undefined, undefined);
      const response = await collector.postReport(envelope);
      const agentSays = check!.signatureValid === true;
      const collectorStored = response.statusCode === 200;
      outcomes.push(`${name}: view ${agentSays ? 'valid' : 'invalid'}, collector ${response.statusCode}`);
      assert.equal(agentSays, collectorStored, `${name}: the view says ${check!.signatureValid}, the collector answered ${response.statusCode} ${response.body}`);
      if (!collectorStored) assert.ok(response.statusCode === 400 || response.statusCode === 401, `${name}: ${response.statusCode}`);
    }
    assert.equal(outcomes.filter((line) => line.includes('view valid')).length, 1, outcomes.join('\n'));
    assert.equal(await collector.count('reports'), 1);
  });
});
