// Telltale collector dashboard: plain DOM, no dependencies, no inline code (strict CSP).
// The IT token comes from the URL fragment (#token=...) or the form, and is kept in sessionStorage
// only; the fragment is removed from the address bar at once so it does not linger in history.
'use strict';

(function dashboard() {
  const TOKEN_KEY = 'telltale.itToken';
  const byId = (id) => document.getElementById(id);

  function takeTokenFromFragment() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const token = params.get('token');
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      history.replaceState(null, '', window.location.pathname + window.location.search);
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  }

  function setStatus(text) {
    byId('status').textContent = text;
  }

  async function api(path) {
    const response = await fetch(path, { headers: { authorization: 'Bearer ' + token() }, cache: 'no-store' });
    if (!response.ok) {
      let message = response.status + ' ' + response.statusText;
      try {
        const body = await response.json();
        if (body && body.error) message = body.error.code + ': ' + body.error.message;
      } catch {
        // Keep the status line as the message.
      }
      throw new Error(message);
    }
    return response;
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === 'text') node.textContent = value;
      else if (name === 'className') node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function when(ms) {
    return new Date(ms).toLocaleString();
  }

  function riskBadge(device) {
    const label = device.silent ? (device.risk === 'high' ? 'high, silent' : 'silent') : device.risk;
    const style = device.risk === 'high' ? 'high' : device.silent ? 'silent' : device.risk;
    return element('span', { className: 'risk risk-' + style, text: label, 'data-risk': label });
  }

  let hostnames = new Map();

  async function loadDevices() {
    const { devices } = await (await api('/v1/devices')).json();
    hostnames = new Map(devices.map((device) => [device.id, device.hostname]));
    const body = byId('devices').querySelector('tbody');
    body.replaceChildren(
      ...devices.map((device) => {
        const open = element('button', { className: 'link', type: 'button', text: 'Reports (' + device.headSeq + ')' });
        open.addEventListener('click', () => showReports(device).catch(showError));
        return element('tr', { 'data-device': device.id }, [
          element('td', { text: device.hostname }),
          element('td', {}, [riskBadge(device)]),
          element('td', { text: String(device.openFindings) }),
          element('td', { text: when(device.lastSeenAt) }),
          element('td', {}, [open]),
        ]);
      }),
    );
  }

  const SIGNAL_WORDS = { gateway: 'same router', bssid: 'same Wi-Fi access point', 'egress-ip': 'same internet address' };

  async function loadFarms() {
    const { farms } = await (await api('/v1/farms')).json();
    byId('farms').hidden = farms.length === 0;
    byId('farms-empty').hidden = farms.length > 0;
    byId('farms').querySelector('tbody').replaceChildren(
      ...farms.map((farm) =>
        element('tr', { 'data-farm': String(farm.clusterId) }, [
          element('td', { text: String(farm.deviceCount) }),
          element('td', { text: farm.devices.map((device) => device.hostname || device.deviceId).join(', ') }),
          element('td', { text: when(farm.openedAt) }),
          element('td', {
            text: farm.sharedSignals.map((signal) => (SIGNAL_WORDS[signal.kind] || signal.kind) + ' (' + signal.deviceIds.length + ')').join(', '),
          }),
        ]),
      ),
    );
  }

  async function loadTimeline() {
    const text = await (await api('/v1/findings/stream?cursor=0&limit=500')).text();
    const findings = text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    findings.sort((a, b) => b.updatedAt - a.updatedAt);
    byId('timeline').replaceChildren(
      ...findings.map((finding) =>
        element('li', { className: 'severity-' + finding.severity + (finding.closedAt === null ? '' : ' closed'), 'data-kind': finding.kind }, [
          element('div', { className: 'when', text: when(finding.updatedAt) + ' · ' + (hostnames.get(finding.deviceId) || finding.deviceId) + ' · ' + finding.severity + (finding.closedAt === null ? '' : ' · closed') }),
          element('strong', { text: finding.title }),
          element('div', { text: finding.explanation }),
        ]),
      ),
    );
  }

  async function showReports(device) {
    const { reports, gaps } = await (await api('/v1/devices/' + encodeURIComponent(device.id) + '/reports?limit=50')).json();
    byId('reports-title').textContent = 'Reports from ' + device.hostname;
    const items = reports.map((report) => {
      const button = element('button', { className: 'link', type: 'button', text: '#' + report.seq + ' ' + report.kind + ' · received ' + when(report.receivedAt) });
      button.addEventListener('click', () => showReport(device, report.seq).catch(showError));
      return element('li', { 'data-seq': String(report.seq) }, [button]);
    });
    for (const gap of gaps.filter((row) => row.closedAt === null)) {
      items.push(element('li', { className: 'invalid', text: 'Missing reports ' + gap.fromSeq + '–' + gap.toSeq }));
    }
    byId('reports').replaceChildren(...items);
    byId('reports-section').hidden = false;
  }

  async function showReport(device, seq) {
    const report = await (await api('/v1/reports/' + encodeURIComponent(device.id) + '/' + seq)).json();
    const v = report.verification;
    const ok = v.signatureValid && v.hashMatches;
    byId('verification').replaceChildren(
      element('span', { className: ok ? 'valid' : 'invalid', id: 'signature-status', text: ok ? 'signature valid' : 'SIGNATURE INVALID' }),
      document.createTextNode(' · chain: ' + v.chain),
    );
    byId('report-meta').replaceChildren(
      element('dt', { text: 'Device' }), element('dd', { text: device.hostname + ' (' + report.deviceId + ')' }),
      element('dt', { text: 'Sequence' }), element('dd', { text: String(report.seq) }),
      element('dt', { text: 'SHA-256' }), element('dd', { text: report.hash }),
      element('dt', { text: 'Signature (Ed25519, base64url)' }), element('dd', { text: report.sig }),
      element('dt', { text: 'Received' }), element('dd', { text: when(report.receivedAt) }),
    );
    // textContent shows the canonical JSON byte for byte (no reformatting, nothing interpreted as HTML).
    byId('canonical').textContent = report.canonicalBody;
    byId('report-section').hidden = false;
  }

  function showError(error) {
    setStatus(error.message);
  }

  async function refresh() {
    if (!token()) {
      setStatus('Enter an IT token to connect.');
      return;
    }
    setStatus('Loading…');
    try {
      await loadDevices();
      await loadFarms();
      await loadTimeline();
      setStatus('Updated ' + new Date().toLocaleTimeString());
    } catch (error) {
      showError(error);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    takeTokenFromFragment();
    byId('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const value = byId('token').value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      byId('token').value = '';
      refresh();
    });
    byId('forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      setStatus('Token forgotten.');
    });
    refresh();
    setInterval(refresh, 30000);
  });
})();
