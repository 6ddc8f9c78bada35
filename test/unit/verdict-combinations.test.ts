import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock, testContext } from '../helpers/agent-context';
import type { FindingKind, FindingObservation } from '../../common/findings';
import { listOpenFindings, reconcileFindings } from '../../agent/store/findings';
import { deviceVerdict } from '../../agent/verdict/verdict';
import { VERDICT_KEY, VerdictService } from '../../agent/verdict/verdict-service';

function finding(kind: FindingKind, key: string, evidence: Record<string, string | number | null> = {}, title = `${kind} title`): FindingObservation {
  return { key, kind, severity: 'medium', title, explanation: `${kind} explanation`, evidence };
}

const timing = finding('relayed-input-timing', 'timing:relayed-input:keys', {}, 'Typing looks relayed from another computer');
const anydeskSession = finding('remote-session-active', 'tool:anydesk:session:1', { tool: 'AnyDesk', peerAddress: '203.0.113.9', rttMs: 180 });
const nearSession = finding('remote-session-active', 'tool:anydesk:session:2', { tool: 'AnyDesk', peerAddress: '10.0.0.9', rttMs: 2 });
const running = finding('remote-tool-running', 'tool:anydesk:running');
const installed = finding('remote-tool-installed', 'tool:teamviewer:installed');
const kvm = finding('kvm-usb-gadget', 'usb:kvm');
const virtualDisplay = finding('virtual-display', 'display:virtual');
const approved = finding('approved-tool', 'tool:zoom:approved');

describe('device verdict', () => {
  it('is none with no findings or only approved tools', () => {
    assert.equal(deviceVerdict([]).level, 'none');
    const onlyApproved = deviceVerdict([approved]);
    assert.equal(onlyApproved.level, 'none');
    assert.match(onlyApproved.reason, /approves/);
  });

  it('is high for an AnyDesk session from a distant peer while relayed-looking typing occurs, with the chain', () => {
    const verdict = deviceVerdict([anydeskSession, timing, running]);
    assert.equal(verdict.level, 'high');
    assert.deepEqual(verdict.basis, ['timing:relayed-input:keys', 'tool:anydesk:session:1', 'tool:anydesk:running']);
    assert.match(verdict.chain[1]!, /AnyDesk session from 203\.0\.113\.9, a peer 180 ms away/);
    assert.match(verdict.chain[0]!, /^Typing looks relayed/);
  });

  it('is high for injected typing with a live session at zero jitter (no timing finding at all)', () => {
    const injected = finding('injected-input', 'injected:input:keys', { injected: 40, device: 0 }, 'Keyboard input on this computer is being typed by a program, not a keyboard');
    const verdict = deviceVerdict([nearSession, injected]);
    assert.equal(verdict.level, 'high');
    assert.deepEqual(verdict.basis, ['injected:input:keys', 'tool:anydesk:session:2']);
    assert.match(verdict.reason, /^input produced by a program while a remote-control channel is present \(session\)/);
    assert.match(verdict.chain[0]!, /^Keyboard input on this computer is being typed by a program/);
    // Alone it is medium, and it names itself rather than relayed timing.
    const alone = deviceVerdict([injected]);
    assert.equal(alone.level, 'medium');
    assert.match(alone.reason, /injected by a program/);
    // With relayed timing too, both behaviours are in the basis.
    assert.deepEqual(deviceVerdict([timing, injected, running]).basis, ['timing:relayed-input:keys', 'injected:input:keys', 'tool:anydesk:running']);
  });

  it('is high for relayed timing with an IP-KVM (no software channel at all)', () => {
    assert.equal(deviceVerdict([timing, kvm]).level, 'high');
  });

  it('is high for a distant session on a device with display anomalies, but medium for a nearby one', () => {
    assert.equal(deviceVerdict([anydeskSession, virtualDisplay]).level, 'high');
    assert.equal(deviceVerdict([nearSession, virtualDisplay]).level, 'medium');
  });

  it('is medium for any one strong signal alone', () => {
    assert.equal(deviceVerdict([timing]).level, 'medium');
    assert.equal(deviceVerdict([nearSession]).level, 'medium');
    assert.equal(deviceVerdict([kvm]).level, 'medium');
    assert.equal(deviceVerdict([running, virtualDisplay]).level, 'medium');
  });

  it('is low for software or display anomalies with no sign of use', () => {
    assert.equal(deviceVerdict([running]).level, 'low');
    assert.equal(deviceVerdict([installed]).level, 'low');
    assert.equal(deviceVerdict([virtualDisplay]).level, 'low');
  });

  it('ignores its own device-verdict findings', () => {
    assert.equal(deviceVerdict([finding('device-verdict', 'verdict:device')]).level, 'none');
  });

  it('keeps one verdict finding in step with the findings store', (t) => {
    const ctx = testContext(t, { clock: manualClock(1000) });
    const { db, events } = ctx;
    const service = new VerdictService(ctx);
    service.start();
    t.after(() => service.stop());
    assert.equal(listOpenFindings(db).length, 0);
    reconcileFindings(db, 'tool', [anydeskSession], 1000, events);
    assert.equal(listOpenFindings(db).find((f) => f.key === VERDICT_KEY)?.severity, 'medium');
    reconcileFindings(db, 'timing', [timing], 1000, events);
    const verdict = listOpenFindings(db).find((f) => f.key === VERDICT_KEY)!;
    assert.equal(verdict.severity, 'high');
    assert.equal(verdict.kind, 'device-verdict');
    reconcileFindings(db, 'tool', [], 2000, events);
    reconcileFindings(db, 'timing', [], 2000, events);
    assert.equal(listOpenFindings(db).find((f) => f.key === VERDICT_KEY), undefined);
  });
});
