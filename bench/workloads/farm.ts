/**
 * Farm rows workload, on a real collector SQLite file (the collector's migrations): N devices with
 * a location each (1% of them in farms of five sharing a gateway hash, the rest alone), then
 *
 * - ingest: p50 and p99 of the correlation one report adds to ingest (recordLocation inside a write
 *   transaction: upsert the device's location, its egress finding, the walk of its cluster);
 *   baseline: a write transaction holding only the read and upsert of the location row.
 * - query: p50 and p99 of what GET /v1/farms reads (open clusters, then their members' hostnames).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CORRELATION, recordLocation } from '../../collector/location/correlate';
import { insertDevice } from '../../collector/storage/devices';
import { hostnamesOf, listOpenClusters, upsertDeviceLocation } from '../../collector/storage/locations';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import type { LocationBlock } from '../../common/location';
import { percentileOf } from '../lib/summary';
import { serve } from './protocol';

const hash = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
const block = (gateway: string): LocationBlock => ({ gatewayHash: hash(gateway), utcOffsetMinutes: 0, defaultRouteTunnel: false, interfaceKind: 'wired', unavailable: [] });

export interface FarmMeasure {
  /** p99 of each, ms. */
  readonly ingest: number;
  readonly bare: number;
  readonly query: number;
  /** p50 of the correlation and of the farm query, ms. */
  readonly ingestP50: number;
  readonly queryP50: number;
  readonly farms: number;
  readonly seedSeconds: number;
}

async function measure(devices: number, samples: number): Promise<FarmMeasure> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-bench-farm-'));
  const database = await openSqliteStorage(path.join(dir, 'collector.db'));
  try {
    const now = Date.now();
    const gatewayOf = (index: number) => (index < devices / 100 ? `farm-${Math.floor(index / 5)}` : `home-${index}`);
    const seedStart = process.hrtime.bigint();
    for (let start = 0; start < devices; start += 5000) {
      await database.transaction(async (tx) => {
        for (let index = start; index < Math.min(devices, start + 5000); index++) {
          const id = `dev-${index}`;
          await insertDevice(tx, { id, publicKey: `key-${index}`, hostname: `host-${index}`, platform: 'linux', agentVersion: 'bench', now });
          await upsertDeviceLocation(tx, {
            deviceId: id, gatewayHash: hash(gatewayOf(index)), bssidHash: null, ssidHash: null, subnetHash: null, timezone: null, utcOffsetMinutes: 0,
            defaultRouteTunnel: false, interfaceKind: 'wired', egressIp: `198.51.${(index >> 8) & 255}.${index & 255}`, egressAsn: null, egressOrg: null,
            egressCountry: null, egressHosting: false, seenAt: now,
          });
        }
      });
    }
    // Settle the farms once, as their reports would have.
    for (let index = 0; index < devices / 100; index += 5) {
      await database.transaction((tx) => recordLocation(tx, `dev-${index}`, block(gatewayOf(index)), null, now, DEFAULT_CORRELATION));
    }
    const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9;
    const ingest: number[] = [];
    const bare: number[] = [];
    const query: number[] = [];
    for (let sample = 0; sample < samples; sample++) {
      const index = Math.floor(Math.random() * devices);
      const id = `dev-${index}`;
      const location = block(gatewayOf(index));
      let start = process.hrtime.bigint();
      await database.transaction((tx) => recordLocation(tx, id, location, null, now + sample, DEFAULT_CORRELATION));
      ingest.push(Number(process.hrtime.bigint() - start) / 1e6);
      start = process.hrtime.bigint();
      await database.transaction(async (tx) => {
        await tx.get('SELECT device_id FROM device_locations WHERE device_id = ?', [id]);
        await upsertDeviceLocation(tx, {
          deviceId: id, gatewayHash: location.gatewayHash ?? null, bssidHash: null, ssidHash: null, subnetHash: null, timezone: null, utcOffsetMinutes: 0,
          defaultRouteTunnel: false, interfaceKind: 'wired', egressIp: null, egressAsn: null, egressOrg: null, egressCountry: null, egressHosting: false, seenAt: now + sample,
        });
      });
      bare.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (sample % 10 === 0) {
        start = process.hrtime.bigint();
        const clusters = await listOpenClusters(database, 100);
        await hostnamesOf(database, [...new Set(clusters.flatMap((cluster) => JSON.parse(cluster.members) as string[]))]);
        query.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
    const farms = (await listOpenClusters(database, 100_000)).length;
    return {
      ingest: percentileOf(ingest, 99),
      bare: percentileOf(bare, 99),
      query: percentileOf(query, 99),
      ingestP50: percentileOf(ingest, 50),
      queryP50: percentileOf(query, 50),
      farms,
      seedSeconds,
    };
  } finally {
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

serve({ measure: (args) => measure((args as { devices: number }).devices, (args as { samples: number }).samples) }, () => undefined);
