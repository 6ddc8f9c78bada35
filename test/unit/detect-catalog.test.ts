import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { loadCatalog, ProcessMatcher, type CatalogOs } from '../../agent/detect/catalog/catalog';
import { CATALOG_FILE, cleanDomain, cleanProcessName, generateFromRepo } from '../../tools/catalog/generate';

const catalog = loadCatalog();

describe('remote-tool catalog', () => {
  it('is regenerable: npm run catalog reproduces the committed file byte for byte', () => {
    assert.equal(generateFromRepo(), fs.readFileSync(CATALOG_FILE, 'utf8'));
  });

  it('has unique kebab-case ids and only clean names and domains', () => {
    const ids = catalog.entries.map((entry) => entry.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const entry of catalog.entries) {
      assert.match(entry.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      for (const os of ['win32', 'darwin', 'linux'] as const) {
        for (const name of entry.processes[os]) {
          assert.equal(name, name.toLowerCase(), `${entry.id} ${name}`);
          assert.doesNotMatch(name, /[\\/[\]]/, `${entry.id} ${name}`);
          assert.notEqual(name.replace(/[*.]|exe/g, ''), '', `${entry.id} wildcard-only ${name}`);
        }
        for (const item of entry.paths[os]) assert.doesNotMatch(item, /\*/, `${entry.id} path ${item}`);
      }
      for (const domain of entry.domains) {
        assert.doesNotMatch(domain, /example\.com$|user_managed|^\*?\.?$|:\d+$|[<>\s]/, `${entry.id} domain ${domain}`);
      }
    }
  });

  it('cleans LOLRMM noise', () => {
    assert.equal(cleanDomain('relay-[a-f0-9]{8}.net.anydesk.com:443'), 'relay-*.net.anydesk.com');
    assert.equal(cleanDomain('user_managed'), undefined);
    assert.equal(cleanDomain('*.example.com'), undefined);
    assert.equal(cleanDomain('*.*'), undefined);
    assert.equal(cleanDomain(''), undefined);
    assert.equal(cleanDomain('<operator-configured GLPI server>'), undefined);
    assert.equal(cleanProcessName('G2MHost.exee'), 'g2mhost.exe');
    assert.equal(cleanProcessName('*.exe'), undefined);
    assert.equal(cleanProcessName('dwm.exe'), undefined);
    assert.equal(cleanProcessName('C:\\x\\y.exe'), undefined);
  });

  // Tools named in DPRK IT-worker advisories (FBI/CISA 2024-2025), by the host-side process on each OS they run on.
  const advisoryTools: readonly [string, CatalogOs, string][] = [
    ['anydesk', 'win32', 'AnyDesk.exe'],
    ['anydesk', 'darwin', 'AnyDesk'],
    ['anydesk', 'linux', 'anydesk'],
    ['teamviewer', 'win32', 'TeamViewer_Service.exe'],
    ['teamviewer', 'darwin', 'TeamViewer'],
    ['teamviewer', 'linux', 'teamviewerd'],
    ['chrome-remote-desktop', 'win32', 'remoting_host.exe'],
    ['chrome-remote-desktop', 'darwin', 'remoting_me2me_host'],
    ['chrome-remote-desktop', 'linux', 'chrome-remote-desktop-host'],
    // Linux truncates comm to 15 characters: the prefix still matches.
    ['chrome-remote-desktop', 'linux', 'chrome-remote-d'],
    ['rustdesk', 'win32', 'rustdesk.exe'],
    ['rustdesk', 'darwin', 'RustDesk'],
    ['rustdesk', 'linux', 'rustdesk'],
    ['splashtop', 'win32', 'SRService.exe'],
    ['splashtop', 'darwin', 'Splashtop Streamer'],
    ['splashtop', 'linux', 'SRStreamer'],
    ['parsec', 'win32', 'parsecd.exe'],
    ['parsec', 'darwin', 'parsecd'],
    ['parsec', 'linux', 'parsecd'],
    ['logmein', 'win32', 'LogMeIn.exe'],
    ['logmein', 'darwin', 'LogMeIn'],
    ['gotomypc', 'win32', 'g2svc.exe'],
    ['gotomypc', 'darwin', 'GoToMyPC'],
    ['goto-resolve', 'win32', 'GoToResolveUnattended.exe'],
    ['screenconnect', 'win32', 'ScreenConnect.ClientService.exe'],
    ['screenconnect', 'darwin', 'connectwisecontrol-1a2b3c4d5e6f7a8b'],
    ['screenconnect', 'linux', 'connectwisecontrol-1a2b3c4d5e6f7a8b'],
    ['x11vnc', 'linux', 'x11vnc'],
    ['tigervnc', 'linux', 'Xtigervnc'],
    ['gnome-remote-desktop', 'linux', 'gnome-remote-desktop-daemon'],
    ['xrdp', 'linux', 'xrdp'],
    ['freerdp-shadow', 'linux', 'freerdp-shadow-cli'],
    ['nomachine', 'linux', 'nxserver.bin'],
    ['macos-screen-sharing', 'darwin', 'screensharingd'],
  ];
  for (const [id, os, processName] of advisoryTools) {
    it(`matches ${processName} on ${os} as ${id}`, () => {
      const match = new ProcessMatcher(catalog, os).match([processName]);
      assert.equal(match?.entry.id, id);
    });
  }

  it('does not match ordinary processes', () => {
    const ordinary: readonly [CatalogOs, string][] = [
      ['linux', 'bash'], ['linux', 'systemd'], ['linux', 'Xorg'], ['linux', 'gnome-shell'], ['linux', 'node'], ['linux', 'firefox'],
      ['linux', 'sshd'], ['linux', 'chrome'], ['darwin', 'Finder'], ['darwin', 'WindowServer'], ['darwin', 'loginwindow'],
      ['win32', 'explorer.exe'], ['win32', 'svchost.exe'], ['win32', 'dwm.exe'], ['win32', 'chrome.exe'], ['win32', 'Code.exe'],
      ['win32', 'msedge.exe'], ['win32', 'powershell.exe'], ['win32', 'lsass.exe'],
    ];
    for (const [os, name] of ordinary) {
      assert.equal(new ProcessMatcher(catalog, os).match([name]), undefined, `${os} ${name}`);
    }
  });
});
