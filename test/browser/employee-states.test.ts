/**
 * The employee's transparency view in each state a person meets, in real Chromium against the real
 * headless view server over a real SQLite store: normal, flagged high (with the policy's support
 * contact), not enrolled, capture unavailable, and with what IT looked at and did (audit entries
 * fetched over real HTTP from a feed signed with protocol/ and verified by the agent's fetch
 * service). Each state is screenshotted to test-output/screenshots/employee-*.png.
 *
 * Also asserted: the top line's words, an open panel staying open across a live update, no
 * horizontal overflow at 360 px, dark mode colours, and live arrival of a new audit entry.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { CaptureStatus } from '../../common/ipc-contract';
import type { FindingObservation } from '../../common/findings';
import type { ResolvedPolicy } from '../../common/policy';
import { AuditFetchService } from '../../agent/audit/audit-fetch-service';
import { HeadlessViewService } from '../../agent/headless/headless-view-service';
import { loadOrCreateIdentity } from '../../agent/identity/device-identity';
import { DEVICE_ID_KEY, ENROLLMENT_KEY } from '../../agent/identity/enrollment';
import { ReportBuilder } from '../../agent/report/report-builder';
import { saveBaseline } from '../../agent/store/baseline';
import { reconcileFindings } from '../../agent/store/findings';
import { setValue } from '../../agent/store/kv';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { initialBaseline } from '../../agent/timing-detector/baseline-model';
import { POPULATION_PRIOR } from '../../agent/timing-detector/prior';
import { ReportSigner } from '../../protocol/report-crypto';
import { manualClock, testContext } from '../helpers/agent-context';
import { startAuditFeedServer } from '../helpers/audit-feed-server';
import { sampleWindow } from '../helpers/sample-window';
import { requireTools } from '../helpers/tools';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const DEVICE = 'dev-employee-view';

type Context = ReturnType<typeof testContext>;
type TestHandle = { after(fn: () => void | Promise<void>): void };

const anydeskRunning: FindingObservation = {
  key: 'tool:anydesk:running',
  kind: 'remote-tool-running',
  severity: 'high',
  title: 'AnyDesk is running',
  explanation: 'AnyDesk, a remote-control tool, is running. It can let someone else see or control this computer.',
  evidence: { catalogId: 'anydesk', tool: 'AnyDesk', category: 'remote-control' },
};
const listener = (address: string): FindingObservation => ({
  key: `tool:anydesk:listening:${address}:7070`,
  kind: 'remote-tool-listening',
  severity: 'medium',
  title: 'AnyDesk is accepting connections on port 7070',
  explanation: 'AnyDesk is waiting for connections on port 7070; another computer can connect to control this one.',
  evidence: { catalogId: 'anydesk', tool: 'AnyDesk', pid: 4242, address, port: 7070, loopbackOnly: false },
});
const localSession: FindingObservation = {
  key: 'tool:anydesk:session:127.0.0.1:7070:127.0.0.1:50000',
  kind: 'remote-session-active',
  severity: 'high',
  title: 'AnyDesk has an active connection (inbound)',
  explanation: 'Another computer (127.0.0.1) is connected to AnyDesk on this computer and may be viewing or controlling it.',
  evidence: { catalogId: 'anydesk', tool: 'AnyDesk', pid: 4242, direction: 'inbound', localAddress: '127.0.0.1', localPort: 7070, peerAddress: '127.0.0.1', peerPort: 50000, rttMs: 0.04 },
};
const verdict: FindingObservation = {
  key: 'verdict:device',
  kind: 'device-verdict',
  severity: 'high',
  title: 'Overall risk of remote control: high',
  explanation: 'Several signals together suggest remote control.',
  evidence: { level: 'high' },
};

function context(t: TestHandle, policy: Partial<ResolvedPolicy> = {}): Context {
  return testContext(t, { policy, clock: manualClock(Date.now()) });
}

function enroll(ctx: Context, publicKey = 'unused'): void {
  setValue(ctx.db, ENROLLMENT_KEY, { deviceId: DEVICE, publicKey, collectorUrl: ctx.policy.collectorUrl, enrolledAt: ctx.clock.now() });
  setValue(ctx.db, DEVICE_ID_KEY, DEVICE);
}

function withTiming(ctx: Context): void {
  const now = ctx.clock.now();
  insertTimingWindows(ctx.db, Array.from({ length: 8 }, (_, index) => sampleWindow(now - (8 - index) * 30_000, 20 + index)));
  // Typing learned from 8 windows, the pointer never: its usual value is still the shipped prior.
  saveBaseline(ctx.db, { ...initialBaseline(POPULATION_PRIOR), windows: { keys: 8, mouse: 0 } });
}

let browser: Browser;

async function openView(t: TestHandle, ctx: Context, options: { capture?: CaptureStatus; publicKey?: crypto.KeyObject; width?: number } = {}): Promise<Page> {
  let url = '';
  const view = new HeadlessViewService(ctx, {
    announce: (line) => (url = line.replace(/^Transparency view: /, '')),
    ...(options.capture ? { capture: () => options.capture! } : {}),
    ...(options.publicKey ? { publicKey: () => options.publicKey! } : {}),
  });
  await view.start();
  t.after(() => view.stop());
  const page = await browser.newPage({ viewport: { width: options.width ?? 1100, height: 900 } });
  t.after(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  t.after(() => assert.deepEqual(errors, [], 'no script errors or CSP violations'));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  await page.waitForSelector('#live[data-state="live"]', { timeout: 15_000 });
  return page;
}

async function shoot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `employee-${name}.png`), fullPage: true });
}

async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('employee transparency view, state by state (Chromium)', () => {
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
  });

  it('normal: all normal in plain words, the pointer baseline labelled as the shipped starting value', async (t) => {
    if (!requireTools(t, [CHROMIUM])) return;
    const ctx = context(t, { collectorUrl: 'https://it.example.com' });
    enroll(ctx);
    withTiming(ctx);
    const page = await openView(t, ctx, { capture: { state: 'running', detail: 'Capturing input timing.' } });
    const top = page.locator('#top-line');
    assert.equal(await top.getAttribute('data-flagged'), 'false');
    assert.match(await top.innerText(), /All normal/);
    assert.match(await top.innerText(), /Reports from this laptop go to IT\./);
    assert.match(await page.locator('#collected .note').first().innerText(), /still the typical value Telltale ships with/);
    await page.locator('#learned-baseline summary').click();
    assert.equal(await page.locator('#learned-baseline tr[data-feature="moveRate"]').getAttribute('data-origin'), 'prior');
    assert.match(await page.locator('#learned-baseline tr[data-feature="moveRate"]').innerText(), /shipped starting value/);
    assert.match(await page.locator('#learned-baseline tr[data-feature="dwellSpread"]').innerText(), /learned on this laptop \(8 windows\)/);
    // Times carry their zone (the test process runs in UTC unless TZ says otherwise).
    assert.match(await page.locator('#footer').innerText(), /running since .*(UTC|GMT|[A-Z]{2,5}|[+-]\d)/);
    await shoot(page, 'normal');
  });

  it('flagged high: why, what to do, contact; merged listeners; loopback as "this computer"; panels stay open across updates; 360 px; dark mode', async (t) => {
    if (!requireTools(t, [CHROMIUM])) return;
    const ctx = context(t, {
      collectorUrl: 'https://it.example.com',
      support: { contact: 'IT helpdesk: helpdesk@example.com or ext. 4242', advice: 'If AnyDesk is part of your work, tell IT which customer it is for.' },
    });
    const device = crypto.generateKeyPairSync('ed25519');
    enroll(ctx);
    withTiming(ctx);
    reconcileFindings(ctx.db, 'tool', [anydeskRunning, listener('0.0.0.0'), listener('::'), localSession], ctx.clock.now());
    reconcileFindings(ctx.db, 'verdict', [verdict], ctx.clock.now());
    new ReportBuilder({ db: ctx.db, signer: new ReportSigner(device.privateKey), agentVersion: 'test', maxPending: 100 }).queue(DEVICE, ctx.clock.now(), true);
    const page = await openView(t, ctx, { publicKey: device.publicKey });

    const top = page.locator('#top-line');
    assert.equal(await top.getAttribute('data-flagged'), 'true');
    assert.equal(await top.locator('.headline').innerText(), 'Flagged: AnyDesk has an active connection (inbound)');
    const text = await top.innerText();
    assert.match(text, /someone elsewhere may be seeing or controlling this laptop/);
    // Running, one merged listener card, and the verdict: three more things, as the list shows them.
    assert.match(text, /Telltale noticed 3 more things, listed below/);
    assert.match(text, /What to do: If you are not in a support session with IT, close AnyDesk\. If AnyDesk is part of your work, tell IT which customer it is for\./);
    assert.match(text, /Contact IT: IT helpdesk: helpdesk@example\.com or ext\. 4242/);
    assert.match(text, /What IT did: nothing recorded yet/);
    assert.doesNotMatch(text, /Overall risk/, 'the verdict is not the reason given');

    // IPv4 and IPv6 listeners on one port: one card.
    assert.equal(await page.locator('#findings-body article.finding[data-kind="remote-tool-listening"]').count(), 1);
    assert.equal(await page.locator('#findings-body article.finding[data-kind="remote-tool-listening"]').getAttribute('data-merged'), '2');
    // A loopback peer is this computer, and nothing says "a peer 0 ms away".
    const session = page.locator('#findings-body article.finding[data-kind="remote-session-active"]');
    assert.match(await session.locator('.explanation').innerText(), /A program on this computer \(127\.0\.0\.1\)/);
    await session.locator('details.evidence summary').click();
    assert.match(await session.innerText(), /peerAddress\s*this computer \(127\.0\.0\.1\)/);
    assert.doesNotMatch(await page.locator('main').innerText(), /ms away/);

    // A report reads as a table; the raw JSON is one click away.
    const report = page.locator('#reports article.report').first();
    assert.match(await report.locator('.report-fields').innerText(), /What Telltale noticed[\s\S]*AnyDesk is running \(high\)/);
    await report.locator('details.payload summary').click();

    // A live update re-renders findings and reports; the panels the reader opened stay open.
    reconcileFindings(ctx.db, 'usb', [{ key: 'usb:kvm', kind: 'kvm-usb-gadget', severity: 'medium', title: 'An IP-KVM keyboard is attached', explanation: 'e', evidence: { vendor: 'x' } }], ctx.clock.now(), ctx.events);
    ctx.events.emit('reportQueued', { seq: 1, kind: 'report' });
    await page.locator('#findings-body article.finding[data-kind="kvm-usb-gadget"]').waitFor({ timeout: 10_000 });
    await until('the reports section re-rendered', async () => (await page.locator('#reports article.report').count()) >= 1);
    assert.equal(await session.locator('details.evidence').evaluate((element) => (element as HTMLDetailsElement).open), true, 'evidence panel still open');
    assert.equal(await report.locator('details.payload').evaluate((element) => (element as HTMLDetailsElement).open), true, 'raw report panel still open');
    await shoot(page, 'flagged-high');

    // Dark mode follows the system setting.
    await page.emulateMedia({ colorScheme: 'dark' });
    const colours = await page.evaluate(() => ({ page: getComputedStyle(document.body).backgroundColor, ink: getComputedStyle(document.body).color }));
    assert.deepEqual(colours, { page: 'rgb(17, 21, 27)', ink: 'rgb(229, 233, 240)' });
    await shoot(page, 'flagged-high-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(244, 246, 249)');

    // 360 px wide: nothing overflows sideways, with every panel open.
    await page.setViewportSize({ width: 360, height: 800 });
    await page.evaluate(() => document.querySelectorAll('details').forEach((element) => ((element as HTMLDetailsElement).open = true)));
    assert.equal(await horizontalOverflow(page), 0, 'no horizontal overflow at 360 px');
    await shoot(page, 'flagged-high-360px');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'employee-flagged-high-360px-top.png') });
  });

  it('not enrolled: no promise that IT will see it', async (t) => {
    if (!requireTools(t, [CHROMIUM])) return;
    const ctx = context(t, { collectorUrl: 'https://it.example.com' });
    reconcileFindings(ctx.db, 'tool', [anydeskRunning], ctx.clock.now());
    const page = await openView(t, ctx);
    const text = await page.locator('#top-line').innerText();
    assert.match(text, /Flagged: AnyDesk is running/);
    assert.match(text, /not connected to IT yet: nothing has been reported/);
    assert.doesNotMatch(await page.locator('main').innerText(), /IT will see this|IT sees this/);
    assert.match(await page.locator('#audit-body').innerText(), /not connected to IT yet/);
    assert.match(await page.locator('#footer').innerText(), /not enrolled yet/);
    await shoot(page, 'not-enrolled');
  });

  it('capture unavailable: says so and why', async (t) => {
    if (!requireTools(t, [CHROMIUM])) return;
    const ctx = context(t);
    const page = await openView(t, ctx, { capture: { state: 'unavailable', detail: 'No X display (DISPLAY is not set).' } });
    const latest = page.locator('#collected .latest');
    assert.equal(await latest.getAttribute('data-capture'), 'unavailable');
    assert.match(await latest.innerText(), /input timing capture is unavailable on this computer \(No X display \(DISPLAY is not set\)\)/);
    assert.match(await page.locator('#top-line').innerText(), /No IT server is configured: everything stays on this laptop/);
    await shoot(page, 'capture-unavailable');
  });

  it('with audit entries: what IT looked at and did, verified, live as it arrives, in the top line and the export', async (t) => {
    if (!requireTools(t, [CHROMIUM])) return;
    const feed = await startAuditFeedServer();
    t.after(() => feed.close());
    const ctx = context(t, { collectorUrl: feed.url, support: { contact: 'helpdesk@example.com', advice: null } });
    const identity = loadOrCreateIdentity({ dataDir: ctx.dataDir });
    feed.addDevice(DEVICE, identity.publicKey);
    enroll(ctx, identity.publicKeySpki);
    withTiming(ctx);
    reconcileFindings(ctx.db, 'tool', [anydeskRunning], ctx.clock.now());
    feed.record({ action: 'view-device', deviceId: DEVICE, actor: 'alice@it.example.com' });
    feed.record({ action: 'view-findings', deviceId: DEVICE, actor: 'alice@it.example.com' });
    feed.record({ action: 'view-device', deviceId: 'another-laptop' });
    feed.record({ action: 'acknowledge', deviceId: DEVICE, actor: 'alice@it.example.com', findingId: 3, detail: 'Checking with you by email' });
    feed.record({ action: 'tag', deviceId: DEVICE, actor: 'bob@it.example.com', detail: 'team-berlin' });
    const fetcher = new AuditFetchService(ctx, { identity, intervalMs: 3_600_000 });
    fetcher.start();
    t.after(() => fetcher.stop());
    assert.deepEqual(await fetcher.fetchNow(), { kind: 'fetched', stored: 4, pages: 1 });

    const page = await openView(t, ctx);
    const rows = page.locator('#audit-body table.audit tbody tr');
    assert.deepEqual(await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-action'))), ['tag', 'acknowledge', 'view-findings', 'view-device']);
    assert.match(await rows.nth(1).innerText(), /alice@it\.example\.com[\s\S]*acknowledged a finding[\s\S]*Checking with you by email/);
    assert.match(await rows.nth(3).innerText(), /read[\s\S]*looked at this laptop's overview/i);
    assert.match(await page.locator('#top-line').innerText(), /What IT did: IT has seen this \(acknowledged\), by alice@it\.example\.com, .*“Checking with you by email”/);
    assert.match(await page.locator('#top-line').innerText(), /IT last looked at this laptop's data/);
    await shoot(page, 'audit');

    // IT resolves it; the next fetch arrives in the open page without a reload.
    feed.record({ action: 'resolve', deviceId: DEVICE, actor: 'alice@it.example.com', detail: 'Support session confirmed' });
    assert.equal((await fetcher.fetchNow()).kind, 'fetched');
    await until('the resolve entry in the open page', async () => (await rows.first().getAttribute('data-action')) === 'resolve');
    assert.match(await page.locator('#top-line').innerText(), /What IT did: IT marked this resolved/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
    const file = path.join(ctx.dataDir, 'export.json');
    await download.saveAs(file);
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as { auditEntries: { action: string }[]; baseline: { moveRateOrigin: string }; agentState: Record<string, unknown> };
    assert.deepEqual(exported.auditEntries.map((entry) => entry.action), ['view-device', 'view-findings', 'acknowledge', 'tag', 'resolve']);
    assert.equal(exported.baseline.moveRateOrigin, 'prior');
    assert.ok('timing-baseline' in exported.agentState && 'audit.collectorKey' in exported.agentState);
    await shoot(page, 'audit-resolved');
  });
});
