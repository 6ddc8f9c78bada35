/**
 * The IT dashboard in real Chromium against the collector on a real port: devices with risk, a
 * finding in the timeline, and a report's canonical payload shown byte for byte as "signature valid".
 * Also checks that the strict CSP holds (no violations, no inline script needed).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { canonicalize } from '../../protocol/canonical-json';
import { DASHBOARD_CSP } from '../../collector/routes/dashboard';
import { ManualSchedule, startTestCollector, TEST_IT_TOKEN } from '../helpers/collector/harness';
import { sampleFinding } from '../helpers/collector/make-reports';
import { requireTools } from '../helpers/tools';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');

test('dashboard lists devices with risk, shows the timeline and a verified signed report', async (t) => {
  if (!requireTools(t, ['chromium'])) return;
  let now = Date.now();
  const sweeps = new ManualSchedule();
  const collector = await startTestCollector(t, { silentAfterMinutes: 30 }, { clock: () => now, schedule: sweeps.schedule });
  const risky = await collector.enroll({ hostname: 'farm-laptop-07' });
  const quiet = await collector.enroll({ hostname: 'quiet-laptop-02' });
  const clean = await collector.enroll({ hostname: 'clean-laptop-01' });
  const finding = sampleFinding({ title: 'Someone is connected to this laptop remotely' });
  const first = risky.nextReport({ findings: [finding] });
  for (const report of [first, risky.nextReport(), clean.nextReport()]) assert.equal((await collector.postReport(report)).statusCode, 200);
  assert.equal((await collector.postReport(quiet.nextReport())).statusCode, 200);
  // Time passes: everyone goes silent except the two that report again.
  now += 45 * 60_000;
  for (const report of [risky.nextReport({ kind: 'heartbeat' }), clean.nextReport({ kind: 'heartbeat' })]) assert.equal((await collector.postReport(report)).statusCode, 200);
  await sweeps.tick();

  await collector.app.listen({ port: 0, host: '127.0.0.1' });
  const address = collector.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  const response = await page.goto(`${url}/#token=${encodeURIComponent(TEST_IT_TOKEN)}`);
  assert.equal(response?.headers()['content-security-policy'], DASHBOARD_CSP);
  await page.waitForSelector(`tr[data-device="${risky.deviceId}"]`, { timeout: 30_000 });
  assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');

  const riskOf = async (deviceId: string) => page.locator(`tr[data-device="${deviceId}"] .risk`).getAttribute('data-risk');
  assert.equal(await riskOf(risky.deviceId), 'high');
  assert.equal(await riskOf(quiet.deviceId), 'silent');
  assert.equal(await riskOf(clean.deviceId), 'none');

  await page.waitForSelector('#timeline li[data-kind="remote-session-active"]', { timeout: 30_000 });
  assert.match(await page.locator('#timeline').innerText(), /Someone is connected to this laptop remotely/);
  assert.match(await page.locator('#timeline').innerText(), /Device stopped reporting/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'collector-devices.png'), fullPage: true });

  await page.locator(`tr[data-device="${risky.deviceId}"] button`).click();
  await page.locator('#reports li[data-seq="1"] button').click();
  await page.waitForSelector('#signature-status', { timeout: 30_000 });
  assert.equal(await page.locator('#signature-status').innerText(), 'signature valid');
  assert.equal(await page.locator('#canonical').textContent(), canonicalize(first.body));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'collector-report.png'), fullPage: true });

  // A token kept only for this tab's session, not in localStorage.
  assert.equal(await page.evaluate(() => sessionStorage.getItem('telltale.itToken')), TEST_IT_TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.deepEqual(problems, []);
});

test('dashboard shows a clear error for a wrong token', async (t) => {
  if (!requireTools(t, ['chromium'])) return;
  const collector = await startTestCollector(t);
  await collector.app.listen({ port: 0, host: '127.0.0.1' });
  const address = collector.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${url}/#token=wrong-token-value`);
  await page.waitForFunction(() => /UNAUTHORIZED/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 30_000 });
  assert.match(await page.locator('#status').innerText(), /not recognised/);
});

test('dashboard shows a possible laptop farm: how many laptops, whose, since when, what they share', async (t) => {
  if (!requireTools(t, ['chromium'])) return;
  const collector = await startTestCollector(t);
  const router = { gatewayHash: 'ab'.repeat(32), utcOffsetMinutes: -360, defaultRouteTunnel: false, interfaceKind: 'wifi' as const, unavailable: [] };
  for (const hostname of ['DESKTOP-ALEX-W11', 'jordan-thinkpad', 'MBP-Sam']) {
    const device = await collector.enroll({ hostname });
    assert.equal((await collector.postReport(device.nextReport({ location: router }))).statusCode, 200);
  }
  const alone = await collector.enroll({ hostname: 'riley-xps' });
  assert.equal((await collector.postReport(alone.nextReport({ location: { ...router, gatewayHash: 'cd'.repeat(32) } }))).statusCode, 200);
  await collector.app.listen({ port: 0, host: '127.0.0.1' });
  const address = collector.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}/#token=${encodeURIComponent(TEST_IT_TOKEN)}`);
  await page.waitForSelector('#farms tr[data-farm]', { timeout: 30_000 });
  const row = await page.locator('#farms tr[data-farm]').innerText();
  assert.match(row, /^3\t/);
  for (const hostname of ['DESKTOP-ALEX-W11', 'jordan-thinkpad', 'MBP-Sam']) assert.ok(row.includes(hostname), `${hostname} in ${row}`);
  assert.doesNotMatch(row, /riley-xps/);
  assert.match(row, /same router \(3\)/);
  assert.equal(await page.locator('#farms-empty').isHidden(), true);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'collector-farms.png'), fullPage: true });
});
