/**
 * The load generator for the collector rows: autocannon's programmatic API, in its own process so
 * it does not share an event loop with the server it measures (on 2 cores it still shares CPUs).
 *
 * Reports are generated up front in blocks of device chains (`reportsPerDevice` chained reports per
 * device). Each connection behaves like one agent at a time: it takes the next unused device of the
 * block and sends its reports in seq order, each only after the previous one was acknowledged
 * (autocannon's per-connection `requests` sequence with its context), then takes another device.
 * A measured run sends `devicesPerBlock × reportsPerDevice` requests (autocannon `amount`); blocks
 * carry spare devices because connections stop mid-chain. Every run uses a block no server has
 * seen, so every report is valid, new and in chain order.
 */
import fs from 'node:fs';
import autocannon from 'autocannon';
import { generateDeviceKeys, reportChain } from '../lib/report-fixtures';
import { serve } from './protocol';

/** blocks[b][d] is device d's chain of signed report JSON strings. */
let blocks: string[][][] = [];
let perRun = 0;
/** Spare devices per block: each connection may abandon one chain when the run stops. */
const SPARE_DEVICES = 60;

interface GenerateArgs {
  readonly blocks: number;
  readonly devicesPerBlock: number;
  readonly reportsPerDevice: number;
  /** Where to write the active devices (id + SPKI) for the server to seed. */
  readonly devicesFile: string;
}

function generate(args: GenerateArgs): { reports: number; bodyBytes: number } {
  const devices: { id: string; publicKey: string }[] = [];
  const start = Date.now() - 86_400_000;
  blocks = [];
  perRun = args.devicesPerBlock * args.reportsPerDevice;
  for (let b = 0; b < args.blocks; b++) {
    const chains: string[][] = [];
    for (let d = 0; d < args.devicesPerBlock + SPARE_DEVICES; d++) {
      const id = `bench-${b}-${d}`;
      const keys = generateDeviceKeys();
      devices.push({ id, publicKey: keys.publicKeySpki });
      chains.push(reportChain(id, keys, args.reportsPerDevice, start));
    }
    blocks.push(chains);
  }
  fs.writeFileSync(args.devicesFile, JSON.stringify(devices));
  const first = blocks[0]?.[0]?.[0] ?? '';
  return { reports: blocks.length * (args.devicesPerBlock + SPARE_DEVICES) * args.reportsPerDevice, bodyBytes: Buffer.byteLength(first) };
}

interface RunArgs {
  readonly url: string;
  readonly kind: 'hello' | 'json' | 'reports';
  readonly connections: number;
  /** For hello/json: how long to run. */
  readonly seconds?: number;
  /** For reports: which pre-generated block to send (all of it). */
  readonly block?: number;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly total: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
}

async function run(args: RunArgs): Promise<LoadResult> {
  const common = { url: args.url, connections: args.connections, pipelining: 1, timeout: 30 };
  let options: autocannon.Options;
  switch (args.kind) {
    case 'hello':
      options = { ...common, method: 'GET', duration: args.seconds ?? 3 };
      break;
    case 'json':
      options = {
        ...common,
        method: 'POST',
        duration: args.seconds ?? 3,
        headers: { 'content-type': 'application/json' },
        body: blocks[0]?.[0]?.[0] ?? '{}',
      };
      break;
    case 'reports': {
      const chains = blocks[args.block ?? 0];
      if (!chains) throw new Error(`no block ${args.block}`);
      let nextChain = 0;
      const length = chains[0]!.length;
      // Request i of the sequence sends report i of the connection's current device; the context is
      // per connection and starts empty at each pass through the sequence, when a new device is taken.
      // Should the spare devices run out, chain 0 is resent (the collector answers duplicate).
      const requests: autocannon.Request[] = Array.from({ length }, (_, index) => ({
        method: 'POST',
        setupRequest: (request: autocannon.Request, context: object) => {
          const state = context as { chain?: string[] };
          if (index === 0 || !state.chain) state.chain = chains[nextChain++] ?? chains[0]!;
          return { ...request, body: state.chain[index]! };
        },
      }));
      options = { ...common, method: 'POST', headers: { 'content-type': 'application/json' }, amount: perRun, requests };
      break;
    }
  }
  const started = Date.now();
  let guard: NodeJS.Timeout | undefined;
  let lastResponseAt = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, value) => (error ? reject(error) : resolve(value)));
    // An `amount` run only notices it is done on autocannon's 1 s ticker, so its own duration is
    // rounded up to whole seconds; the time of the last answer is the real end.
    instance.on('response', () => {
      lastResponseAt = Date.now();
    });
    // Bounded in time whatever happens: a stuck server cannot hold the bench.
    guard = setTimeout(() => instance.stop(), 120_000);
  });
  clearTimeout(guard);
  const seconds = (Date.now() - started) / 1000;
  const total = result.requests.total;
  const measured =
    args.kind === 'reports' ? (lastResponseAt - started) / 1000 : (new Date(result.finish).getTime() - new Date(result.start).getTime()) / 1000;
  return {
    requestsPerSecond: total / Math.max(measured, 1e-3),
    p50: result.latency.p50,
    p99: result.latency.p99,
    total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
  };
}

serve({ generate: (args) => generate(args as GenerateArgs), run: (args) => run(args as RunArgs) }, () => undefined);
