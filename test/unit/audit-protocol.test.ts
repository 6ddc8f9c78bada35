import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import test from 'node:test';
import type { AuditEntry } from '../../common/audit';
import { GENESIS_HASH } from '../../common/report';
import { hashAuditEntry, signAuditFeed, signDeviceAuditRequest, spkiOf, verifyAuditFeed, verifyDeviceAuditRequest } from '../../protocol/report-crypto';

function entry(seq: number, prevHash: string): AuditEntry {
  const fields = { seq, at: 1_700_000_000_000 + seq, actor: 'analyst', action: 'acknowledge' as const, deviceId: 'd1', findingId: 7, detail: 'seen', prevHash };
  return { ...fields, hash: hashAuditEntry(fields) };
}

test('an audit feed verifies under the collector key, and not when pinned to another key or altered', () => {
  const collector = crypto.generateKeyPairSync('ed25519');
  const other = crypto.generateKeyPairSync('ed25519');
  const first = entry(1, GENESIS_HASH);
  const feed = signAuditFeed({ deviceId: 'd1', servedAt: 1, entries: [first, entry(2, first.hash)], more: false }, collector.privateKey);
  assert.equal(verifyAuditFeed(feed, null), true);
  assert.equal(verifyAuditFeed(feed, spkiOf(collector.publicKey)), true);
  assert.equal(verifyAuditFeed(feed, spkiOf(other.publicKey)), false);
  const altered = structuredClone(feed);
  altered.body.entries[0]!.detail = 'never happened';
  assert.equal(verifyAuditFeed(altered, null), false);
  const rehashed = structuredClone(altered);
  const { hash: _old, ...fields } = rehashed.body.entries[0]!;
  rehashed.body.entries[0]!.hash = hashAuditEntry(fields);
  assert.equal(verifyAuditFeed(rehashed, null), false, 'a re-hashed entry still breaks the collector signature');
});

test('a device audit request verifies only under the device key and for the fields signed', () => {
  const device = crypto.generateKeyPairSync('ed25519');
  const request = signDeviceAuditRequest({ deviceId: 'd1', after: 0, signedAt: 5 }, device.privateKey);
  assert.equal(verifyDeviceAuditRequest(request, device.publicKey), true);
  assert.equal(verifyDeviceAuditRequest({ ...request, deviceId: 'd2' }, device.publicKey), false);
  assert.equal(verifyDeviceAuditRequest(request, crypto.generateKeyPairSync('ed25519').publicKey), false);
});
