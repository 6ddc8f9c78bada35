/**
 * Held-out check of the offline ASN database (the real @ip-location-db data): well-known ranges
 * must resolve to their operators. Uses TELLTALE_ASN_DATABASE_DIR when set, else the installed
 * packages; skips locally without either, fails in CI.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AsnDatabase, defaultAsnDatabaseDirs } from '../../collector/location/asn-database';
import { classifyEgress } from '../../collector/location/egress';
import { requireCondition } from '../helpers/tools';

test('well-known addresses resolve to their ASN and country', (t) => {
  const dirs = process.env.TELLTALE_ASN_DATABASE_DIR?.split(',') ?? defaultAsnDatabaseDirs();
  if (!requireCondition(t, dirs.length > 0, 'no ASN database: run npm ci (installs @ip-location-db/asn and -country) or set TELLTALE_ASN_DATABASE_DIR')) return;
  const database = AsnDatabase.load(dirs);
  const cases: [string, number, string][] = [
    ['8.8.8.8', 15169, 'US'], // Google Public DNS
    ['1.1.1.1', 13335, 'AU'], // Cloudflare (APNIC research range, registered in AU)
    ['9.9.9.9', 19281, 'US'], // Quad9 (its range sits in IBM's 9.0.0.0/8, registered in the US)
    ['208.67.222.222', 36692, 'US'], // OpenDNS (Cisco)
    ['2001:4860:4860::8888', 15169, 'US'], // Google Public DNS over IPv6
  ];
  for (const [ip, asn, country] of cases) {
    const record = database.lookup(ip);
    assert.equal(record?.asn, asn, `${ip} → AS${record?.asn} (${record?.organization})`);
    assert.equal(record?.country, country, `${ip} country`);
  }
  assert.equal(database.lookup('::ffff:8.8.8.8')?.asn, 15169, 'IPv4-mapped IPv6 is read as IPv4');
  assert.equal(database.lookup('not an address'), null);
  assert.equal(classifyEgress('8.8.8.8', database, false)?.hosting, true, 'Google is a hosting ASN');
  assert.equal(classifyEgress('192.168.1.10', database, false), null, 'private addresses are no egress by default');
});
