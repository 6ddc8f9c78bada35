/**
 * The view's sections, each a pure function from bridge data to DOM. Wording is for a
 * non-technical reader: what it is, what it means, in one or two sentences.
 */
import type { AuditEntry } from '../common/audit';
import type { Evidence, EvidenceValue, Finding } from '../common/findings';
import type { AuditView, Baseline, FindingsView, PolicyView, ReportEntry, ReportingState, ReportsView, Status, TimingView, TopLine } from '../common/ipc-contract';
import { NEVER_COLLECTED } from '../common/ipc-contract';
import { auditActionWords, findingWhy, isAuditRead, sameThingKey } from '../common/plain-words';
import { assertNever } from '../common/result';
import { TIMING_FIELDS, timingValue, type TimingWindow } from '../common/timing';
import { histogram, seriesChart } from './charts';
import { h, type Child } from './dom';
import { describeAddress, formatBytes, formatClock, formatHz, formatMs, formatSeconds, formatShortClock, formatTime, formatTimingValue, isLocalAddress } from './format';

/**
 * The top line: flagged or not, why in one sentence, what to do and whom to contact, what IT did
 * about it, and whether IT sees any of this.
 */
export function topLineBanner(status: Status, top: TopLine): HTMLElement {
  const it = top.itResponse;
  return h(
    'div',
    { class: `status status-${status.state}`, 'data-state': status.state, 'data-flagged': String(top.flagged), id: 'top-line' },
    h('span', { class: 'status-dot', 'aria-hidden': 'true' }),
    h(
      'div',
      { class: 'top-line' },
      top.flagged ? h('strong', { class: 'headline' }, `Flagged: ${top.headline}`) : h('strong', { class: 'headline' }, stateLabel(status)),
      top.flagged
        ? h('p', { class: 'why' }, top.why ?? '', top.alsoOpen > 0 ? ` Telltale noticed ${top.alsoOpen} more thing${top.alsoOpen === 1 ? '' : 's'}, listed below.` : '')
        : h('p', { class: 'why' }, status.summary),
      top.flagged && top.whatToDo ? h('p', { class: 'what-to-do' }, h('strong', {}, 'What to do: '), top.whatToDo) : null,
      top.contact ? h('p', { class: 'contact' }, h('strong', {}, 'Contact IT: '), top.contact) : null,
      it
        ? h('p', { class: 'it-response' }, h('strong', {}, 'What IT did: '), `${it.words}, by ${it.actor}, ${formatTime(it.at)}.`, it.detail ? ` “${it.detail}”` : '')
        : top.flagged && top.reporting === 'enrolled'
          ? h('p', { class: 'it-response' }, h('strong', {}, 'What IT did: '), 'nothing recorded yet.')
          : null,
      h('p', { class: 'reporting' }, reportingText(top.reporting, status), top.lastItRead !== null ? ` IT last looked at this laptop's data ${formatTime(top.lastItRead)}.` : ''),
    ),
  );
}

function reportingText(reporting: ReportingState, status: Status): string {
  switch (reporting) {
    case 'enrolled':
      return status.sync.state === 'offline' ? 'Reports cannot reach IT right now; they are kept here and sent later.' : 'Reports from this laptop go to IT.';
    case 'not-enrolled':
      return 'This laptop is not connected to IT yet: nothing has been reported.';
    case 'no-collector':
      return 'No IT server is configured: everything stays on this laptop.';
    default:
      return assertNever(reporting, 'reporting state');
  }
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
  const baselineText = `${pointerBaselineText(base)} ${
    base.source === 'none' ? '' : 'Hold times and gaps are the middle value of the windows stored here.'
  }`.trim();
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
  const timeLabel = (at: number) => formatShortClock(at);
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
        base.moveRateOrigin === 'prior'
          ? `Pointer movement rate: shipped starting value ${formatHz(base.moveRateHz)} (not learned yet)`
          : `Pointer movement rate: your usual ${formatHz(base.moveRateHz)}`,
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
          h('summary', {}, 'What the remote-control check compares each window with'),
          h(
            'p',
            { class: 'note' },
            'Each measure starts at a typical value Telltale ships with (the "shipped starting value") and moves toward yours as it sees windows from this laptop.',
          ),
          h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              {},
              h('thead', {}, h('tr', {}, h('th', {}, 'Measure'), h('th', {}, 'Usual value'), h('th', {}, 'Where it comes from'))),
              h(
                'tbody',
                {},
                ...base.learned.map((feature) =>
                  h(
                    'tr',
                    { 'data-feature': feature.id, 'data-origin': feature.origin },
                    h('td', {}, feature.label),
                    h('td', {}, `${feature.usual}${feature.unit ? ` ${feature.unit}` : ''}`),
                    h('td', {}, feature.origin === 'learned' ? `learned on this laptop (${feature.windows} windows)` : 'shipped starting value (nothing learned yet)'),
                  ),
                ),
              ),
            ),
          ),
        )
      : null,
  ];
}

/** Where the pointer rate's "your usual" comes from, said honestly. */
function pointerBaselineText(base: Baseline): string {
  switch (base.moveRateOrigin) {
    case 'learned':
      return '"Your usual" pointer rate is learned on this laptop.';
    case 'prior':
      return '"Your usual" pointer rate is still the typical value Telltale ships with: no pointer movement has been learned on this laptop yet.';
    case 'stored-windows':
      return `"Your usual" pointer rate is the middle value of the ${base.windows} most recent windows stored here.`;
    case 'none':
      return 'No windows stored yet, so there is no "usual" to compare with.';
    default:
      return assertNever(base.moveRateOrigin, 'baseline origin');
  }
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
    ...mergeListeners(open).map((group) => findingCard(group, false)),
    view.closed.length > 0
      ? h(
          'details',
          { class: 'closed-findings', 'data-panel': 'closed-findings' },
          h('summary', {}, `${view.closed.length} earlier finding(s), no longer seen`),
          ...mergeListeners(view.closed).map((group) => findingCard(group, true)),
        )
      : null,
  ];
}

/** One card's findings: one finding, or the same tool listening on one port over IPv4 and IPv6. */
interface FindingGroup {
  readonly first: Finding;
  readonly all: readonly Finding[];
}

/**
 * A tool listening on 0.0.0.0:5900 and on [::]:5900 is one thing to the reader: the two listener
 * findings (same tool, port, severity and state) share one card.
 */
export function mergeListeners(findings: readonly Finding[]): FindingGroup[] {
  const groups: FindingGroup[] = [];
  const byListener = new Map<string, Finding[]>();
  for (const finding of findings) {
    const key = sameThingKey(finding);
    const list = byListener.get(key);
    if (list) {
      list.push(finding);
      continue;
    }
    const created = [finding];
    byListener.set(key, created);
    groups.push({ first: finding, all: created });
  }
  return groups;
}

function findingCard(group: FindingGroup, closed: boolean): HTMLElement {
  const finding = group.first;
  const addresses = group.all.map((item) => item.evidence.address).filter((address): address is string => typeof address === 'string');
  return h(
    'article',
    { class: `finding severity-${finding.severity}${closed ? ' closed' : ''}`, 'data-kind': finding.kind, 'data-merged': String(group.all.length) },
    h('header', {}, h('span', { class: `badge badge-${finding.severity}` }, finding.severity), h('h3', {}, finding.title)),
    h('p', { class: 'explanation' }, plainLocal(finding.explanation)),
    h('p', { class: 'why-it-matters' }, findingWhy(finding.kind)),
    group.all.length > 1 && addresses.length > 1 ? h('p', { class: 'note' }, `Listening on ${addresses.map(describeListenAddress).join(' and ')}.`) : null,
    h(
      'p',
      { class: 'when' },
      `First seen ${formatTime(finding.firstSeenAt)}; last seen ${formatTime(finding.lastSeenAt)}${finding.closedAt !== null ? `; ended ${formatTime(finding.closedAt)}` : ''}.`,
    ),
    h(
      'details',
      { class: 'evidence', 'data-panel': `evidence:${finding.key}:${closed ? finding.id : 'open'}` },
      h('summary', {}, 'Details (the evidence as reported)'),
      ...group.all.map((item) => evidenceList(item.evidence)),
    ),
  );
}

function describeListenAddress(address: string): string {
  if (address === '0.0.0.0') return 'every IPv4 network';
  if (address === '::' || address === '[::]') return 'every IPv6 network';
  return describeAddress(address);
}

/** Loopback addresses in a detector's sentence read as "this computer", not as another machine. */
export function plainLocal(text: string): string {
  return text
    .replace(/Another computer \((127(?:\.\d{1,3}){3}|::1)\)/g, 'A program on this computer ($1)')
    .replace(/\b(127(?:\.\d{1,3}){3})\b(?![^(]*\))/g, 'this computer ($1)');
}

function evidenceList(evidence: Evidence): HTMLElement {
  return h('dl', {}, ...Object.entries(evidence).flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, evidenceText(key, value))]));
}

function evidenceText(key: string, value: EvidenceValue): string {
  if (typeof value === 'string') return /address|peer|host/i.test(key) && isLocalAddress(value) ? describeAddress(value) : value;
  return JSON.stringify(value);
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
    readableReport(report),
    h('details', { class: 'payload', 'data-panel': `payload:${report.seq}` }, h('summary', {}, `Exact contents as sent, raw (${formatBytes(report.bytes)})`), h('pre', {}, report.payload)),
  );
}

interface ReadableBody {
  readonly kind?: unknown;
  readonly window?: { from?: unknown; to?: unknown };
  readonly findings?: readonly { title?: unknown; severity?: unknown; closedAt?: unknown }[];
  readonly timing?: readonly { keys?: { keystrokes?: unknown }; mouse?: { moves?: unknown } }[];
  readonly agentVersion?: unknown;
}

/** What a report told IT, as a small table; the raw JSON stays one click away. */
function readableReport(report: ReportEntry): HTMLElement | null {
  let body: ReadableBody;
  try {
    body = (JSON.parse(report.payload) as { body?: ReadableBody }).body ?? {};
  } catch {
    return null;
  }
  const findings = Array.isArray(body.findings) ? body.findings : [];
  const timing = Array.isArray(body.timing) ? body.timing : [];
  const sum = (pick: (item: (typeof timing)[number]) => unknown) => timing.reduce((total, item) => total + (typeof pick(item) === 'number' ? (pick(item) as number) : 0), 0);
  const from = typeof body.window?.from === 'number' ? body.window.from : null;
  const to = typeof body.window?.to === 'number' ? body.window.to : null;
  const rows: [string, Child][] = [
    ['Covers', from !== null && to !== null ? `${formatTime(from)} to ${formatTime(to)}` : '—'],
    [
      'What Telltale noticed',
      findings.length === 0
        ? 'nothing'
        : h('ul', {}, ...findings.map((finding) => h('li', {}, `${String(finding.title ?? '')} (${String(finding.severity ?? '')}${finding.closedAt ? ', ended' : ''})`))),
    ],
    ['Timing summaries', timing.length === 0 ? 'none' : `${timing.length} window${timing.length === 1 ? '' : 's'}: ${sum((item) => item.keys?.keystrokes)} keystrokes and ${sum((item) => item.mouse?.moves)} pointer movements counted (never which keys, never where)`],
    ['Telltale version', String(body.agentVersion ?? '—')],
  ];
  return h('table', { class: 'report-fields' }, h('tbody', {}, ...rows.map(([label, value]) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, value)))));
}

/** What IT looked at and did on this laptop, from the collector's signed audit entries. */
export function auditSection(view: AuditView): Child[] {
  const lead = h(
    'p',
    { class: 'lead' },
    'Every time someone in IT looks at this laptop\'s data or acts on it, the IT server records it in a log it cannot quietly change, and Telltale fetches the entries about this laptop and checks their signature. They are listed here, newest first.',
  );
  if (view.reporting !== 'enrolled') {
    return [lead, h('p', { class: 'empty' }, view.reporting === 'no-collector' ? 'No IT server is configured, so IT cannot see anything from this laptop.' : 'This laptop is not connected to IT yet, so IT has nothing of it to look at.')];
  }
  if (view.entries.length === 0) {
    return [lead, h('p', { class: 'empty' }, view.verified ? 'IT has not looked at or changed anything about this laptop so far.' : 'Nothing fetched from IT yet.')];
  }
  return [
    lead,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'audit' },
        h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Who'), h('th', {}, 'What'))),
        h('tbody', {}, ...view.entries.map(auditRow)),
      ),
    ),
    view.total > view.entries.length ? h('p', { class: 'note' }, `Showing the newest ${view.entries.length} of ${view.total}. The export below has them all.`) : null,
    h(
      'details',
      { class: 'learned', 'data-panel': 'audit-technical' },
      h('summary', {}, 'How these entries are checked'),
      h(
        'p',
        { class: 'note' },
        'The IT server signs the list with its own key; Telltale remembered that key the first time and refuses a list signed by any other. Each entry carries a fingerprint (hash) of its contents and of the entry before it, so an entry changed or removed later no longer matches.',
      ),
    ),
  ];
}

function auditRow(entry: AuditEntry): HTMLElement {
  const read = isAuditRead(entry.action);
  return h(
    'tr',
    { 'data-action': entry.action, 'data-seq': String(entry.seq), class: read ? 'audit-read' : 'audit-action' },
    h('td', {}, formatTime(entry.at)),
    h('td', {}, entry.actor),
    h('td', {}, h('span', { class: `kind-tag ${read ? 'kind-read' : 'kind-action'}` }, read ? 'read' : 'action'), ' ', auditActionWords(entry.action), entry.detail ? `: “${entry.detail}”` : ''),
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
      h('dt', {}, 'Questions about a finding'),
      h('dd', {}, policy.support.contact ?? 'Your IT department has not listed a contact here.'),
      h('dt', {}, 'Can you quit Telltale?'),
      h('dd', {}, policy.allowQuit ? 'Yes, from the tray menu.' : 'No, your IT policy keeps it running.'),
    ),
  ];
}
