/**
 * Lone UTF-16 surrogates: the agent's report builder replaces them with U+FFFD, so a finding whose
 * text came from a probe with a broken string still makes a report the collector accepts; the
 * common helpers find and replace exactly the unpaired halves.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toReportFinding } from '../../agent/report/report-builder';
import { findBadText, hasLoneSurrogate, toWellFormedDeep, toWellFormedText } from '../../common/text';
import { sampleFinding } from '../helpers/collector/make-reports';
import { startTestCollector } from '../helpers/collector/harness';

test('lone surrogates are found and replaced; whole pairs are left alone', () => {
  assert.equal(hasLoneSurrogate('ok 👀'), false);
  for (const text of ['\ud800', 'a\udc00', '\ud83d', 'x\udfffy', '👀\ud83d']) assert.equal(hasLoneSurrogate(text), true, JSON.stringify(text));
  assert.equal(toWellFormedText('a\ud800b👀\udc00'), 'a\ufffdb👀\ufffd');
  assert.deepEqual(toWellFormedDeep({ 'k\ud800': ['v\udc00', 1, null] }), { 'k\ufffd': ['v\ufffd', 1, null] });
  assert.equal(findBadText({ a: [{ b: 'fine' }, { c: 'x\ud800' }] }, 'body', hasLoneSurrogate), 'body/a/1/c');
  assert.equal(findBadText({ a: '👀' }, 'body', hasLoneSurrogate), null);
});

test("the report builder's findings carry no lone surrogate, and the collector stores the report", async (t) => {
  const broken = { id: 1, ...sampleFinding({ key: 'k\ud800', title: 'remote\udc00 session', explanation: 'e\ud83d', evidence: { tool: ['x\ud800'], 'n\udc00': 1 } }) };
  const finding = toReportFinding(broken);
  assert.equal(findBadText(finding, 'finding', hasLoneSurrogate), null, JSON.stringify(finding));
  assert.equal(finding.title, 'remote\ufffd session');
  assert.deepEqual(finding.evidence, { tool: ['x\ufffd'], 'n\ufffd': 1 });

  const collector = await startTestCollector(t);
  const device = await collector.enroll();
  const response = await collector.postReport(device.nextReport({ findings: [finding] }));
  assert.equal(response.statusCode, 200, response.body);
});
