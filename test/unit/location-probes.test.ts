/**
 * Location probes: per-OS parsers on recorded outputs (test/fixtures/location/SOURCE.md), the
 * fleet-keyed hashes, and whole probes replayed through their OS seams.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LocationBlockSchema, normalizeMac, ipv4Subnet } from '../../common/location';
import { Value } from '@sinclair/typebox/value';
import { locationHash, toLocationBlock } from '../../agent/location/fingerprint';
import { parseIwLink, parseNmcliWifi, parseProcNetArp, parseProcNetRoute, parseProcNetRouteSubnet } from '../../agent/location/linux';
import { parseArpA, parseNetshWlanInterfaces, parseRoutePrint, parseRoutePrintSubnet } from '../../agent/location/win32';
import { parseAirportInfo, parseDarwinArp, parseNetstatRnDefault, parseRouteGetDefault } from '../../agent/location/darwin';
import { probeLocation, type LocationSeams } from '../../agent/location/probe';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'location');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const KEY = 'fleet-key-for-tests-0123456789abcdef';

test('MACs are normalized from every OS spelling', () => {
  assert.equal(normalizeMac('00-1C-42-00-00-18'), '00:1c:42:00:00:18');
  assert.equal(normalizeMac('d0:3:4b:3b:27:d5'), 'd0:03:4b:3b:27:d5');
  assert.equal(normalizeMac('001c.4200.0018'), '00:1c:42:00:00:18');
  assert.equal(normalizeMac('ff-ff-ff-ff-ff-ff'), null);
  assert.equal(normalizeMac('(incomplete)'), null);
  assert.equal(ipv4Subnet('192.168.71.130', 24), '192.168.71.0/24');
});

test('location hashes are HMAC-SHA-256 of a labelled, normalized value: stable, keyed, spelling-blind', () => {
  const expected = crypto.createHmac('sha256', KEY).update('telltale-location-v1\ngateway\n00:1c:42:00:00:18').digest('hex');
  assert.equal(locationHash(KEY, 'gateway', '00-1C-42-00-00-18'), expected);
  assert.equal(locationHash(KEY, 'gateway', '0:1c:42:0:0:18'), expected, 'macOS spelling hashes the same');
  assert.notEqual(locationHash(`${KEY}x`, 'gateway', '00:1c:42:00:00:18'), expected, 'another fleet key, another hash');
  assert.notEqual(locationHash(KEY, 'bssid', '00:1c:42:00:00:18'), expected, 'kinds are domain-separated');
  // Pinned value: changing the scheme breaks every fleet's correlation, so it must be deliberate.
  assert.equal(locationHash('k'.repeat(32), 'ssid', 'HomeNet'), crypto.createHmac('sha256', 'k'.repeat(32)).update('telltale-location-v1\nssid\nHomeNet').digest('hex'));
});

test('Linux: /proc/net/route and /proc/net/arp (jc fixtures), iw and nmcli', () => {
  const route = parseProcNetRoute(fixture('linux/proc-net-route'));
  assert.deepEqual(route, { interface: 'ens33', gateway: '192.168.71.2' });
  assert.equal(parseProcNetRouteSubnet(fixture('linux/proc-net-route'), 'ens33'), '192.168.71.0/24');
  const arp = parseProcNetArp(fixture('linux/proc-net-arp'));
  assert.equal(arp.find((entry) => entry.address === '192.168.71.2')?.mac, '00:50:56:f7:4a:fc');
  assert.deepEqual(parseIwLink('Connected to 74:fe:ce:11:07:e7 (on wlp2s0)\n\tSSID: HomeNet\n\tfreq: 5240\n'), {
    interface: 'wlp2s0',
    bssid: '74:fe:ce:11:07:e7',
    ssid: 'HomeNet',
    connected: true,
  });
  assert.equal(parseIwLink('Not connected.\n').connected, false);
  assert.deepEqual(parseNmcliWifi('no:AA\\:BB\\:CC\\:DD\\:EE\\:01:Other\nyes:74\\:FE\\:CE\\:11\\:07\\:E7:My\\:Net\n'), {
    interface: null,
    bssid: '74:fe:ce:11:07:e7',
    ssid: 'My:Net',
    connected: true,
  });
});

test('Windows: route print (jc, real), arp -a and netsh wlan (synthesized)', () => {
  const routeText = fixture('win32/route-print.out');
  assert.deepEqual(parseRoutePrint(routeText), { gateway: '10.211.55.1', interface: '10.211.55.3' });
  assert.equal(parseRoutePrintSubnet(routeText, '10.211.55.3'), '10.211.55.0/24');
  const arp = parseArpA(fixture('win32/arp-a.synthesized.out'));
  assert.deepEqual(arp.find((entry) => entry.address === '10.211.55.1'), { address: '10.211.55.1', mac: '00:1c:42:00:00:18', interface: '10.211.55.3' });
  assert.equal(arp.some((entry) => entry.mac === 'ff:ff:ff:ff:ff:ff'), false);
  assert.deepEqual(parseNetshWlanInterfaces(fixture('win32/netsh-wlan-show-interfaces.synthesized.out')), {
    interface: 'Wi-Fi',
    ssid: 'HomeNet',
    bssid: '74:fe:ce:11:07:e7',
    connected: true,
  });
  assert.equal(parseNetshWlanInterfaces('There is 1 interface on the system:\n\n    Name : Wi-Fi\n    State : disconnected\n').connected, false);
});

test('macOS: route get, netstat -rn, arp -a (jc, real) and airport -I with and without permission', () => {
  assert.deepEqual(parseRouteGetDefault(fixture('darwin/route-get-default.synthesized.out')), { interface: 'en0', gateway: '192.168.1.254' });
  assert.deepEqual(parseNetstatRnDefault(fixture('darwin/netstat-rnl.out')), { interface: 'en0', gateway: '192.168.1.254' });
  const arp = parseDarwinArp(fixture('darwin/arp-a.out'));
  assert.equal(arp.find((entry) => entry.address === '192.168.1.99')?.mac, 'd0:03:4b:3b:27:d5');
  assert.deepEqual(parseAirportInfo(fixture('darwin/airport-I.out')), { interface: null, ssid: 'SnazzleDazzle', bssid: '3c:37:86:15:ad:f9', connected: true });
  const redacted = parseAirportInfo(fixture('darwin/airport-I-redacted.synthesized.out'));
  assert.deepEqual(redacted, { interface: null, ssid: null, bssid: null, connected: true });
});

/** Seams replaying recorded files and command outputs; unknown commands are "not installed". */
function seams(files: Record<string, string>, commands: Record<string, string>, interfaces: LocationSeams['interfaces'] = () => ({})): LocationSeams {
  return {
    readFile: async (file) => {
      const text = files[file];
      if (text === undefined) throw Object.assign(new Error(`ENOENT ${file}`), { code: 'ENOENT' });
      return text;
    },
    run: async (file, args) => {
      const out = commands[[file, ...args].join(' ')];
      if (out === undefined) throw new Error(`${file} is not available`);
      return { exitCode: 0, stdout: out, stderr: '' };
    },
    interfaces,
  };
}

test('whole probes: Linux Wi-Fi via iw, Windows wired, macOS Wi-Fi without Location permission', async () => {
  const linux = await probeLocation(
    'linux',
    seams(
      { '/proc/net/route': fixture('linux/proc-net-route'), '/proc/net/arp': fixture('linux/proc-net-arp'), '/sys/class/net/ens33/uevent': 'DEVTYPE=wlan\nINTERFACE=ens33\n' },
      { 'iw dev ens33 link': 'Connected to 74:fe:ce:11:07:e7 (on ens33)\n\tSSID: HomeNet\n' },
    ),
  );
  assert.equal(linux.gatewayMac, '00:50:56:f7:4a:fc');
  assert.equal(linux.bssid, '74:fe:ce:11:07:e7');
  assert.equal(linux.interfaceKind, 'wifi');
  assert.equal(linux.subnet, '192.168.71.0/24');

  const windows = await probeLocation(
    'win32',
    seams({}, { 'route print -4': fixture('win32/route-print.out'), 'arp -a': fixture('win32/arp-a.synthesized.out') }, () => ({
      Ethernet: [{ address: '10.211.55.3', netmask: '255.255.255.0', family: 'IPv4', mac: '00:1c:42:da:01:6a', internal: false, cidr: '10.211.55.3/24' }],
    })),
  );
  assert.equal(windows.gatewayMac, '00:1c:42:00:00:18');
  assert.equal(windows.interfaceKind, 'wired');
  assert.equal(windows.defaultRouteTunnel, false);

  const mac = await probeLocation(
    'darwin',
    seams(
      {},
      {
        'route -n get default': fixture('darwin/route-get-default.synthesized.out'),
        'arp -n 192.168.1.254': '? (192.168.1.254) at fc:ae:34:a1:3a:80 on en0 ifscope [ethernet]\n',
        '/System/Library/PrivateFrameworks/Apple80211.framework/Versions/Current/Resources/airport -I': fixture('darwin/airport-I-redacted.synthesized.out'),
      },
    ),
  );
  assert.equal(mac.gatewayMac, 'fc:ae:34:a1:3a:80');
  assert.equal(mac.bssid, null);
  assert.ok(mac.unavailable.some((reason) => /Location Services/.test(reason)), mac.unavailable.join('; '));

  const block = toLocationBlock(linux, KEY, new Date(0), 'Europe/Berlin');
  assert.ok(Value.Check(LocationBlockSchema, block));
  assert.equal(block.gatewayHash, locationHash(KEY, 'gateway', '00:50:56:f7:4a:fc'));
  const serialized = JSON.stringify(block);
  for (const raw of ['00:50:56:f7:4a:fc', '74:fe:ce:11:07:e7', 'HomeNet', '192.168.71']) assert.ok(!serialized.includes(raw), `${raw} must not leave the probe`);
});

test('a tunnel default route is reported as one', async () => {
  const route = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\ntun0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n';
  const raw = await probeLocation('linux', seams({ '/proc/net/route': route, '/sys/class/net/tun0/tun_flags': '0x1001\n' }, {}));
  assert.equal(raw.defaultRouteTunnel, true);
  assert.equal(raw.interfaceKind, 'tunnel');
});
