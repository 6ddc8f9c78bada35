/**
 * The transparency view end to end, all real: Xvfb with real X input from xdotool, the headless
 * agent CLI (agent/cli.ts) hooking it, the real collector receiving signed reports, and Chromium
 * driven by Playwright against the view the agent serves on loopback.
 *
 * One shortcut, the one the brief allows: the finding is inserted through the findings store API
 * (reconcileFindings on the agent's database file), because no scanner service is wired into the
 * headless agent yet. Everything else (timing windows, reports, signatures, delivery) is produced by
 * the agent itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TIMING_FIELDS } from '../../common/timing';
import { openDatabase } from '../../agent/store/database';
import { reconcileFindings } from '../../agent/store/findings';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { startCollectorProcess, type CollectorProcess } from '../helpers/collector-process';
import { tempDir } from '../helpers/temp-dir';
import { requireTools } from '../helpers/tools';
import { startXvfb, type XDisplay } from '../../lab/xvfb';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
/** Typed into the focused xterm: it must never appear in the view, the API or the export. */
const CANARY = 'zebraquartzcanary';

async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function xdotool(display: XDisplay, ...args: string[]): void {
  const result = spawnSync('xdotool', args, { env: display.env, encoding: 'utf8' });
  assert.equal(result.status, 0, `xdotool ${args.join(' ')}: ${result.stderr}`);
}

async function shoot(page: Page, selector: string, name: string): Promise<string> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `transparency-${name}.png`);
  await page.locator(selector).screenshot({ path: file });
  return file;
}

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

describe('transparency view (real agent, real X input, real collector, Chromium)', () => {
  it('shows live timing, findings, signed reports (valid, then invalid when tampered), policy and export', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'xdotool', CHROMIUM])) return;
    const dir = tempDir(t, 'telltale-view-');
    const dataDir = path.join(dir, 'agent');
    const secret = 'enroll-secret-for-view-test';
    let display: XDisplay | undefined = undefined;
    let collector: CollectorProcess | undefined = undefined;
    let agent: AgentProcess | undefined = undefined;
    let browser: Browser | undefined = undefined;
    t.after(async () => {
      await browser?.close();
      // The hooked agent must exit before its X server goes away.
      await agent?.stop('SIGTERM');
      await collector?.stop();
      await display?.stop();
    });

    display = await startXvfb();
    collector = await startCollectorProcess({ dbFile: path.join(dir, 'collector.db'), enrollmentSecret: secret, itToken: 'it-token-for-view-test' });
    const policyFile = path.join(dir, 'policy.json');
    fs.writeFileSync(
      policyFile,
      JSON.stringify({
        collectorUrl: collector.url,
        enrollmentSecret: secret,
        approvedTools: [{ catalogId: 'teamviewer', note: 'IT helpdesk' }],
        intervals: { windowSeconds: 5, windowKeystrokes: 10, reportSeconds: 10, heartbeatSeconds: 10, scanSeconds: 5 },
        location: { fleetKey: 'view-test-fleet-key-0123456789abcdef' },
      }),
    );
    agent = spawnAgent(['--policy', policyFile, '--data-dir', dataDir], display.env, t);
    const announced = await agent.waitForLine((line) => typeof line.url === 'string' && String(line.url).includes('#token='), 'the view URL', 90_000);
    const viewUrl = String(announced.url);
    assert.match(viewUrl, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{40,}$/);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(viewUrl);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
    await page.waitForSelector('#live[data-state="live"]', { timeout: 30_000 });

    // --- Collected now: a typed burst appears live (no reload), against the baseline.
    const before = Number((await page.locator('#collected .latest').getAttribute('data-window-id')) ?? 0);
    xdotool(display, 'mousemove', '--sync', '200', '200');
    for (let step = 0; step < 20; step++) xdotool(display, 'mousemove', String(200 + step * 15), String(200 + step * 7));
    xdotool(display, 'type', '--delay', '90', `${CANARY} typed burst for the view`);
    await pollUntil('a new window with the typed burst in the live chart', 60_000, async () => {
      const latest = page.locator('#collected .latest');
      const id = Number((await latest.getAttribute('data-window-id')) ?? 0);
      const keystrokes = Number((await latest.getAttribute('data-keystrokes')) ?? 0);
      return id > before && keystrokes >= 10 ? true : undefined;
    });
    assert.ok((await page.locator('#typing-chart rect.bar').count()) >= 1);
    assert.ok((await page.locator('#dwell-chart rect.bar').count()) >= 1, 'dwell histogram has data');
    assert.ok((await page.locator('#collected line.baseline').count()) >= 1, 'a baseline line is drawn');
    await shoot(page, '#collected', 'collected');
    // Every number a report carries about a window is listed, labelled from the schema.
    await page.locator('#window-fields summary').click();
    const rows = page.locator('#window-fields tbody tr');
    assert.equal(await rows.count(), TIMING_FIELDS.length);
    for (const field of TIMING_FIELDS) {
      const cells = await page.locator(`#window-fields tr[data-field="${field.name}"] td`).allInnerTexts();
      assert.equal(cells[0], field.label, field.name);
      assert.ok((cells[1] ?? '').length > 0, `${field.name} shows a value`);
    }
    await shoot(page, '#window-fields', 'window-fields');

    // --- Never collected: stated plainly.
    const never = await page.locator('#never').innerText();
    for (const phrase of ['Which keys you press', 'Screenshots', 'Your files', 'Websites you visit']) assert.ok(never.includes(phrase), phrase);
    await shoot(page, '#never', 'never-collected');

    // --- Findings: inserted through the findings store API (the allowed shortcut), shown with explanation and evidence.
    const db = openDatabase(path.join(dataDir, 'telltale.db'));
    t.after(() => db.close());
    // A source of its own: a detector's reconcile closes unseen keys under its own prefix ('tool:' ...).
    reconcileFindings(db, 'view-test', [
      {
        key: 'view-test:x11vnc:session',
        kind: 'remote-session-active',
        severity: 'high',
        title: 'A remote-control session (x11vnc) is active',
        explanation: 'Someone could be viewing or controlling this screen from another computer right now.',
        evidence: { process: 'x11vnc', pid: 4242, localPort: 5900, remoteAddress: '203.0.113.7' },
      },
    ], Date.now());
    // Another process wrote the finding, so no event reaches this page: reloading also proves the
    // token survives a reload (sessionStorage) once it has left the address bar.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    // Filtered by title: the agent's real scanner sees every process on this machine, so other
    // remote tools running here (another test's x11vnc, say) may show up as findings too.
    const finding = page.locator('#findings-body > article.finding[data-kind="remote-session-active"]', { hasText: 'A remote-control session (x11vnc) is active' });
    await finding.waitFor({ timeout: 15_000 });
    assert.match(await finding.innerText(), /Someone could be viewing or controlling this screen/);
    await finding.locator('details.evidence summary').click();
    assert.match(await finding.innerText(), /203\.0\.113\.7/);
    assert.equal(await page.locator('#status .status').getAttribute('data-state'), 'attention');
    await shoot(page, '#findings', 'findings');

    // --- Reports: the agent enrolls, queues signed reports and delivers them; each shows "signature valid".
    const firstReport = page.locator('#reports article.report[data-seq="1"]');
    await pollUntil('report #1 delivered and shown as valid', 90_000, async () => {
      if ((await firstReport.count()) === 0) return undefined;
      const text = await firstReport.innerText();
      return text.includes('signature valid') && text.includes('Delivered to IT') ? true : undefined;
    });
    assert.equal(await firstReport.getAttribute('data-chain'), 'valid');
    const stored = (db.prepare('SELECT body FROM outbox WHERE seq = 1').get() as { body: string }).body;
    await firstReport.locator('details.payload summary').click();
    assert.equal(await firstReport.locator('pre').textContent(), stored, 'the payload is shown byte for byte');
    await shoot(page, '#reports', 'reports');

    // --- Tamper with the stored report: the view must say so.
    const tampered = stored.replace(/"agentVersion":"[^"]*"/, '"agentVersion":"9.9.9-tampered"');
    assert.notEqual(tampered, stored);
    db.prepare('UPDATE outbox SET body = ? WHERE seq = 1').run(tampered);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const invalid = page.locator('#reports article.report[data-seq="1"]');
    await pollUntil('report #1 shown as INVALID', 15_000, async () => ((await invalid.getAttribute('data-signature')) === 'invalid' ? true : undefined));
    assert.match(await invalid.innerText(), /signature INVALID/);
    assert.ok(await invalid.locator('.check-invalid').first().isVisible());
    await shoot(page, '#reports article.report[data-seq="1"]', 'report-tampered');

    // --- Policy in force.
    const policy = await page.locator('#policy').innerText();
    assert.ok(policy.includes(collector.url), 'collector URL shown');
    assert.ok(policy.includes('teamviewer') && policy.includes('IT helpdesk'), 'approved tools shown');
    assert.ok(policy.includes('5 seconds'), 'window interval shown');
    assert.ok(!policy.includes(secret), 'the enrollment secret is never shown');
    assert.ok(policy.includes("Your network router's identity, scrambled"), 'location signals in plain words');
    assert.ok(policy.includes('it cannot learn which router it is'), 'what IT cannot learn from them');
    assert.ok(!policy.includes('view-test-fleet-key'), 'the fleet key is never shown');
    await shoot(page, '#policy', 'policy');

    // --- Export: a JSON download of all local data.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
    const exportFile = path.join(dir, 'export.json');
    await download.saveAs(exportFile);
    const exportText = fs.readFileSync(exportFile, 'utf8');
    const exported = JSON.parse(exportText) as { format: string; timingWindows: unknown[]; findings: unknown[]; reports: { seq: number }[] };
    assert.equal(exported.format, 'telltale-local-export-v1');
    assert.ok(exported.timingWindows.length >= 1 && exported.findings.length >= 1 && exported.reports.length >= 1);
    await shoot(page, '#export', 'export');

    // --- Privacy: the typed text never reaches the view, its API answers or the export.
    assert.ok(!exportText.includes(CANARY));
    assert.ok(!(await page.content()).includes(CANARY));
    assert.ok(!agent.stdout().toString().includes(CANARY));

    // RSS of the headless agent while serving the view (with the page connected live).
    const rss = rssKb(agent.pid);
    fs.mkdirSync(path.join(ROOT, 'test-output'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-output', 'transparency-agent-rss.txt'), `${rss} kB VmRSS (/proc/${agent.pid}/status) while serving the view\n`);
    t.diagnostic(`headless agent VmRSS while serving the view: ${rss} kB`);

    await page.screenshot({ path: path.join(SHOTS, 'transparency-full.png'), fullPage: true });
    assert.deepEqual(pageErrors, [], 'no script errors or CSP violations in the page');
  });

  it('without an X display says capture is unavailable and why, and says "All normal" only with no finding open', async (t) => {
    if (!requireTools(t, [CHROMIUM])) return;
    const dir = tempDir(t, 'telltale-view-nox-');
    const dataDir = path.join(dir, 'agent');
    const env = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    let browser: Browser | undefined = undefined;
    const agent = spawnAgent(['--data-dir', dataDir], env, t);
    t.after(async () => {
      await browser?.close();
      await agent.stop('SIGTERM');
    });
    const announced = await agent.waitForLine((line) => typeof line.url === 'string' && String(line.url).includes('#token='), 'the view URL', 90_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(String(announced.url));
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    const latest = page.locator('#collected .latest');
    assert.equal(await latest.getAttribute('data-capture'), 'unavailable');
    const text = await latest.innerText();
    assert.match(text, /input timing capture is unavailable on this computer \(No X display \(DISPLAY is not set\)\)/);
    assert.doesNotMatch(text, /Type or move the pointer/);

    // The agent's own scanner may already have opened minor findings on this machine (an installed
    // x11vnc, say); one more makes sure at least one is open.
    const db = openDatabase(path.join(dataDir, 'telltale.db'));
    t.after(() => db.close());
    reconcileFindings(db, 'view-test', [{ key: 'view-test:installed', kind: 'remote-tool-installed', severity: 'low', title: 'x11vnc is installed', explanation: 'e', evidence: {} }], Date.now());
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const banner = page.locator('#status .status');
    const bannerText = await banner.innerText();
    assert.doesNotMatch(bannerText, /All normal/, 'not while a finding is open');
    // A remote tool running elsewhere on this shared machine would make it "attention" instead.
    if ((await banner.getAttribute('data-state')) === 'ok') {
      assert.match(bannerText, /No sign of remote control/);
      assert.match(bannerText, /minor findings? (is|are) listed below/);
    } else assert.equal(await banner.getAttribute('data-state'), 'attention');
    await shoot(page, '#status', 'status-minor-findings');
  });
});
