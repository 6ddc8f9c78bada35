/**
 * The VPN category of the catalog: Astrill and the common consumer VPNs are known on all three
 * OSes, and a running one says in plain words that a VPN is hiding where the laptop is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CATALOG_OSES, loadCatalog, ProcessMatcher } from '../../agent/detect/catalog/catalog';
import { observationsFor } from '../../agent/detect/tool-scanner';

test('Astrill and the common consumer VPNs are catalogued on every OS', () => {
  const catalog = loadCatalog();
  const vpns = catalog.entries.filter((entry) => entry.category === 'vpn');
  assert.ok(vpns.length >= 15, `${vpns.length} VPN entries`);
  for (const os of CATALOG_OSES) assert.ok(vpns.filter((entry) => entry.processes[os].length > 0).length >= 10, `${os} has VPN process names`);
  const matcher = new ProcessMatcher(catalog, 'win32');
  assert.equal(matcher.match(['astrill.exe'])?.entry.id, 'astrill-vpn');
  assert.equal(new ProcessMatcher(catalog, 'linux').match(['nordvpnd'])?.entry.id, 'nordvpn');
});

test('a running VPN client is a medium finding that names the hidden location', () => {
  const entry = loadCatalog().entries.find((candidate) => candidate.id === 'astrill-vpn')!;
  const [running] = observationsFor(
    {
      entry,
      processes: [{ pid: 42, ppid: 1, uid: null, name: 'astrill.exe', exe: null, argv0: null, script: null, startedAt: null }],
      matchedName: 'astrill.exe',
      installedPaths: [],
      listening: [],
      sessions: [],
    },
    { approvedTools: [], platform: 'win32' },
  );
  assert.equal(running?.kind, 'remote-tool-running');
  assert.equal(running?.severity, 'medium');
  assert.match(running?.explanation ?? '', /a VPN is hiding where this laptop is/);
  assert.equal(running?.evidence.category, 'vpn');
});
