/**
 * The headless view server over real HTTP on loopback: the token gate, the Host check against DNS
 * rebinding, the Origin check, the CSP on every response, schema validation of request payloads,
 * Server-Sent Events carrying bridge events, and the view service serving the built renderer
 * (scripts/test.mjs builds it first) or refusing to start without one.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { VIEW_CONTENT_SECURITY_POLICY } from '../../common/ipc-contract';
import { TelltaleError } from '../../common/result';
import { HeadlessViewService } from '../../agent/headless/headless-view-service';
import { ViewModel } from '../../agent/view/view-model';
import { ViewServer } from '../../agent/headless/view-server';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';
import { tempDir } from '../helpers/temp-dir';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const TOKEN = 'test-token-0123456789abcdefghijklmnop';

async function startServer(t: { after(fn: () => unknown): void }) {
  const ctx = testContext(t);
  const viewModel = new ViewModel(ctx, { mode: 'headless' });
  const assets = new Map([['/index.html', { body: Buffer.from('<!doctype html><title>t</title>'), contentType: 'text/html; charset=utf-8' }]]);
  const lines: string[] = [];
  const server = new ViewServer(ctx, { assets: async () => assets, viewModel, token: TOKEN, announce: (line) => lines.push(line) });
  await server.start();
  t.after(async () => {
    await server.stop();
    viewModel.dispose();
  });
  const port = server.port;
  const api = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    request(port, {
      method: 'POST',
      path,
      headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  return { ctx, server, port, lines, api };
}

describe('headless view server', () => {
  it('announces a loopback URL with a fresh random token in the fragment', async (t) => {
    const { lines, port } = await startServer(t);
    assert.match(lines[0]!, new RegExp(`^Transparency view: http://127\\.0\\.0\\.1:${port}/#token=${TOKEN}$`));
    const ctx = testContext(t);
    const viewModel = new ViewModel(ctx, { mode: 'headless' });
    const a = new ViewServer(ctx, { assets: async () => new Map(), viewModel, announce: () => undefined });
    const b = new ViewServer(ctx, { assets: async () => new Map(), viewModel, announce: () => undefined });
    await a.start();
    await b.start();
    t.after(async () => {
      await a.stop();
      await b.stop();
      viewModel.dispose();
    });
    const tokenOf = (url: string) => new URL(url).hash.replace('#token=', '');
    assert.ok(tokenOf(a.url).length >= 40);
    assert.notEqual(tokenOf(a.url), tokenOf(b.url));
  });

  it('answers API calls only with the right token (401 otherwise)', async (t) => {
    const { api, ctx } = await startServer(t);
    insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now(), 17)]);
    const good = await api('/api/call/getTiming', { limit: 5 });
    assert.equal(good.status, 200);
    const result = JSON.parse(good.body) as { ok: boolean; value: { windows: unknown[] } };
    assert.equal(result.ok, true);
    assert.equal(result.value.windows.length, 1);

    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`]) {
      const headers: Record<string, string> = authorization === undefined ? { Authorization: '' } : { Authorization: authorization };
      const reply = await api('/api/call/getTiming', {}, headers);
      assert.equal(reply.status, 401, `authorization ${String(authorization)}`);
      assert.ok(!reply.body.includes('keystrokes'));
    }
    const events = await api('/api/events', {}, { Authorization: 'Bearer nope' });
    assert.equal(events.status, 401);
  });

  it('refuses any Host but 127.0.0.1/localhost on its port (DNS rebinding), and foreign Origins', async (t) => {
    const { api, port } = await startServer(t);
    for (const host of ['evil.example.com', `evil.example.com:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `[::1]:${port}`]) {
      const reply = await api('/api/call/getOverview', {}, { Host: host });
      assert.equal(reply.status, 403, `host ${host}`);
      const page = await request(port, { path: '/', headers: { Host: host } });
      assert.equal(page.status, 403, `page with host ${host}`);
    }
    assert.equal((await api('/api/call/getOverview', {}, { Host: `localhost:${port}` })).status, 200);
    assert.equal((await api('/api/call/getOverview', {}, { Origin: 'http://evil.example.com' })).status, 401);
    assert.equal((await api('/api/call/getOverview', {}, { Origin: `http://127.0.0.1:${port}` })).status, 200);
  });

  it('sends the strict CSP and security headers on pages and API answers', async (t) => {
    const { api, port } = await startServer(t);
    const page = await request(port, { path: '/', headers: { Host: `127.0.0.1:${port}` } });
    assert.equal(page.status, 200);
    for (const reply of [page, await api('/api/call/getOverview', {}), await api('/api/call/getOverview', {}, { Authorization: '' })]) {
      assert.equal(reply.headers['content-security-policy'], VIEW_CONTENT_SECURITY_POLICY);
      assert.equal(reply.headers['x-content-type-options'], 'nosniff');
      assert.equal(reply.headers['referrer-policy'], 'no-referrer');
    }
    assert.doesNotMatch(VIEW_CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*/);
    assert.equal((await request(port, { path: '/../../etc/passwd', headers: { Host: `127.0.0.1:${port}` } })).status, 404);
  });

  it('validates payloads by schema (PAYLOAD_INVALID) and unknown channels (NOT_FOUND)', async (t) => {
    const { api, port } = await startServer(t);
    for (const [path, body] of [
      ['/api/call/getTiming', { limit: 0 }],
      ['/api/call/getTiming', { limit: 'ten' }],
      ['/api/call/getTiming', { limit: 5, extra: true }],
      ['/api/call/getOverview', { anything: 1 }],
      ['/api/call/getReports', [1, 2]],
    ] as const) {
      const reply = await api(path, body);
      const result = JSON.parse(reply.body) as { ok: boolean; error: { code: string } };
      assert.equal(result.ok, false, `${path} ${JSON.stringify(body)}`);
      assert.equal(result.error.code, 'PAYLOAD_INVALID');
    }
    const notJson = await request(port, {
      method: 'POST',
      path: '/api/call/getOverview',
      headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${TOKEN}` },
      body: '{not json',
    });
    assert.equal(notJson.status, 400);
    const unknown = await api('/api/call/dropTables', {});
    assert.equal(unknown.status, 404);
    assert.equal((JSON.parse(unknown.body) as { error: { code: string } }).error.code, 'NOT_FOUND');
    const wrongMethod = await request(port, { method: 'GET', path: '/api/call/getOverview', headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${TOKEN}` } });
    assert.equal(wrongMethod.status, 405);
    assert.equal((JSON.parse(wrongMethod.body) as { error: { code: string } }).error.code, 'METHOD_NOT_ALLOWED');
    const hasOwn = await api('/api/call/constructor', {});
    assert.equal(hasOwn.status, 404, 'prototype names are not channels');
  });

  it('streams bridge events as Server-Sent Events', async (t) => {
    const { ctx, port } = await startServer(t);
    const received = new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: '/api/events', headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${TOKEN}` } },
        (res) => {
          assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
            if (text.includes(': connected')) {
              const window = sampleWindow(ctx.clock.now(), 33);
              const [id] = insertTimingWindows(ctx.db, [window]);
              ctx.events.emit('windowFlushed', { id: id!, window });
            }
            if (text.includes('event: windowFlushed')) {
              req.destroy();
              resolve(text);
            }
          });
        },
      );
      req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
      req.end();
    });
    const text = await received;
    const frame = text.slice(text.indexOf('event: windowFlushed'));
    const data = JSON.parse(/data: (.*)\n/.exec(frame)![1]!) as { window: { keys: { keystrokes: number } } };
    assert.equal(data.window.keys.keystrokes, 33);
  });

  it('refuses to start without a built renderer, naming the build command in one line', async (t) => {
    const service = new HeadlessViewService(testContext(t), { rendererDir: tempDir(t), announce: () => undefined });
    await assert.rejects(service.start(), (error: unknown) => {
      assert.ok(error instanceof TelltaleError);
      assert.equal(error.code, 'VIEW_NOT_BUILT');
      assert.match(error.message, /^The transparency view is not built \(.*index\.html is missing\): run `node scripts\/build\.mjs` first\.$/);
      return true;
    });
    assert.equal(service.url, null);
  });

  it('serves the built renderer from dist/renderer', async (t) => {
    const service = new HeadlessViewService(testContext(t), { announce: () => undefined });
    await service.start();
    t.after(() => service.stop());
    const { port } = new URL(service.url!);
    const page = await request(Number(port), { path: '/', headers: { Host: `127.0.0.1:${port}` } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script src="renderer\.js"/);
    const script = await request(Number(port), { path: '/renderer.js', headers: { Host: `127.0.0.1:${port}` } });
    assert.equal(script.status, 200);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
  });
});
