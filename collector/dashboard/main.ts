/**
 * The IT dashboard: plain DOM, no framework, no inline code (strict CSP), bundled by
 * scripts/build.mjs into dist/dashboard/dashboard.js. The incident queue comes first (the newest high
 * incident is one click from its device page); the device list is sorted, filtered, searched and
 * paged by the server; a device page shows risk over time, its findings with triage buttons, notes
 * and the report chain with gaps; a report is shown as readable fields with the raw signed JSON one
 * click away. Nothing is ever fetched unpaginated.
 *
 * The IT token comes from the URL fragment (#token=...) or the form and is kept in sessionStorage
 * only; the fragment is removed from the address bar at once so it does not linger in history.
 */
import { AGENT_FINDING_KINDS, COLLECTOR_FINDING_KINDS, RISK_RANK, type RiskLevel } from '../../common/findings';
import type { ReportBody } from '../../common/report';
import type { DeviceView, Farm, FleetFinding, Incident, LinkKind, StoredReport } from '../schemas';

const TOKEN_KEY = 'telltale.itToken';
const DEVICE_PAGE = 50;

interface ReportSummary {
  seq: number;
  kind: string;
  createdAt: number;
  receivedAt: number;
  bytes: number;
}
interface Gap {
  fromSeq: number;
  toSeq: number;
  closedAt: number | null;
}
interface Note {
  at: number;
  author: string;
  text: string;
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found as T;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function button(text: string, onClick: () => Promise<void>, attributes: Record<string, string> = {}): HTMLButtonElement {
  const node = element('button', { type: 'button', text, ...attributes });
  node.addEventListener('click', () => {
    onClick().catch(showError);
  });
  return node;
}

/** Local time with its offset, so nobody guesses the timezone. */
function when(ms: number): string {
  const date = new Date(ms);
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${date.toLocaleString()} (UTC${sign}${hours}:${minutes})`;
}

function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function setStatus(text: string): void {
  byId('status').textContent = text;
}

function showError(error: unknown): void {
  setStatus(error instanceof Error ? error.message : String(error));
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const parsed = (await response.json()) as { error?: { code: string; message: string } };
      if (parsed.error) message = `${parsed.error.code}: ${parsed.error.message}`;
    } catch {
      // Keep the status line as the message.
    }
    throw new Error(message);
  }
  return (await response.json()) as T;
}

const get = <T>(path: string) => request<T>('GET', path);

function riskBadge(risk: RiskLevel, silent: boolean): HTMLElement {
  const label = silent ? (risk === 'high' ? 'high, silent' : 'silent') : risk;
  const style = risk === 'high' ? 'high' : silent ? 'silent' : risk;
  return element('span', { className: `risk risk-${style}`, text: label, 'data-risk': label });
}

function fillKinds(select: HTMLSelectElement): void {
  for (const kind of [...AGENT_FINDING_KINDS, ...COLLECTOR_FINDING_KINDS]) select.append(element('option', { value: kind, text: kind }));
}

// ---- incident queue ----

let incidentsBefore: number | null = null;

function incidentQuery(): string {
  const params = new URLSearchParams({ limit: '50' });
  const severity = byId<HTMLSelectElement>('incident-severity').value;
  const kind = byId<HTMLSelectElement>('incident-kind').value;
  if (severity) params.set('severity', severity);
  if (kind) params.set('kind', kind);
  return params.toString();
}

function incidentItem(incident: Incident): HTMLLIElement {
  const { finding } = incident;
  const open = button(`${incident.hostname}: ${finding.title}`, () => showDevice(finding.deviceId), { className: 'link' });
  const state = incident.triage === null ? 'new' : incident.triage.status + (incident.triage.assignee ? ` → ${incident.triage.assignee}` : '');
  return element('li', { className: `severity-${finding.severity}`, 'data-finding': String(finding.id), 'data-kind': finding.kind }, [
    element('div', { className: 'when', text: `${when(finding.updatedAt)} · ${finding.severity} · ${finding.kind} · ${state}` }),
    open,
  ]);
}

async function loadIncidents(append = false): Promise<void> {
  const query = incidentQuery();
  const page = await get<{ incidents: Incident[]; nextBefore: number | null }>(`/v1/incidents?${query}${append && incidentsBefore !== null ? `&before=${incidentsBefore}` : ''}`);
  const list = byId('incidents');
  const items = page.incidents.map(incidentItem);
  if (append) list.append(...items);
  else list.replaceChildren(...items);
  incidentsBefore = page.nextBefore;
  byId('incidents-older').hidden = page.nextBefore === null;
  const newest = await get<{ incidents: Incident[] }>('/v1/incidents?severity=high&limit=1');
  const top = newest.incidents[0];
  byId('newest-high').replaceChildren(top ? button(`${top.hostname}: ${top.finding.title} (${when(top.finding.updatedAt)})`, () => showDevice(top.finding.deviceId), { className: 'link', id: 'newest-high-link' }) : 'none');
  const summary = await get<{ total: number; byRisk: Record<string, number>; silent: number; retired: number }>('/v1/fleet/summary');
  byId('fleet-summary').textContent = `${summary.total} devices: ${summary.byRisk.high ?? 0} high, ${summary.byRisk.medium ?? 0} medium, ${summary.byRisk.low ?? 0} low; ${summary.silent} silent; ${summary.retired} retired`;
}

// ---- farms ----

const SIGNAL_WORDS: Readonly<Record<LinkKind, string>> = { gateway: 'same router', bssid: 'same Wi-Fi access point', 'egress-ip': 'same internet address' };

async function loadFarms(): Promise<void> {
  const { farms } = await get<{ farms: Farm[] }>('/v1/farms');
  byId('farms').hidden = farms.length === 0;
  byId('farms-empty').hidden = farms.length > 0;
  byId('farms')
    .querySelector('tbody')!
    .replaceChildren(
      ...farms.map((farm) => {
        const hosts = element(
          'td',
          {},
          farm.devices.map((device) => element('div', {}, [button(device.hostname || device.deviceId, () => showDevice(device.deviceId), { className: 'link' })])),
        );
        return element('tr', { 'data-farm': String(farm.clusterId) }, [
          element('td', { text: String(farm.deviceCount) }),
          hosts,
          element('td', { text: when(farm.openedAt) }),
          element('td', { text: farm.sharedSignals.map((signal) => `${SIGNAL_WORDS[signal.kind]} (${signal.deviceIds.length})`).join(', ') }),
        ]);
      }),
    );
}

// ---- device list ----

/** Cursors of the pages seen, so "first page" and the page number need no server state. */
let pageCursors: (string | null)[] = [null];
let nextCursor: string | null = null;

function deviceQuery(cursor: string | null): string {
  const params = new URLSearchParams({ limit: String(DEVICE_PAGE), sort: byId<HTMLSelectElement>('sort').value });
  const add = (name: string, value: string) => {
    if (value.trim() !== '') params.set(name, value.trim());
  };
  add('q', byId<HTMLInputElement>('search').value);
  add('risk', byId<HTMLSelectElement>('risk-filter').value);
  add('kind', byId<HTMLSelectElement>('kind-filter').value);
  add('silent', byId<HTMLSelectElement>('silent-filter').value);
  add('tag', byId<HTMLInputElement>('tag-filter').value);
  if (cursor !== null) params.set('cursor', cursor);
  return params.toString();
}

async function loadDevices(cursor: string | null): Promise<void> {
  const page = await get<{ devices: DeviceView[]; nextCursor: string | null }>(`/v1/devices?${deviceQuery(cursor)}`);
  byId('devices').querySelector('tbody')!.replaceChildren(
    ...page.devices.map((device) =>
      element('tr', { 'data-device': device.id }, [
        element('td', { text: device.hostname }),
        element('td', {}, [riskBadge(device.risk, device.silent)]),
        element('td', { text: String(device.openFindings) }),
        element('td', { text: when(device.lastSeenAt) }),
        element('td', { text: device.tags.join(', ') }),
        element('td', {}, [button('Open', () => showDevice(device.id), { className: 'link' })]),
      ]),
    ),
  );
  nextCursor = page.nextCursor;
  byId<HTMLButtonElement>('next-page').disabled = nextCursor === null;
  byId('page-number').textContent = `page ${pageCursors.length}`;
}

// ---- device page ----

let currentDevice: DeviceView | null = null;
let findingsBefore: number | null = null;
let reportsBefore: number | null = null;

/** A step line of the worst open severity over time, from the device's findings. */
function riskChart(findings: readonly FleetFinding[], now: number): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 600 120');
  svg.setAttribute('role', 'img');
  const start = Math.min(now - 3_600_000, ...findings.map((finding) => finding.firstSeenAt));
  const times = [...new Set([start, now, ...findings.flatMap((finding) => [finding.firstSeenAt, finding.closedAt ?? now])])].sort((a, b) => a - b);
  const rankAt = (time: number) => Math.max(-1, ...findings.filter((finding) => finding.firstSeenAt <= time && (finding.closedAt ?? Infinity) > time).map((finding) => RISK_RANK[finding.severity]));
  const x = (time: number) => ((time - start) / Math.max(1, now - start)) * 590 + 5;
  const y = (rank: number) => 110 - (rank + 1) * 25;
  let path = '';
  times.forEach((time, index) => {
    const rank = rankAt(time);
    path += index === 0 ? `M${x(time)},${y(rank)}` : `H${x(time)}V${y(rank)}`;
  });
  const line = document.createElementNS(ns, 'path');
  line.setAttribute('d', path);
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#c81e1e');
  line.setAttribute('stroke-width', '2');
  svg.append(line);
  for (const [label, rank] of Object.entries(RISK_RANK)) {
    const text = document.createElementNS(ns, 'text');
    text.setAttribute('x', '8');
    text.setAttribute('y', String(y(rank) - 2));
    text.setAttribute('font-size', '9');
    text.textContent = label;
    svg.append(text);
  }
  svg.setAttribute('aria-label', `Risk from ${when(start)} to now`);
  return svg;
}

/** A bar per timing window. */
function timingChart(values: readonly number[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 600 120');
  const max = Math.max(1, ...values);
  const width = 590 / Math.max(1, values.length);
  values.forEach((value, index) => {
    const bar = document.createElementNS(ns, 'rect');
    bar.setAttribute('x', String(5 + index * width));
    bar.setAttribute('width', String(Math.max(1, width - 1)));
    bar.setAttribute('y', String(115 - (value / max) * 105));
    bar.setAttribute('height', String((value / max) * 105));
    bar.setAttribute('fill', '#1e4fa3');
    svg.append(bar);
  });
  return svg;
}

function findingItem(finding: FleetFinding): HTMLLIElement {
  const reason = element('input', { type: 'text', placeholder: 'reason', 'aria-label': 'Resolve reason', className: 'resolve-reason' });
  const act = (verb: string, body: unknown) => async () => {
    await request('POST', `/v1/findings/${finding.id}/${verb}`, body);
    setStatus(`${verb}: done (recorded in the audit log)`);
    await loadIncidents();
  };
  return element('li', { className: `severity-${finding.severity}${finding.closedAt === null ? '' : ' closed'}`, 'data-kind': finding.kind, 'data-finding': String(finding.id) }, [
    element('div', { className: 'when', text: `${when(finding.firstSeenAt)} → ${finding.closedAt === null ? 'open' : `closed ${when(finding.closedAt)}`} · ${finding.severity} · ${finding.kind}` }),
    element('strong', { text: finding.title }),
    element('div', { text: finding.explanation }),
    element('div', { className: 'triage' }, [
      button('Acknowledge', act('acknowledge', {}), { className: 'acknowledge' }),
      reason,
      button('Resolve', async () => {
        if (reason.value.trim() === '') throw new Error('A reason is needed to resolve.');
        await act('resolve', { reason: reason.value.trim() })();
      }, { className: 'resolve' }),
      button('Reopen', act('reopen', {}), { className: 'reopen' }),
    ]),
  ]);
}

async function showDevice(deviceId: string): Promise<void> {
  const detail = await get<{ device: DeviceView; notes: Note[] }>(`/v1/devices/${encodeURIComponent(deviceId)}`);
  currentDevice = detail.device;
  const device = detail.device;
  byId('device-title').textContent = device.hostname;
  byId('device-meta').replaceChildren(
    riskBadge(device.risk, device.silent),
    ` ${device.platform} · agent ${device.agentVersion} · last seen ${when(device.lastSeenAt)} · ${device.openFindings} open · tags: ${device.tags.join(', ') || 'none'} · ${device.id}`,
  );
  byId('notes').replaceChildren(...detail.notes.map((note) => element('li', { text: `${when(note.at)} · ${note.author}: ${note.text}` })));
  findingsBefore = null;
  reportsBefore = null;
  await loadDeviceFindings(false);
  await loadReports(false);
  byId('report-section').hidden = true;
  const section = byId('device-section');
  section.hidden = false;
  section.scrollIntoView({ block: 'start' });
}

async function loadDeviceFindings(append: boolean): Promise<void> {
  if (!currentDevice) return;
  const page = await get<{ findings: FleetFinding[]; nextBefore: number | null }>(
    `/v1/devices/${encodeURIComponent(currentDevice.id)}/findings?limit=100${append && findingsBefore !== null ? `&before=${findingsBefore}` : ''}`,
  );
  const items = page.findings.map(findingItem);
  if (append) byId('timeline').append(...items);
  else byId('timeline').replaceChildren(...items);
  findingsBefore = page.nextBefore;
  byId('findings-older').hidden = page.nextBefore === null;
  if (!append) byId('risk-chart').replaceChildren(riskChart(page.findings, Date.now()));
}

async function loadReports(append: boolean): Promise<void> {
  if (!currentDevice) return;
  const device = currentDevice;
  const page = await get<{ reports: ReportSummary[]; gaps: Gap[] }>(
    `/v1/devices/${encodeURIComponent(device.id)}/reports?limit=50${append && reportsBefore !== null ? `&before=${reportsBefore}` : ''}`,
  );
  const items: HTMLLIElement[] = [];
  const openGaps = page.gaps.filter((gap) => gap.closedAt === null);
  for (const report of page.reports) {
    for (const gap of openGaps.filter((candidate) => candidate.toSeq + 1 === report.seq)) {
      items.push(element('li', { className: 'gap', text: `Missing reports ${gap.fromSeq}–${gap.toSeq}` }));
    }
    items.push(
      element('li', { 'data-seq': String(report.seq) }, [
        button(`#${report.seq} ${report.kind} · made ${when(report.createdAt)} · received ${when(report.receivedAt)} · ${report.bytes} bytes`, () => showReport(device, report.seq), { className: 'link' }),
      ]),
    );
  }
  if (append) byId('reports').append(...items);
  else byId('reports').replaceChildren(...items);
  const last = page.reports.at(-1);
  reportsBefore = page.reports.length === 50 && last ? last.seq : null;
  byId('reports-older').hidden = reportsBefore === null;
}

async function showReport(device: DeviceView, seq: number): Promise<void> {
  const report = await get<StoredReport>(`/v1/reports/${encodeURIComponent(device.id)}/${seq}`);
  const body = JSON.parse(report.canonicalBody) as ReportBody;
  const { verification } = report;
  const ok = verification.signatureValid && verification.hashMatches;
  byId('verification').replaceChildren(
    element('span', { className: ok ? 'valid' : 'invalid', id: 'signature-status', text: ok ? 'signature valid' : 'SIGNATURE INVALID' }),
    ` · chain: ${verification.chain}`,
  );
  const field = (name: string, value: string) => [element('dt', { text: name }), element('dd', { text: value })];
  byId('report-meta').replaceChildren(
    ...field('Device', `${device.hostname} (${report.deviceId})`),
    ...field('Sequence', String(report.seq)),
    ...field('Kind', body.kind),
    ...field('Made on the device', when(body.createdAt)),
    ...field('Covers', `${when(body.window.from)} to ${when(body.window.to)}`),
    ...field('Agent version', body.agentVersion),
    ...field('Findings', String(body.findings.length)),
    ...field('Timing windows', String(body.timing.length)),
    ...field('Received', when(report.receivedAt)),
    ...field('SHA-256', report.hash),
    ...field('Signature (Ed25519, base64url)', report.sig),
  );
  byId('report-findings').querySelector('tbody')!.replaceChildren(
    ...body.findings.map((finding) =>
      element('tr', {}, [
        element('td', { text: finding.severity }),
        element('td', { text: finding.kind }),
        element('td', { text: finding.title }),
        element('td', { text: when(finding.firstSeenAt) }),
        element('td', { text: finding.closedAt === null ? 'open' : when(finding.closedAt) }),
      ]),
    ),
  );
  byId('timing-chart').replaceChildren(timingChart(body.timing.map((window) => window.keys.dwell?.median ?? 0)));
  // textContent shows the canonical JSON byte for byte (no reformatting, nothing interpreted as HTML).
  byId('canonical').textContent = report.canonicalBody;
  const section = byId('report-section');
  section.hidden = false;
  section.scrollIntoView({ block: 'start' });
}

// ---- wiring ----

async function refresh(): Promise<void> {
  if (!token()) {
    setStatus('Enter an IT token to connect.');
    return;
  }
  setStatus('Loading…');
  try {
    await loadIncidents();
    await loadDevices(pageCursors.at(-1) ?? null);
    await loadFarms();
    setStatus(`Updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    showError(error);
  }
}

function start(): void {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const fromFragment = params.get('token');
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  fillKinds(byId<HTMLSelectElement>('kind-filter'));
  fillKinds(byId<HTMLSelectElement>('incident-kind'));
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('token');
    if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = '';
    void refresh();
  });
  byId('forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setStatus('Token forgotten.');
  });
  byId('device-controls').addEventListener('submit', (event) => {
    event.preventDefault();
    pageCursors = [null];
    loadDevices(null).catch(showError);
  });
  for (const id of ['sort', 'risk-filter', 'kind-filter', 'silent-filter']) {
    byId(id).addEventListener('change', () => {
      pageCursors = [null];
      loadDevices(null).catch(showError);
    });
  }
  for (const id of ['incident-severity', 'incident-kind']) byId(id).addEventListener('change', () => loadIncidents().catch(showError));
  byId('next-page').addEventListener('click', () => {
    if (nextCursor === null) return;
    pageCursors.push(nextCursor);
    loadDevices(nextCursor).catch(showError);
  });
  byId('first-page').addEventListener('click', () => {
    pageCursors = [null];
    loadDevices(null).catch(showError);
  });
  byId('incidents-older').addEventListener('click', () => loadIncidents(true).catch(showError));
  byId('findings-older').addEventListener('click', () => loadDeviceFindings(true).catch(showError));
  byId('reports-older').addEventListener('click', () => loadReports(true).catch(showError));
  byId('note-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('note-text');
    if (!currentDevice || input.value.trim() === '') return;
    request('POST', `/v1/devices/${encodeURIComponent(currentDevice.id)}/notes`, { text: input.value.trim() })
      .then(() => {
        input.value = '';
        return showDevice(currentDevice!.id);
      })
      .catch(showError);
  });
  void refresh();
  setInterval(() => void refresh(), 30_000);
}

document.addEventListener('DOMContentLoaded', start);
