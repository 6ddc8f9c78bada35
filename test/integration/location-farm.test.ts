/**
 * Location correlation over real network separation: five real agents, each in its own network
 * namespace, report to one real collector in a "router" namespace. Three sit on one bridge behind
 * the same gateway (a known MAC); two have links of their own (other gateway MACs). The collector
 * must open exactly one possible-laptop-farm cluster, of exactly the three, and no raw gateway MAC
 * may appear in any agent or collector database, report, log or API response.
 *
 * Each agent reaches the collector through socat on its own 127.0.0.1 (agents speak plain HTTP to
 * loopback only); socat connects out through the namespace's default route, so the collector sees
 * each namespace's own address; `unshare --uts` gives each agent its own hostname (its own person).
 * Needs root, ip, unshare and socat: skipped with a message locally without
 * them, failed in CI.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { headlessEnv } from '../helpers/agent-process';
import { assertNoLocationIdentifier, type Haystack } from '../helpers/privacy';
import { tempDir } from '../helpers/temp-dir';
import { requireCondition, requireTools } from '../helpers/tools';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SECRET = 'netns-enrollment-secret';
const IT_TOKEN = 'netns-it-token-0123456789';
const FLEET_KEY = 'netns-fleet-key-0123456789abcdef0123';

function ip(args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr}`);
}

function inNamespace(namespace: string, args: string[]): void {
  ip(['netns', 'exec', namespace, ...args]);
}

/** Whether this process may create network namespaces (root, and no container forbids it). */
function canCreateNamespaces(probe: string): boolean {
  if (process.getuid?.() !== 0) return false;
  const added = spawnSync('ip', ['netns', 'add', probe]).status === 0;
  if (added) spawnSync('ip', ['netns', 'del', probe]);
  return added;
}

function spawnIn(t: TestContext, namespace: string, command: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output: () => string; stderr: () => string } {
  const child = spawn('ip', ['netns', 'exec', namespace, ...command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => out, stderr: () => err };
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function fileHaystacks(databasePath: string, label: string): Haystack[] {
  return ['', '-wal', '-shm']
    .map((suffix) => `${databasePath}${suffix}`)
    .filter((file) => fs.existsSync(file))
    .map((file) => ({ name: `${label} ${path.basename(file)}`, data: fs.readFileSync(file) }));
}

test('agents behind one gateway form exactly one farm cluster; no raw MAC leaves them', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['ip', 'socat', 'unshare', 'curl'])) return;
  const tag = `tt${process.pid % 100000}`;
  if (!requireCondition(t, canCreateNamespaces(`${tag}probe`), 'network namespaces need root (ip netns add failed)')) return;
  // A private /16 per run, from the pid, so parallel runs on one machine do not collide.
  const net = `10.${100 + (process.pid % 100)}`;
  const router = `${tag}r`;
  const agents = [1, 2, 3, 4, 5].map((index) => `${tag}a${index}`);
  const created: string[] = [];
  t.after(() => {
    for (const namespace of created.reverse()) spawnSync('ip', ['netns', 'del', namespace]);
  });
  for (const namespace of [router, ...agents]) {
    ip(['netns', 'add', namespace]);
    created.push(namespace);
    inNamespace(namespace, ['ip', 'link', 'set', 'lo', 'up']);
  }
  // The shared gateway: a bridge in the router namespace with a known MAC.
  const sharedGatewayMac = '02:7e:11:00:00:01';
  const ownGatewayMacs = ['02:7e:11:00:00:04', '02:7e:11:00:00:05'];
  inNamespace(router, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  inNamespace(router, ['ip', 'link', 'set', 'br0', 'address', sharedGatewayMac]);
  inNamespace(router, ['ip', 'addr', 'add', `${net}.1.1/24`, 'dev', 'br0']);
  inNamespace(router, ['ip', 'link', 'set', 'br0', 'up']);
  const collectorAddress = `${net}.1.1`;
  const agentAddresses: string[] = [];
  for (const [index, namespace] of agents.entries()) {
    const inside = `${tag}e${index}`;
    const outside = `${tag}p${index}`;
    ip(['link', 'add', inside, 'netns', namespace, 'type', 'veth', 'peer', 'name', outside, 'netns', router]);
    inNamespace(namespace, ['ip', 'link', 'set', inside, 'name', 'eth0']);
    if (index < 3) {
      inNamespace(router, ['ip', 'link', 'set', outside, 'master', 'br0']);
      inNamespace(namespace, ['ip', 'addr', 'add', `${net}.1.${11 + index}/24`, 'dev', 'eth0']);
      agentAddresses.push(`${net}.1.${11 + index}`);
      inNamespace(namespace, ['ip', 'link', 'set', 'eth0', 'up']);
      inNamespace(router, ['ip', 'link', 'set', outside, 'up']);
      inNamespace(namespace, ['ip', 'route', 'add', 'default', 'via', `${net}.1.1`]);
      inNamespace(namespace, ['ip', 'neigh', 'replace', `${net}.1.1`, 'lladdr', sharedGatewayMac, 'dev', 'eth0', 'nud', 'permanent']);
    } else {
      const subnet = `${net}.${index + 1}`;
      const mac = ownGatewayMacs[index - 3]!;
      inNamespace(router, ['ip', 'link', 'set', outside, 'address', mac]);
      inNamespace(router, ['ip', 'addr', 'add', `${subnet}.1/24`, 'dev', outside]);
      inNamespace(namespace, ['ip', 'addr', 'add', `${subnet}.2/24`, 'dev', 'eth0']);
      agentAddresses.push(`${subnet}.2`);
      inNamespace(namespace, ['ip', 'link', 'set', 'eth0', 'up']);
      inNamespace(router, ['ip', 'link', 'set', outside, 'up']);
      inNamespace(namespace, ['ip', 'route', 'add', 'default', 'via', `${subnet}.1`]);
      inNamespace(namespace, ['ip', 'neigh', 'replace', `${subnet}.1`, 'lladdr', mac, 'dev', 'eth0', 'nud', 'permanent']);
    }
  }

  const dir = tempDir(t);
  const collectorDb = path.join(dir, 'collector.db');
  const port = 20000 + (process.pid % 20000);
  const collector = spawnIn(t, router, [
    process.execPath,
    '--import',
    'tsx',
    path.join(ROOT, 'collector', 'server.ts'),
    '--host',
    '0.0.0.0',
    '--port',
    String(port),
    '--db',
    collectorDb,
    '--enrollment-secret',
    SECRET,
    '--it-token',
    IT_TOKEN,
    '--log-level',
    'info',
  ]);
  await until('the collector to listen', 60_000, () => (collector.output().includes('"listening"') ? true : undefined));

  const agentRuns = agents.map((namespace, index) => {
    spawnIn(t, namespace, ['socat', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `TCP:${collectorAddress}:${port}`]);
    const dataDir = path.join(dir, `agent-${index + 1}`);
    fs.mkdirSync(dataDir);
    const policy = path.join(dir, `policy-${index + 1}.json`);
    fs.writeFileSync(
      policy,
      JSON.stringify({
        collectorUrl: `http://127.0.0.1:${port}`,
        enrollmentSecret: SECRET,
        intervals: { reportSeconds: 10, heartbeatSeconds: 10 },
        location: { fleetKey: FLEET_KEY, probeSeconds: 30 },
      }),
    );
    // Each namespace is its own laptop of its own person: a UTS namespace gives it its own hostname.
    const agent = spawnIn(
      t,
      namespace,
      ['unshare', '--uts', 'sh', '-c', `hostname laptop-${index + 1} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', path.join(ROOT, 'agent', 'cli.ts'), '--policy', policy, '--data-dir', dataDir],
      headlessEnv(),
    );
    return { agent, dataDir };
  });

  const readDb = <T>(sql: string): T[] => {
    const database = new Database(collectorDb, { readonly: true, fileMustExist: true });
    try {
      return database.prepare(sql).all() as T[];
    } finally {
      database.close();
    }
  };
  // Every agent's location has reached the collector.
  await until('five located devices', 150_000, () => {
    if (!fs.existsSync(collectorDb)) return undefined;
    const rows = readDb<{ n: number }>('SELECT count(*) AS n FROM device_locations WHERE gateway_hash IS NOT NULL');
    return rows[0]!.n >= 5 ? true : undefined;
  });
  const locations = readDb<{ device_id: string; gateway_hash: string }>('SELECT device_id, gateway_hash FROM device_locations');
  const byGateway = new Map<string, string[]>();
  for (const row of locations) byGateway.set(row.gateway_hash, [...(byGateway.get(row.gateway_hash) ?? []), row.device_id]);
  assert.deepEqual([...byGateway.values()].map((ids) => ids.length).sort(), [1, 1, 3], 'three agents share one gateway hash');
  const shared = [...byGateway.values()].find((ids) => ids.length === 3)!.sort();

  const hostnames = readDb<{ hostname: string }>('SELECT hostname FROM devices').map((row) => row.hostname).sort();
  assert.deepEqual(hostnames, ['laptop-1', 'laptop-2', 'laptop-3', 'laptop-4', 'laptop-5']);
  const clusters = await until('the farm cluster', 30_000, () => {
    const open = readDb<{ members: string }>('SELECT members FROM farm_clusters WHERE closed_at IS NULL');
    return open.length > 0 ? open : undefined;
  });
  assert.equal(clusters.length, 1, 'one open cluster');
  assert.deepEqual(JSON.parse(clusters[0]!.members), shared, 'exactly the three agents behind the shared gateway');
  const findings = readDb<{ device_id: string }>("SELECT device_id FROM findings WHERE kind = 'possible-laptop-farm' AND closed_at IS NULL");
  assert.deepEqual(findings.map((row) => row.device_id).sort(), shared);

  // The IT API answers, from inside the router namespace.
  const api = (url: string) => spawnSync('ip', ['netns', 'exec', router, 'curl', '-s', '-H', `authorization: Bearer ${IT_TOKEN}`, `http://${collectorAddress}:${port}${url}`], { encoding: 'utf8' }).stdout;
  const farms = api('/v1/farms');
  assert.match(farms, /"farms":/);
  const haystacks: Haystack[] = [
    { name: 'GET /v1/farms', data: farms },
    ...locations.map((row) => ({ name: `GET /v1/devices/${row.device_id}/location`, data: api(`/v1/devices/${row.device_id}/location`) })),
    { name: 'GET /v1/findings/stream', data: api('/v1/findings/stream') },
    { name: 'collector reports', data: readDb<{ body: string }>('SELECT body FROM reports').map((row) => row.body).join('\n') },
  ];
  for (const run of agentRuns) run.agent.child.kill('SIGTERM');
  collector.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  haystacks.push(
    ...fileHaystacks(collectorDb, 'collector'),
    { name: 'collector log', data: collector.output() + collector.stderr() },
    ...agentRuns.flatMap((run, index) => [
      ...fileHaystacks(path.join(run.dataDir, 'telltale.db'), `agent ${index + 1}`),
      { name: `agent ${index + 1} stdout+stderr`, data: run.agent.output() + run.agent.stderr() },
    ]),
  );
  assert.ok(haystacks.some((haystack) => haystack.name.startsWith('agent 1 telltale.db')), 'the agent databases were read');
  assertNoLocationIdentifier(haystacks, { macs: [sharedGatewayMac, ...ownGatewayMacs] });
  // The scanner can see a leak.
  assert.throws(() => assertNoLocationIdentifier([{ name: 'planted', data: `gw=${sharedGatewayMac.toUpperCase().replace(/:/g, '-')}` }], { macs: [sharedGatewayMac] }), /planted contains/);
  assert.ok(agentAddresses.length === 5);
});
