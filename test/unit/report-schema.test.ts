/**
 * The report schema at the collector's edge: collector-only finding kinds and numbers a JavaScript
 * number cannot hold exactly are refused with 400, stored nowhere, and leave a valid report of the
 * same device unaffected.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sealReport } from '../../protocol/report-crypto';
import type { ReportBody } from '../../common/report';
import { startTestCollector } from '../helpers/collector/harness';
import { sampleFinding } from '../helpers/collector/make-reports';

describe('report schema at the collector', () => {
  it('refuses collector-only kinds and out-of-range numbers, signed or not', async (t) => {
    const collector = await startTestCollector(t);
    const device = await collector.enroll();
    const valid = device.nextReport({ findings: [sampleFinding()] });
    const variants: [string, ReportBody][] = [
      ['a device-silent finding', { ...valid.body, findings: [{ ...sampleFinding(), kind: 'device-silent' as never, key: 'silent' }] }],
      ['a chain-gap finding', { ...valid.body, findings: [{ ...sampleFinding(), kind: 'chain-gap' as never }] }],
      ['seq beyond 2^53', { ...valid.body, seq: 2 ** 63 }],
      ['createdAt 1e300', { ...valid.body, createdAt: 1e300 }],
      ['a finding seen at 1e20', { ...valid.body, findings: [{ ...sampleFinding(), lastSeenAt: 1e20 }] }],
      ['a timing window with a key field', { ...valid.body, timing: [{ keyCode: 30 } as never] }],
    ];
    for (const [name, body] of variants) {
      const response = await collector.postReport(sealReport(body, device.privateKey).report);
      assert.equal(response.statusCode, 400, `${name}: ${response.body}`);
      assert.equal(response.json<{ error: { code: string } }>().error.code, 'PAYLOAD_INVALID', name);
    }
    assert.equal(await collector.count('reports'), 0);
    assert.equal((await collector.postReport(valid)).statusCode, 200);
    assert.equal(await collector.count('reports'), 1);
  });
});
