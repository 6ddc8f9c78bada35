import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { policyReferenceRows, withPolicyReference } from '../../tools/policy-reference';

const readmePath = path.resolve(import.meta.dirname, '../../README.md');

describe('policy reference', () => {
  it('lists every leaf field of the schema with its default', () => {
    const rows = policyReferenceRows();
    const scan = rows.find((row) => row.field === 'intervals.scanSeconds');
    assert.deepEqual(scan && { type: scan.type, default: scan.default }, { type: 'integer, ≥ 5, ≤ 3600', default: '30' });
    assert.ok(rows.some((row) => row.field === 'approvedTools'));
  });

  it('is what the README shows (regenerate with `npx tsx tools/policy-reference.ts --write`)', () => {
    const readme = fs.readFileSync(readmePath, 'utf8');
    assert.equal(readme, withPolicyReference(readme));
  });
});
