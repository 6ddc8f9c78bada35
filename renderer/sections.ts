/**
 * The view's sections, each a pure function from bridge data to DOM. Wording is for a
 * non-technical reader: what it is, what it means, in one or two sentences.
 */
import type { Finding } from '../common/findings';
import type { FindingsView, PolicyView, ReportEntry, ReportsView, Status, TimingView } from '../common/ipc-contract';
import { NEVER_COLLECTED } from '../common/ipc-contract';
import { assertNever } from '../common/result';
import { TIMING_FIELDS, timingValue, type TimingWindow } from '../common/timing';
import { histogram, seriesChart } from './charts';
import { h, type Child } from './dom';
import { formatBytes, formatClock, formatHz, formatMs, formatSeconds, formatTime, formatTimingValue } from './format';

export function statusBanner(status: Status): HTMLElement {
  const label = stateLabel(status);
  return h(
    'div',
    { class: `status status-${status.state}`, 'data-state': status.state },
    h('span', { class: 'status-dot', 'aria-hidden': 'true' }),
    h('div', {}, h('strong', {}, label), h('p', {}, status.summary)),
  );
}

function stateLabel(status: Status): string {
  const state = status.state;
  switch (state) {
    case 'ok':
      // Minor findings (an installed tool, an approved one) are open: "all normal" would hide them.
      return status.openFindings > 0 ? 'No sign of remote control' : 'All normal';
    case 'attention':
      return 'Needs attention';
    case 'offline':
      return 'Offline';
    default:
      return assertNever(state, 'device state');
  }
}

/** What an empty timing list means: capture is waiting for input, or cannot record any. */
function emptyText(view: TimingView): string {
  switch (view.capture.state) {
    case 'running':
      return 'Nothing recorded yet. Type or move the pointer and a window appears here within a minute.';
    case 'unavailable':
      return `Nothing is recorded: input timing capture is unavailable on this computer (${view.capture.detail.replace(/\.$/, '')}). Everything else Telltale does still runs.`;
    case 'off':
      return `Nothing is recorded: input timing capture is off. ${view.capture.detail}`;
    default:
      return assertNever(view.capture.state, 'capture state');
  }
}

export function collectedSection(view: TimingView): Child[] {
  const windows = view.windows;
  const latest = windows[windows.length - 1];
  const base = view.baseline;
  const baselineText =
    base.source === 'device-baseline'
      ? `"Your usual" pointer rate is what Telltale has learned on this laptop (from ${base.windows} windows); hold times and gaps are the middle value of the windows stored here.`
      : base.source === 'running-median'
        ? `"Your usual" is the middle value of the ${base.windows} most recent windows stored here (a learned baseline is not available yet).`
        : 'No windows stored yet, so there is no "usual" to compare with.';
  const summary = latest
    ? h(
        'p',
        { class: 'latest', 'data-keystrokes': String(latest.window.keys.keystrokes), 'data-window-id': String(latest.id) },
        `Latest window (${formatClock(latest.window.startedAt)}–${formatClock(latest.window.endedAt)}): `,
        ...(latest.window.keys.keystrokes > 0
          ? [
              h('strong', {}, `${latest.window.keys.keystrokes} keystrokes`),
              `, keys held a typical ${formatMs(latest.window.keys.dwell?.median)}, gaps between presses a typical ${formatMs(latest.window.keys.flight?.median)}; `,
            ]
          : ['no typing; ']),
        ...(latest.window.mouse.moves > 0
          ? [h('strong', {}, `${latest.window.mouse.moves} pointer movements`), ` at ${formatHz(latest.window.mouse.moveRateHz)}.`]
          : ['no pointer movement.']),
      )
    : h('p', { class: 'latest', 'data-keystrokes': '0', 'data-capture': view.capture.state }, emptyText(view));
  const timeLabel = (at: number) => formatClock(at);
  return [
    h(
      'p',
      { class: 'lead' },
      'Telltale measures only the ',
      h('em', {}, 'timing'),
      ' of your typing and pointer movement: how long a key is held down, the gap between key presses, and how often the pointer reports movement. ',
      `It sums these up every ${formatSeconds(view.windowSeconds)} of activity (a "window"). Remote-control tools change this rhythm in ways a person at the keyboard cannot.`,
    ),
    summary,
    h(
      'div',
      { class: 'charts' },
      figure(
        'Typing activity (keystrokes per window)',
        seriesChart({
          title: 'Keystrokes per window',
          bars: windows.map((entry) => ({ value: entry.window.keys.keystrokes, label: timeLabel(entry.window.endedAt) })),
          baseline: null,
          unit: 'keys',
          highlightLast: true,
        }),
        'typing-chart',
      ),
      figure(
        `How long keys are held: your usual ${formatMs(base.dwellMedianMs)}`,
        histogram({
          title: 'Key hold time, per window',
          values: windows.flatMap((entry) => (entry.window.keys.dwell ? [entry.window.keys.dwell.median] : [])),
          binWidth: 10,
          baseline: base.dwellMedianMs,
          unit: 'ms',
          latest: latest?.window.keys.dwell?.median ?? null,
        }),
        'dwell-chart',
      ),
      figure(
        `Gap between key presses: your usual ${formatMs(base.flightMedianMs)}`,
        histogram({
          title: 'Gap between key presses, per window',
          values: windows.flatMap((entry) => (entry.window.keys.flight ? [entry.window.keys.flight.median] : [])),
          binWidth: 20,
          baseline: base.flightMedianMs,
          unit: 'ms',
          latest: latest?.window.keys.flight?.median ?? null,
        }),
        'flight-chart',
      ),
      figure(
        `Pointer movement rate: your usual ${formatHz(base.moveRateHz)}`,
        seriesChart({
          title: 'Pointer movement events per second, per window',
          bars: windows.map((entry) => ({ value: entry.window.mouse.moveRateHz, label: timeLabel(entry.window.endedAt) })),
          baseline: base.moveRateHz,
          unit: 'per s',
          highlightLast: true,
        }),
        'mouse-chart',
      ),
    ),
    h('p', { class: 'note' }, `Bars: the ${windows.length} most recent windows (${view.storedWindows} stored on this laptop). Dashed line: your usual. ${baselineText}`),
    latest ? windowFieldsTable(latest.window) : null,
    base.learned.length > 0
      ? h(
          'details',
          { class: 'learned', id: 'learned-baseline' },
          h('summary', {}, 'What the remote-control check compares each window with (learned on this laptop)'),
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, h('th', {}, 'Measure'), h('th', {}, 'Your usual'))),
            h('tbody', {}, ...base.learned.map((feature) => h('tr', {}, h('td', {}, feature.label), h('td', {}, `${feature.usual}${feature.unit ? ` ${feature.unit}` : ''}`)))),
          ),
        )
      : null,
  ];
}

/** Every number the latest window holds, named as the schema names it: exactly what a report carries about it. */
function windowFieldsTable(window: TimingWindow): HTMLElement {
  return h(
    'details',
    { class: 'learned', id: 'window-fields' },
    h('summary', {}, 'Everything recorded in the latest window (each report to IT carries exactly these numbers)'),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Measure'), h('th', {}, 'Value'))),
      h(
        'tbody',
        {},
        ...TIMING_FIELDS.map((field) =>
          h('tr', { 'data-field': field.name }, h('td', {}, field.label), h('td', {}, formatTimingValue(timingValue(window, field), field.unit))),
        ),
      ),
    ),
  );
}

function figure(caption: string, chart: SVGSVGElement, id: string): HTMLElement {
  return h('figure', { class: 'chart-figure', id }, chart, h('figcaption', {}, caption));
}

export function neverSection(): Child[] {
  return [
    h('p', { class: 'lead' }, 'Telltale is built so that it cannot collect these. They never leave the part that listens to the keyboard and pointer, are never stored, and are never sent:'),
    h('ul', { class: 'never-list' }, ...NEVER_COLLECTED.map((item) => h('li', {}, item))),
  ];
}

export function findingsSection(view: FindingsView): Child[] {
  const open = view.open;
  return [
    open.length === 0
      ? h('p', { class: 'empty' }, 'Nothing unusual found. Telltale checks for remote-control software, remote sessions, and unusual displays or keyboards.')
      : h('p', { class: 'lead' }, `${open.length} thing${open.length === 1 ? '' : 's'} Telltale noticed. Each is included in the reports to IT with the evidence shown.`),
    ...open.map((finding) => findingCard(finding, false)),
    view.closed.length > 0
      ? h('details', { class: 'closed-findings' }, h('summary', {}, `${view.closed.length} earlier finding(s), no longer seen`), ...view.closed.map((finding) => findingCard(finding, true)))
      : null,
  ];
}

function findingCard(finding: Finding, closed: boolean): HTMLElement {
  return h(
    'article',
    { class: `finding severity-${finding.severity}${closed ? ' closed' : ''}`, 'data-kind': finding.kind },
    h('header', {}, h('span', { class: `badge badge-${finding.severity}` }, finding.severity), h('h3', {}, finding.title)),
    h('p', { class: 'explanation' }, finding.explanation),
    h(
      'p',
      { class: 'when' },
      `First seen ${formatTime(finding.firstSeenAt)}; last seen ${formatTime(finding.lastSeenAt)}${finding.closedAt !== null ? `; ended ${formatTime(finding.closedAt)}` : ''}.`,
    ),
    h(
      'details',
      { class: 'evidence' },
      h('summary', {}, 'Evidence'),
      h('dl', {}, ...Object.entries(finding.evidence).flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, typeof value === 'string' ? value : JSON.stringify(value))])),
    ),
  );
}

export function reportsSection(view: ReportsView): Child[] {
  if (!view.available) return [h('p', { class: 'empty' }, 'No reports have been made on this laptop yet.')];
  return [
    h(
      'p',
      { class: 'lead' },
      'Every report this laptop made for IT, exactly as stored and sent. Each is signed with a key only this laptop has, and linked to the one before, so nobody (including Telltale) can change or remove one unnoticed. The check below is done here, now, on the stored copy.',
    ),
    view.reports.length === 0 ? h('p', { class: 'empty' }, 'No reports yet.') : null,
    ...view.reports.map(reportCard),
    view.total > view.reports.length ? h('p', { class: 'note' }, `Showing the newest ${view.reports.length} of ${view.total}. The export below has them all.`) : null,
  ];
}

function reportCard(report: ReportEntry): HTMLElement {
  const delivered = report.deliveredAt !== null;
  return h(
    'article',
    { class: 'report', 'data-seq': String(report.seq), 'data-signature': report.signature, 'data-chain': report.chain },
    h(
      'header',
      {},
      h('h3', {}, `Report #${report.seq}`, report.kind === 'heartbeat' ? ' (heartbeat: "still running")' : ''),
      checkBadge('signature', report.signature),
      checkBadge('chain', report.chain),
    ),
    h(
      'p',
      { class: 'when' },
      `Made ${formatTime(report.createdAt)}. `,
      delivered
        ? `Delivered to IT ${formatTime(report.deliveredAt)}.`
        : `Not delivered yet${report.attempts ? ` (${report.attempts} attempt${report.attempts === 1 ? '' : 's'}${report.lastError ? `, last problem: ${report.lastError}` : ''})` : ''}; it is kept here until it can be sent.`,
    ),
    report.checkDetail ? h('p', { class: 'check-detail' }, report.checkDetail) : null,
    h('details', { class: 'payload' }, h('summary', {}, `Exact contents (${formatBytes(report.bytes)})`), h('pre', {}, report.payload)),
  );
}

function checkBadge(what: 'signature' | 'chain', check: ReportEntry['signature']): HTMLElement {
  const text =
    what === 'signature'
      ? { valid: 'signature valid', invalid: 'signature INVALID', unchecked: 'signature not checked' }[check]
      : { valid: 'chain intact', invalid: 'chain BROKEN', unchecked: 'chain not checked' }[check];
  return h('span', { class: `check check-${check}`, 'data-check': what }, text);
}

export function policySection(policy: PolicyView): Child[] {
  const i = policy.intervals;
  return [
    h('p', { class: 'lead' }, 'These settings come from your IT department.'),
    h(
      'dl',
      { class: 'policy' },
      h('dt', {}, 'Reports go to'),
      h('dd', {}, policy.collectorUrl ?? 'Nowhere: no IT server is configured, so everything stays on this laptop.'),
      h('dt', {}, 'Approved remote tools'),
      h(
        'dd',
        {},
        policy.approvedTools.length === 0
          ? 'None. Any remote-control tool is reported.'
          : h('ul', {}, ...policy.approvedTools.map((tool) => h('li', {}, tool.label, tool.note ? ` (${tool.note})` : ''))),
      ),
      h('dt', {}, 'Timing summaries'),
      h('dd', {}, `Every ${formatSeconds(i.windowSeconds)} of activity, or every ${i.windowKeystrokes} keystrokes.`),
      h('dt', {}, 'Checks for remote tools'),
      h('dd', {}, `Every ${formatSeconds(i.scanSeconds)}; displays and USB devices every ${formatSeconds(i.hardwareScanSeconds)}.`),
      h('dt', {}, 'Reports to IT'),
      h('dd', {}, `Every ${formatSeconds(i.reportSeconds)}; a short "still running" heartbeat every ${formatSeconds(i.heartbeatSeconds)}.`),
      h('dt', {}, 'Kept on this laptop'),
      h('dd', {}, `At most ${policy.retention.maxDays} days and ${policy.retention.maxMegabytes} MB; older data is deleted.`),
      h('dt', {}, 'Can you quit Telltale?'),
      h('dd', {}, policy.allowQuit ? 'Yes, from the tray menu.' : 'No, your IT policy keeps it running.'),
    ),
  ];
}
