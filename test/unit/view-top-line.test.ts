/**
 * The employee's top line and audit view over a real SQLite store: flagged or not in plain words,
 * the most specific finding named (not the overall verdict), what to do from the finding and the
 * policy, what IT did from the verified audit entries, no promise of a report that is never sent;
 * the export carries everything stored; the pointer baseline says whether it is the shipped prior.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditAction, AuditEntry } from '../../common/audit';
import { isValidResponse } from '../../common/ipc-contract';
import { AGENT_FINDING_KINDS, COLLECTOR_FINDING_KINDS } from '../../common/findings';
import { AUDIT_ACTIONS } from '../../common/audit';
import { auditActionWords, findingAdvice, findingWhy } from '../../common/plain-words';
import { GENESIS_HASH } from '../../common/report';
import { DEVICE_ID_KEY, ENROLLMENT_KEY } from '../../agent/identity/enrollment';
import { insertAuditEntries } from '../../agent/store/audit-entries';
import { saveBaseline } from '../../agent/store/baseline';
import { reconcileFindings } from '../../agent/store/findings';
import { setValue } from '../../agent/store/kv';
import { initialBaseline } from '../../agent/timing-detector/baseline-model';
import { POPULATION_PRIOR } from '../../agent/timing-detector/prior';
import { ViewModel } from '../../agent/view/view-model';
import { hashAuditEntry } from '../../protocol/report-crypto';
import { testContext } from '../helpers/agent-context';

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

const anydesk = {
  key: 'tool:anydesk:running',
  kind: 'remote-tool-running' as const,
  severity: 'high' as const,
  title: 'AnyDesk is running',
  explanation: 'AnyDesk, a remote-control tool, is running.',
  evidence: { catalogId: 'anydesk', tool: 'AnyDesk' },
};
const verdict = {
  key: 'verdict:device',
  kind: 'device-verdict' as const,
  severity: 'high' as const,
  title: 'Overall risk of remote control: high',
  explanation: 'Several signals together.',
  evidence: {},
};

function auditChain(specs: readonly { action: AuditAction; at: number; detail?: string }[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (const [index, spec] of specs.entries()) {
    const fields = { seq: index + 1, at: spec.at, actor: 'alice@it.example.com', action: spec.action, deviceId: 'dev-1', findingId: null, detail: spec.detail ?? '', prevHash: entries.at(-1)?.hash ?? GENESIS_HASH };
    entries.push({ ...fields, hash: hashAuditEntry(fields) });
  }
  return entries;
}

function enroll(ctx: ReturnType<typeof testContext>): void {
  setValue(ctx.db, ENROLLMENT_KEY, { deviceId: 'dev-1', publicKey: 'k', collectorUrl: 'https://it.example.com', enrolledAt: 1 });
  setValue(ctx.db, DEVICE_ID_KEY, 'dev-1');
}

describe('top line and audit view', () => {
  it('names the specific finding (not the overall verdict), why, what to do with the policy\'s advice and contact, and what IT did', (t) => {
    const ctx = testContext(t, {
      policy: { collectorUrl: 'https://it.example.com', support: { contact: 'helpdesk@example.com, ext. 4242', advice: 'Call IT before you close anything you use for work.' } },
    });
    enroll(ctx);
    reconcileFindings(ctx.db, 'tool', [anydesk], ctx.clock.now());
    reconcileFindings(ctx.db, 'verdict', [verdict], ctx.clock.now() + 1);
    const now = ctx.clock.now();
    insertAuditEntries(
      ctx.db,
      auditChain([
        // An old response, to an earlier episode: not an answer to today's finding.
        { action: 'resolve', at: now - 86_400_000, detail: 'last month' },
        { action: 'view-device', at: now + 1000 },
        { action: 'acknowledge', at: now + 2000, detail: 'Checking with you' },
        { action: 'view-reports', at: now + 3000 },
      ]),
      now + 5000,
    );
    const model = new ViewModel(ctx, { mode: 'headless' });
    t.after(() => model.dispose());
    const overview = unwrap(model.getOverview());
    assert.ok(isValidResponse('getOverview', overview));
    const top = overview.topLine;
    assert.equal(top.flagged, true);
    assert.equal(top.headline, 'AnyDesk is running');
    assert.equal(top.why, findingWhy('remote-tool-running'));
    assert.equal(top.alsoOpen, 1);
    assert.equal(top.whatToDo, 'If you are not in a support session with IT, close AnyDesk. Call IT before you close anything you use for work.');
    assert.equal(top.contact, 'helpdesk@example.com, ext. 4242');
    assert.deepEqual(top.itResponse && { action: top.itResponse.action, at: top.itResponse.at, detail: top.itResponse.detail }, { action: 'acknowledge', at: now + 2000, detail: 'Checking with you' });
    assert.equal(top.lastItRead, now + 3000);
    assert.equal(top.reporting, 'enrolled');
    assert.match(overview.status.summary, /^AnyDesk is running \(and 1 more\)\. IT sees this/);

    const audit = unwrap(model.getAudit({}));
    assert.ok(isValidResponse('getAudit', audit));
    assert.deepEqual(audit.entries.map((entry) => entry.seq), [4, 3, 2, 1], 'newest first');
    assert.equal(audit.total, 4);
    assert.equal(unwrap(model.getPolicy()).support.contact, 'helpdesk@example.com, ext. 4242');
  });

  it('never says IT will see it when the laptop is not enrolled or has no collector', (t) => {
    for (const [collectorUrl, reporting, words] of [
      ['https://it.example.com', 'not-enrolled', /not connected to IT yet/],
      [null, 'no-collector', /stays on this laptop/],
    ] as const) {
      const ctx = testContext(t, { policy: { collectorUrl } });
      reconcileFindings(ctx.db, 'tool', [anydesk], ctx.clock.now());
      const model = new ViewModel(ctx, { mode: 'headless' });
      const overview = unwrap(model.getOverview());
      model.dispose();
      assert.equal(overview.topLine.reporting, reporting);
      assert.match(overview.status.summary, words);
      assert.doesNotMatch(overview.status.summary, /IT (will )?sees?/);
    }
  });

  it('is not flagged by minor findings, and says so without a reason or advice', (t) => {
    const ctx = testContext(t);
    reconcileFindings(ctx.db, 'tool', [{ ...anydesk, key: 'tool:anydesk:installed', kind: 'remote-tool-installed', severity: 'low', title: 'AnyDesk is installed' }], ctx.clock.now());
    const model = new ViewModel(ctx, { mode: 'headless' });
    t.after(() => model.dispose());
    const top = unwrap(model.getOverview()).topLine;
    assert.deepEqual([top.flagged, top.why, top.whatToDo, top.itResponse], [false, null, null, null]);
  });

  it('does not present an IT response older than the flagged finding as an answer to it', (t) => {
    const ctx = testContext(t, { policy: { collectorUrl: 'https://it.example.com' } });
    enroll(ctx);
    insertAuditEntries(ctx.db, auditChain([{ action: 'resolve', at: ctx.clock.now() - 3_600_000, detail: 'earlier episode' }]), ctx.clock.now());
    reconcileFindings(ctx.db, 'tool', [anydesk], ctx.clock.now());
    const model = new ViewModel(ctx, { mode: 'headless' });
    t.after(() => model.dispose());
    assert.equal(unwrap(model.getOverview()).topLine.itResponse, null);
  });

  it('exports everything stored: audit entries, the baseline (prior or learned per measure) and the agent state', (t) => {
    const ctx = testContext(t, { policy: { collectorUrl: 'https://it.example.com' } });
    enroll(ctx);
    insertAuditEntries(ctx.db, auditChain([{ action: 'view-device', at: 1000 }, { action: 'tag', at: 2000, detail: 'berlin' }]), 3000);
    // Typing learned from 40 windows, the pointer never: its numbers are still the shipped prior.
    saveBaseline(ctx.db, { ...initialBaseline(POPULATION_PRIOR), windows: { keys: 40, mouse: 0 } });
    const model = new ViewModel(ctx, { mode: 'headless' });
    t.after(() => model.dispose());
    const exported = unwrap(model.exportData());
    assert.ok(isValidResponse('exportData', exported));
    assert.deepEqual(exported.auditEntries.map((entry) => entry.action), ['view-device', 'tag']);
    assert.equal(exported.baseline.source, 'device-baseline');
    assert.equal(exported.baseline.moveRateOrigin, 'prior');
    const moveRate = exported.baseline.learned.find((feature) => feature.id === 'moveRate')!;
    const dwellSpread = exported.baseline.learned.find((feature) => feature.id === 'dwellSpread')!;
    assert.deepEqual([moveRate.origin, moveRate.windows, dwellSpread.origin, dwellSpread.windows], ['prior', 0, 'learned', 40]);
    assert.deepEqual(Object.keys(exported.agentState).sort(), ['deviceId', 'enrollment', 'timing-baseline']);
    assert.deepEqual(unwrap(model.getTiming({})).baseline, exported.baseline);
  });

  it('has plain words for every finding kind and every audit action', () => {
    for (const kind of [...AGENT_FINDING_KINDS, ...COLLECTOR_FINDING_KINDS]) {
      assert.match(findingWhy(kind), /^[A-Z].*\.$/, kind);
      const advice = findingAdvice(kind, 'AnyDesk');
      assert.ok(advice === null || /^[A-Z].*\.$/.test(advice), kind);
    }
    for (const action of AUDIT_ACTIONS) assert.ok(auditActionWords(action).length > 5, action);
  });
});
