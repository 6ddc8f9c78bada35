/**
 * The IT dashboard in real Chromium against the collector on a real port, with a fleet of 5,000
 * devices (TELLTALE_DASHBOARD_DEVICES) enrolled and reporting through the real API: the newest high
 * incident is one click away, the device list is paged, sorted, filtered and searched by the server,
 * the device page shows risk over time, findings with triage buttons and the report chain, and a
 * report is shown as fields with its raw signed JSON one click away. Also checks the strict CSP
 * holds (no violations, no inline script needed). Screenshots: test-output/screenshots/collector-*.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { canonicalize } from '../../protocol/canonical-json';
import { DASHBOARD_CSP } from '../../collector/routes/dashboard';
import { ManualSchedule, startTestCollector, TEST_IT_TOKEN, TEST_TRIAGE_TOKEN, type TestCollector } from '../helpers/collector/harness';
import { sampleFinding, type TestDevice } from '../helpers/collector/make-reports';
import { requireTools } from '../helpers/tools';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
const FLEET = Number(process.env.TELLTALE_DASHBOARD_DEVICES ?? '5000');
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

async function url(collector: TestCollector): Promise<string> {
  await collector.app.listen({ port: 0, host: '127.0.0.1' });
  const address = collector.app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** Enroll `count` devices and send each a first report: every 10th with a high finding, every 7th a medium one. */
async function buildFleet(collector: TestCollector, count: number, now: number): Promise<TestDevice[]> {
  const devices: TestDevice[] = [];
  for (let start = 0; start < count; start += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, count - start) }, async (_, offset) => {
        const index = start + offset;
        const device = await collector.enroll({ hostname: `laptop-${String(index).padStart(5, '0')}` });
        const findings =
          index % 10 === 0
            ? [sampleFinding({ firstSeenAt: now - 3_600_000, lastSeenAt: now })]
            : index % 7 === 0
              ? [sampleFinding({ key: 'tool', kind: 'remote-tool-installed', severity: 'medium', title: 'AnyDesk is installed', firstSeenAt: now - 7_200_000, lastSeenAt: now })]
              : [];
        const response = await collector.postReport(device.nextReport({ findings, createdAt: now }));
        assert.equal(response.statusCode, 200, response.body);
        return device;
      }),
    );
    devices.push(...batch);
  }
  return devices;
}

test(`dashboard with ${FLEET} devices: newest high incident in one click, server-side sort/filter/search/pages, device page, readable report`, async (t) => {
  if (!requireTools(t, ['chromium'])) return;
  const now = Date.now();
  const collector = await startTestCollector(
    t,
    { silentAfterMinutes: 600, rateLimit: { perIp: 1_000_000, reportsPerIp: 1_000_000 }, enrollment: { newDevicesPerWindow: 1_000_000, attemptsPerWindow: 1_000_000 } },
    { clock: () => Date.now(), schedule: new ManualSchedule().schedule },
  );
  const fleet = await buildFleet(collector, FLEET, now);
  // The newest high incident arrives last, on a device in the middle of the fleet.
  const target = fleet[Math.floor(FLEET * 0.8641)]!;
  const targetName = `laptop-${String(Math.floor(FLEET * 0.8641)).padStart(5, '0')}`;
  const fresh = sampleFinding({ key: 'fresh', title: 'Someone is connected to this laptop remotely right now', firstSeenAt: now, lastSeenAt: now + 1 });
  const freshReport = target.nextReport({ findings: [fresh], createdAt: now + 1 });
  assert.equal((await collector.postReport(freshReport)).statusCode, 200);
  const base = await url(collector);

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: BROWSER_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  const response = await page.goto(`${base}/#token=${encodeURIComponent(TEST_TRIAGE_TOKEN)}`);
  assert.equal(response?.headers()['content-security-policy'], DASHBOARD_CSP);
  await page.waitForSelector('#newest-high-link', { timeout: 60_000 });
  assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
  assert.match(await page.locator('#newest-high-link').innerText(), new RegExp(`${targetName}: Someone is connected to this laptop remotely right now`));
  assert.match(await page.locator('#incidents li').first().innerText(), new RegExp(targetName), 'the incident queue starts with the newest');
  assert.match(await page.locator('#fleet-summary').innerText(), new RegExp(`^${FLEET} devices`));
  await page.waitForSelector('#devices tbody tr', { timeout: 60_000 });
  assert.equal(await page.locator('#devices tbody tr').count(), 50, 'one page of devices, never the whole fleet');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'collector-incidents.png') });

  // Server-side sort, filter, search and pages.
  const risks = () => page.locator('#devices tbody tr .risk').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-risk')));
  const firstHost = () => page.locator('#devices tbody tr td').first().innerText();
  await page.selectOption('#sort', 'risk');
  await page.waitForFunction(() => document.querySelector('#devices tbody tr .risk')?.getAttribute('data-risk') === 'high');
  const order = ['high', 'medium', 'low', 'info', 'none'];
  const ranks = (await risks()).map((risk) => order.indexOf(risk ?? ''));
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), 'sorted by risk, high first');
  const riskFirst = await firstHost();
  await page.click('#next-page');
  await page.waitForFunction((before) => document.querySelector('#devices tbody tr td')?.textContent !== before, riskFirst);
  assert.match(await page.locator('#page-number').innerText(), /page 2/);
  assert.equal(await page.locator('#devices tbody tr').count(), 50);
  await page.selectOption('#risk-filter', 'medium');
  await page.waitForFunction(() => [...document.querySelectorAll('#devices tbody tr .risk')].every((node) => node.getAttribute('data-risk') === 'medium'));
  assert.match(await page.locator('#page-number').innerText(), /page 1/, 'a new filter starts at the first page');
  await page.selectOption('#risk-filter', '');
  await page.fill('#search', targetName);
  await page.click('#device-controls button[type="submit"]');
  await page.waitForFunction((name) => document.querySelectorAll('#devices tbody tr').length === 1 && document.querySelector('#devices tbody tr td')?.textContent === name, targetName);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'collector-devices.png') });

  // One click from the newest high incident to its device page.
  await page.click('#newest-high-link');
  await page.waitForFunction((name) => !document.getElementById('device-section')?.hidden && document.getElementById('device-title')?.textContent === name, targetName);
  await page.waitForSelector('#timeline li[data-kind="remote-session-active"]');
  assert.equal(await page.locator('#risk-chart svg path').count(), 1, 'risk over time');
  assert.equal(await page.locator('#reports li[data-seq]').count(), 2, 'the report chain');
  const freshItem = page.locator('#timeline li', { hasText: 'right now' });
  await freshItem.locator('button.acknowledge').click();
  await page.waitForFunction(() => /acknowledge: done/.test(document.getElementById('status')?.textContent ?? ''));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'collector-device.png'), fullPage: false });

  // A report as readable fields; the raw signed JSON one click away.
  await page.locator('#reports li[data-seq="2"] button').click();
  await page.waitForSelector('#signature-status', { timeout: 30_000 });
  assert.equal(await page.locator('#signature-status').innerText(), 'signature valid');
  assert.match(await page.locator('#report-meta').innerText(), /Findings\s+1/);
  assert.match(await page.locator('#report-findings tbody').innerText(), /Someone is connected to this laptop remotely right now/);
  assert.equal(await page.locator('#canonical').isVisible(), false, 'raw JSON folded away');
  await page.locator('#raw-json summary').click();
  assert.equal(await page.locator('#canonical').textContent(), canonicalize(freshReport.body));
  await page.screenshot({ path: path.join(SCREENSHOTS, 'collector-report.png') });

  // What IT did and looked at is in the audit log under the token's name.
  const audit = (await collector.itGet(`/v1/audit?deviceId=${target.deviceId}`, TEST_TRIAGE_TOKEN)).json<{ entries: { action: string; actor: string }[] }>().entries;
  assert.deepEqual(new Set(audit.map((entry) => entry.action)), new Set(['view-device', 'view-findings', 'view-reports', 'acknowledge', 'view-report']));
  assert.ok(audit.every((entry) => entry.actor === 'alice'));
  // A token kept only for this tab's session, not in localStorage.
  assert.equal(await page.evaluate(() => sessionStorage.getItem('telltale.itToken')), TEST_TRIAGE_TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.deepEqual(problems, []);
});

test('dashboard shows a clear error for a wrong token, and a read-only token cannot triage', async (t) => {
  if (!requireTools(t, ['chromium'])) return;
  const collector = await startTestCollector(t);
  const device = await collector.enroll({ hostname: 'only-one' });
  assert.equal((await collector.postReport(device.nextReport({ findings: [sampleFinding()] }))).statusCode, 200);
  const base = await url(collector);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: BROWSER_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${base}/#token=wrong-token-value`);
  await page.waitForFunction(() => /UNAUTHORIZED/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 30_000 });
  assert.match(await page.locator('#status').innerText(), /not recognised/);
  const reader = await browser.newPage();
  await reader.goto(`${base}/#token=${encodeURIComponent(TEST_IT_TOKEN)}`);
  await reader.click('#newest-high-link');
  await reader.locator('#timeline button.acknowledge').first().click();
  await reader.waitForFunction(() => /FORBIDDEN/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 30_000 });
});
