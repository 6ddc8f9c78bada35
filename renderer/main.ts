/**
 * The transparency view's entry point.
 *
 * In the tray app the preload exposes `window.telltale`; served by the headless agent there is no
 * preload, so the same bridge is built over loopback HTTP. Everything after that choice is the same
 * code: fetch each section, render it, and re-render the section an event says has changed.
 */
import type { TelltaleBridge } from '../common/ipc-contract';
import type { Result } from '../common/result';
import { h, replaceContent, type Child } from './dom';
import { formatClock, formatTime } from './format';
import { createHttpBridge, takeToken, type LiveState } from './http-transport';
import { auditSection, collectedSection, findingsSection, neverSection, policySection, reportsSection, topLineBanner } from './sections';

declare global {
  interface Window {
    /** Present in the tray app (preload/preload.ts); absent in a plain browser. */
    readonly telltale?: TelltaleBridge;
  }
}

function chooseBridge(onLiveState: (state: LiveState) => void): TelltaleBridge | null {
  if (window.telltale) return window.telltale;
  const token = takeToken();
  return token === null ? null : createHttpBridge(token, onLiveState);
}

function layout(): HTMLElement[] {
  const section = (id: string, title: string, intro?: string) =>
    h('section', { id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), intro ? h('p', { class: 'section-intro' }, intro) : null, h('div', { id: `${id}-body` }));
  return [
    h(
      'header',
      { class: 'page-header' },
      h('h1', {}, 'What Telltale sees on this laptop'),
      h(
        'p',
        { class: 'intro' },
        'Your employer uses Telltale to confirm this laptop is used by you, here, and is not controlled remotely by someone else. This page shows, live, everything it collects and every report it sends.',
      ),
      h('div', { id: 'status' }),
      h('p', { id: 'live', class: 'live' }),
    ),
    section('collected', 'Collected right now'),
    section('never', 'Never collected'),
    section('findings', 'What Telltale noticed'),
    section('audit', 'What IT looked at and did'),
    section('reports', 'Reports sent to IT'),
    section('policy', 'Settings from IT'),
    h(
      'section',
      { id: 'export', 'aria-labelledby': 'export-title' },
      h('h2', { id: 'export-title' }, 'Your data'),
      h('p', {}, 'Download everything Telltale keeps about you on this laptop, as one JSON file.'),
      h('button', { id: 'export-button', type: 'button' }, 'Download all my data (JSON)'),
      h('p', { id: 'export-status', class: 'note' }),
    ),
    h('footer', { id: 'footer' }),
  ];
}

function errorBox(result: Result<unknown>): Child {
  return result.ok ? null : h('p', { class: 'error' }, `Could not load this part: ${result.error.message}`);
}

async function start(): Promise<void> {
  const app = document.getElementById('app')!;
  const setLive = (state: LiveState) => {
    const text = { connecting: 'Connecting to live updates…', live: 'Live: updates appear as they happen.', reconnecting: 'Reconnecting to the agent…' }[state];
    const live = document.getElementById('live');
    if (live) {
      live.textContent = text;
      live.dataset.state = state;
    }
  };
  const bridge = chooseBridge(setLive);
  if (bridge === null) {
    app.replaceChildren(
      h('h1', {}, 'Telltale'),
      h('p', { class: 'error' }, 'This page needs the link the Telltale agent printed when it started (it contains a one-time key after the # sign). Open that link instead.'),
    );
    return;
  }
  app.replaceChildren(...layout());
  if (window.telltale) setLive('live');

  const refreshOverview = async () => {
    const result = await bridge.getOverview();
    if (!result.ok) return replaceContent('status', errorBox(result));
    const o = result.value;
    replaceContent('status', topLineBanner(o.status, o.topLine));
    replaceContent(
      'footer',
      `Telltale ${o.agentVersion} · device ${o.deviceId ?? 'not enrolled yet'} · running since ${formatTime(o.startedAt)} · ${o.mode === 'electron' ? 'tray app' : 'headless agent'} · page updated ${formatClock(o.now)}`,
    );
  };
  const refreshTiming = async () => {
    const result = await bridge.getTiming({ limit: 60 });
    replaceContent('collected-body', ...(result.ok ? collectedSection(result.value) : [errorBox(result)]));
  };
  const refreshFindings = async () => {
    const result = await bridge.getFindings();
    replaceContent('findings-body', ...(result.ok ? findingsSection(result.value) : [errorBox(result)]));
  };
  const refreshReports = async () => {
    const result = await bridge.getReports({ limit: 50 });
    replaceContent('reports-body', ...(result.ok ? reportsSection(result.value) : [errorBox(result)]));
  };
  const refreshAudit = async () => {
    const result = await bridge.getAudit({ limit: 200 });
    replaceContent('audit-body', ...(result.ok ? auditSection(result.value) : [errorBox(result)]));
  };
  const refreshPolicy = async () => {
    const result = await bridge.getPolicy();
    replaceContent('policy-body', ...(result.ok ? policySection(result.value) : [errorBox(result)]));
  };
  replaceContent('never-body', ...neverSection());

  // Subscribe before the first fetch so nothing that happens in between is missed.
  bridge.onWindowFlushed(() => void refreshTiming());
  bridge.onFindingsChanged(() => void Promise.all([refreshFindings(), refreshOverview()]));
  bridge.onReportsChanged(() => void Promise.all([refreshReports(), refreshOverview(), refreshAudit()]));
  bridge.onAuditChanged(() => void Promise.all([refreshAudit(), refreshOverview()]));
  // The status event carries no top line; the overview has both.
  bridge.onStatusChanged(() => void refreshOverview());

  document.getElementById('export-button')!.addEventListener('click', () => void exportData(bridge));
  await Promise.all([refreshOverview(), refreshTiming(), refreshFindings(), refreshAudit(), refreshReports(), refreshPolicy()]);
  document.body.dataset.ready = 'true';
}

async function exportData(bridge: TelltaleBridge): Promise<void> {
  const status = document.getElementById('export-status')!;
  const result = await bridge.exportData();
  if (!result.ok) {
    status.textContent = `Export failed: ${result.error.message}`;
    return;
  }
  const blob = new Blob([JSON.stringify(result.value, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: `telltale-my-data-${new Date().toISOString().slice(0, 10)}.json` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  status.textContent = `Downloaded: ${result.value.timingWindows.length} timing windows, ${result.value.findings.length} findings, ${result.value.reports.length} reports, ${result.value.auditEntries.length} entries of what IT looked at and did, the timing baseline and the agent's own state.`;
}

void start();
