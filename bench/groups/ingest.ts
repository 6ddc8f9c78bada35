/**
 * Collector ingest rows: verified-and-stored 2 KB reports per second with SQLite and with
 * PostgreSQL, against a bare Fastify hello-world and a Fastify that only parses the JSON body,
 * with p50/p99 latency, at 10 and 50 connections. All four servers run at once (each in its own
 * child) and are measured in turn within each run, so they share the same machine conditions.
 */
import fs from 'node:fs';
import { Workload } from '../lib/children';
import { collectorCounts, CPU_NOTE, devicesFilePath, postgresProblem, startServer, type BenchServer, type ServerKind } from '../lib/collector-servers';
import { unavailable, type Group, type RowSpec } from '../lib/group';
import { spreadOf, type Row, type Spread } from '../lib/summary';
import type { LoadResult } from '../workloads/load';

/**
 * A load result plus the server's own CPU per 1,000 answered requests: less sensitive than the rate
 * to how the two CPUs were shared between server and load generator.
 */
type Measured = LoadResult & { serverCpuPer1k: number };

const LEVELS = [10, 50] as const;
const LABEL: Record<ServerKind, string> = {
  hello: 'Fastify hello-world (GET)',
  json: 'Fastify JSON parse only (POST)',
  sqlite: 'collector, SQLite',
  postgres: 'collector, PostgreSQL',
};

/** The targets, at 10 connections: reports per second as a share of hello-world's requests, and SQLite's p99. */
const RATE_TARGETS = { sqlite: 0.1, postgres: 0.05 } as const;
const SQLITE_P99_TARGET_MS = 25;

function targetSpecs(): RowSpec[] {
  return [
    { name: `Ingest c=10: ${LABEL.sqlite} against hello-world`, targetText: `ratio ≥ ${RATE_TARGETS.sqlite}` },
    { name: `Ingest c=10: ${LABEL.sqlite}, p99 latency (target)`, targetText: `≤ ${SQLITE_P99_TARGET_MS} ms` },
    { name: `Ingest c=10: ${LABEL.postgres} against hello-world`, targetText: `ratio ≥ ${RATE_TARGETS.postgres}` },
  ];
}

function rowSpecs(): RowSpec[] {
  return [...targetSpecs(), ...LEVELS.flatMap((level) => [
    { name: `Ingest c=${level}: ${LABEL.hello}`, targetText: '— (ceiling)' },
    { name: `Ingest c=${level}: ${LABEL.json}`, targetText: '— (rate; vs hello)' },
    ...(['sqlite', 'postgres'] as const).flatMap((kind) => [
      { name: `Ingest c=${level}: ${LABEL[kind]}`, targetText: '— (rate; vs JSON parse)' },
      { name: `Ingest c=${level}: ${LABEL[kind]}, p50 latency`, targetText: '— (vs JSON parse)' },
      { name: `Ingest c=${level}: ${LABEL[kind]}, p99 latency`, targetText: '— (vs JSON parse)' },
      { name: `Ingest c=${level}: ${LABEL[kind]}, server CPU per 1,000 reports`, targetText: '— (vs JSON parse)' },
    ]),
  ])];
}

export const ingestGroup: Group = {
  name: 'ingest',
  rows: rowSpecs(),
  async run(context) {
    const runs = context.options.runs;
    const baselineSeconds = context.seconds(3, 1.5);
    const devicesPerBlock = context.options.quick ? 100 : 200;
    const reportsPerDevice = 10;
    const pgMissing = await postgresProblem();
    const kinds: ServerKind[] = pgMissing === null ? ['hello', 'json', 'sqlite', 'postgres'] : ['hello', 'json', 'sqlite'];
    const devicesFile = devicesFilePath('ingest');
    const load = await Workload.start('load', { maxLifetimeMs: 1_200_000 });
    const servers: BenchServer[] = [];
    try {
      const generated = await load.request<{ reports: number; bodyBytes: number }>(
        'generate',
        { blocks: 1 + runs * LEVELS.length, devicesPerBlock, reportsPerDevice, devicesFile },
        600_000,
      );
      context.log(`ingest: ${generated.reports} signed reports of ${generated.bodyBytes} B generated`);
      for (const kind of kinds) servers.push(await startServer(kind, { devicesFile }));
      const sent = new Map<ServerKind, number>();
      const results = new Map<string, Measured[]>();
      const measure = async (server: BenchServer, level: number, block: number): Promise<Measured> => {
        const collector = server.kind === 'sqlite' || server.kind === 'postgres';
        const cpuBefore = await server.workload.sample();
        const result = await load.request<LoadResult>('run', {
          url: server.kind === 'hello' ? `${server.url}/` : `${server.url}/v1/reports`,
          kind: server.kind === 'hello' ? 'hello' : collector ? 'reports' : 'json',
          connections: level,
          seconds: baselineSeconds,
          block,
        });
        if (collector) sent.set(server.kind, (sent.get(server.kind) ?? 0) + result.total);
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(`${server.kind} at c=${level}: ${result.non2xx} non-2xx, ${result.errors} errors of ${result.total}`);
        }
        const cpuAfter = await server.workload.sample();
        return { ...result, serverCpuPer1k: (cpuAfter.cpuUs - cpuBefore.cpuUs) / 1000 / (result.total / 1000) };
      };
      // Warm-up (JIT, connection pools, page cache): block 0 to each collector, a second to the others.
      for (const server of servers) await measure(server, 10, 0);
      for (let run = 0; run < runs; run++) {
        for (const [levelIndex, level] of LEVELS.entries()) {
          const block = 1 + run * LEVELS.length + levelIndex;
          const line: string[] = [];
          for (const server of servers) {
            const result = await measure(server, level, block);
            const key = `${server.kind}:${level}`;
            results.set(key, [...(results.get(key) ?? []), result]);
            line.push(`${server.kind} ${result.requestsPerSecond.toFixed(0)}/s p99 ${result.p99} ms`);
          }
          context.log(`ingest run ${run + 1} c=${level}: ${line.join(', ')}`);
        }
      }
      // Every report must have been stored as new and in order: no duplicates, no chain gaps.
      const checks: string[] = [];
      for (const server of servers) {
        if (server.kind !== 'sqlite' && server.kind !== 'postgres') continue;
        const counts = await collectorCounts(server);
        // A run stops after `amount` answers, so a few requests still in flight may be stored too.
        checks.push(`${server.kind}: ${counts.reports} reports stored for ${sent.get(server.kind) ?? 0} acknowledged, ${counts.gaps} chain gaps`);
        if (counts.gaps > 0 || counts.reports < (sent.get(server.kind) ?? 0)) context.log(`ingest: WARNING ${checks.at(-1)}`);
      }
      const notes = `${generated.bodyBytes} B signed reports; each connection acts as one device at a time sending its chain in order, ${devicesPerBlock * reportsPerDevice} reports (${reportsPerDevice} per device) per run; baselines ${baselineSeconds} s per run; ${checks.join('; ')}; ${CPU_NOTE}`;

      const of = (kind: ServerKind, level: number, pick: (result: Measured) => number): Spread | null => {
        const list = results.get(`${kind}:${level}`);
        return list ? spreadOf(list.map(pick)) : null;
      };
      const rows: Row[] = [];
      const [sqliteRate, sqliteP99, postgresRate] = targetSpecs() as [RowSpec, RowSpec, RowSpec];
      const hello10 = of('hello', 10, (r) => r.requestsPerSecond)!;
      for (const [spec, kind] of [[sqliteRate, 'sqlite'], [postgresRate, 'postgres']] as const) {
        const rate = of(kind, 10, (r) => r.requestsPerSecond);
        rows.push(
          rate === null
            ? unavailable('ingest', spec, `missing: ${pgMissing ?? kind}`)
            : { status: 'measured', group: 'ingest', name: spec.name, unit: 'reports/s', figure: rate, baselineName: 'hello', baseline: hello10, target: { kind: 'ratioAtLeast', value: RATE_TARGETS[kind] }, notes },
        );
      }
      const p99 = of('sqlite', 10, (r) => r.p99);
      rows.splice(1, 0, p99 === null ? unavailable('ingest', sqliteP99, 'missing: sqlite') : { status: 'measured', group: 'ingest', name: sqliteP99.name, unit: 'ms', figure: p99, baselineName: null, baseline: null, target: { kind: 'atMost', value: SQLITE_P99_TARGET_MS, unit: 'ms' }, notes });
      const specs = rowSpecs();
      let specIndex = targetSpecs().length;
      for (const level of LEVELS) {
        const hello = of('hello', level, (r) => r.requestsPerSecond)!;
        const json = of('json', level, (r) => r.requestsPerSecond)!;
        rows.push({ status: 'measured', group: 'ingest', name: specs[specIndex++]!.name, unit: 'req/s', figure: hello, baselineName: null, baseline: null, target: { kind: 'info' }, targetText: '— (ceiling)', notes });
        rows.push({ status: 'measured', group: 'ingest', name: specs[specIndex++]!.name, unit: 'req/s', figure: json, baselineName: 'hello', baseline: hello, target: { kind: 'info' }, targetText: '— (rate; vs hello)', notes });
        for (const kind of ['sqlite', 'postgres'] as const) {
          const rate = of(kind, level, (r) => r.requestsPerSecond);
          const p50 = of(kind, level, (r) => r.p50);
          const p99 = of(kind, level, (r) => r.p99);
          const cpu = of(kind, level, (r) => r.serverCpuPer1k);
          const names: [RowSpec, RowSpec, RowSpec, RowSpec] = [specs[specIndex++]!, specs[specIndex++]!, specs[specIndex++]!, specs[specIndex++]!];
          if (rate === null || p50 === null || p99 === null || cpu === null) {
            rows.push(...names.map((spec) => unavailable('ingest', spec, `missing: ${pgMissing ?? kind}`)));
            continue;
          }
          rows.push(
            { status: 'measured', group: 'ingest', name: names[0].name, unit: 'reports/s', figure: rate, baselineName: 'JSON parse', baseline: json, target: { kind: 'info' }, targetText: names[0].targetText, notes },
            { status: 'measured', group: 'ingest', name: names[1].name, unit: 'ms', figure: p50, baselineName: 'JSON parse', baseline: of('json', level, (r) => r.p50) ?? null, target: { kind: 'info' }, targetText: names[1].targetText, notes },
            { status: 'measured', group: 'ingest', name: names[2].name, unit: 'ms', figure: p99, baselineName: 'JSON parse', baseline: of('json', level, (r) => r.p99) ?? null, target: { kind: 'info' }, targetText: names[2].targetText, notes },
            { status: 'measured', group: 'ingest', name: names[3].name, unit: 'ms CPU', figure: cpu, baselineName: 'JSON parse', baseline: of('json', level, (r) => r.serverCpuPer1k) ?? null, target: { kind: 'info' }, targetText: names[3].targetText, notes },
          );
        }
      }
      return rows;
    } finally {
      await Promise.all(servers.map((server) => server.workload.stop(20_000)));
      await load.stop();
      fs.rmSync(devicesFile, { force: true });
    }
  },
};
