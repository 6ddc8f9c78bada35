/**
 * The headless transparency view: the same renderer the tray app shows, served on loopback.
 *
 * - Binds 127.0.0.1 only, on a configured or random port.
 * - A fresh random token per start. The URL printed at startup carries it in the fragment
 *   (`http://127.0.0.1:PORT/#token=...`): fragments are never sent to servers, never logged by
 *   proxies, never put in Referer. The page reads it and sends `Authorization: Bearer <token>` on
 *   every API call; an API request without the right token gets 401. The static files (HTML, the
 *   bundled script, CSS) hold no data and are served without it, since a browser cannot attach a
 *   header to the first page load.
 * - The Host header must be 127.0.0.1:PORT or localhost:PORT (anything else: 403), which defeats
 *   DNS rebinding: a hostile page whose name re-resolves to 127.0.0.1 still sends its own Host.
 * - Every response carries the view's strict CSP and security headers.
 *
 * API: `POST /api/call/<channel>` with the JSON request, answered with the Result as JSON;
 * `GET /api/events`: Server-Sent Events, one `event: <channel>` per bridge event.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VIEW_SECURITY_HEADERS, type EventChannel, type EventOf } from '../../common/ipc-contract';
import { fail, type Result } from '../../common/result';
import type { AgentContext, AgentService } from '../context';
import { dispatchBridgeRequest } from '../view/bridge-dispatch';
import type { RendererAssets } from './renderer-assets';
import type { ViewModel } from '../view/view-model';

/** Largest request body accepted (every request is a tiny JSON object). */
const MAX_BODY_BYTES = 16 * 1024;
/** SSE comment sent this often so idle connections are not dropped and dead ones are noticed. */
const SSE_KEEPALIVE_MS = 15_000;

export interface ViewServerOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Loads the renderer's files; called on the first page request, so an unopened view costs nothing. */
  readonly assets: () => Promise<RendererAssets>;
  readonly viewModel: ViewModel;
  /** Where the startup line with the URL goes (default: an info line in the agent's log). */
  readonly announce?: (line: string) => void;
  /** Fixed token, for tests only; default: 32 random bytes per start. */
  readonly token?: string;
}

export class ViewServer implements AgentService {
  readonly name = 'view-server';
  private server: http.Server | null = null;
  private readonly token: string;
  private readonly streams = new Set<http.ServerResponse>();
  private unsubscribe: (() => void) | null = null;
  private keepalive: NodeJS.Timeout | null = null;
  private boundPort = 0;
  private assets: Promise<RendererAssets> | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly options: ViewServerOptions,
  ) {
    this.token = options.token ?? crypto.randomBytes(32).toString('base64url');
  }

  /** The view's URL with the token in the fragment; valid after start. */
  get url(): string {
    return `http://127.0.0.1:${this.boundPort}/#token=${this.token}`;
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        // A bug: log it with its stack, answer without internals.
        this.ctx.logger.log('error', 'View server request failed', { reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        if (!response.headersSent) send(response, 500, fail('INTERNAL', 'Internal error; see the agent log.'));
        else response.destroy();
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.unsubscribe = this.options.viewModel.subscribe((channel, payload) => this.broadcast(channel, payload));
    this.keepalive = setInterval(() => {
      for (const stream of this.streams) stream.write(': keepalive\n\n');
    }, SSE_KEEPALIVE_MS);
    this.keepalive.unref();
    // The URL (with its per-start token) is for the person at this machine: it goes to the local
    // log/stdout only. It is a capability for this process's lifetime, so a restart revokes it.
    if (this.options.announce) this.options.announce(`Transparency view: ${this.url}`);
    else this.ctx.logger.log('info', 'Transparency view: open this URL in a browser on this computer', { url: this.url, port: this.boundPort });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.keepalive) clearInterval(this.keepalive);
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (!this.hostAllowed(request.headers.host)) {
      send(response, 403, fail('SENDER_UNTRUSTED', 'Host not allowed.'));
      return;
    }
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${this.boundPort}`);
    if (url.pathname.startsWith('/api/')) {
      if (!this.tokenValid(request.headers.authorization) || !this.originAllowed(request.headers.origin)) {
        send(response, 401, fail('SENDER_UNTRUSTED', 'Missing or wrong token.'));
        return;
      }
      if (url.pathname === '/api/events' && request.method === 'GET') {
        this.openStream(response);
        return;
      }
      const match = /^\/api\/call\/([A-Za-z]+)$/.exec(url.pathname);
      if (match && request.method !== 'POST') {
        send(response, 405, fail('METHOD_NOT_ALLOWED', 'Bridge calls are POST requests.'));
        return;
      }
      if (match) {
        const body = await readBody(request);
        if (body === null) {
          send(response, 400, fail('PAYLOAD_INVALID', 'The request body must be JSON under 16 KiB.'));
          return;
        }
        const result = await dispatchBridgeRequest(this.options.viewModel, match[1], body);
        send(response, result.ok || result.error.code !== 'NOT_FOUND' ? 200 : 404, result);
        return;
      }
      send(response, 404, fail('NOT_FOUND', 'No such API.'));
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, fail('METHOD_NOT_ALLOWED', 'Method not allowed.'));
      return;
    }
    this.assets ??= this.options.assets();
    const asset = (await this.assets).get(url.pathname === '/' ? '/index.html' : url.pathname);
    if (asset === undefined) {
      send(response, 404, fail('NOT_FOUND', 'Not found.'));
      return;
    }
    response.writeHead(200, { ...VIEW_SECURITY_HEADERS, 'Content-Type': asset.contentType, 'Content-Length': asset.body.length });
    response.end(request.method === 'HEAD' ? undefined : asset.body);
  }

  private hostAllowed(host: string | undefined): boolean {
    return host === `127.0.0.1:${this.boundPort}` || host === `localhost:${this.boundPort}`;
  }

  /** Browsers send Origin on cross-origin requests; only our own origin may call the API. */
  private originAllowed(origin: string | undefined): boolean {
    return origin === undefined || origin === `http://127.0.0.1:${this.boundPort}` || origin === `http://localhost:${this.boundPort}`;
  }

  private tokenValid(authorization: string | undefined): boolean {
    const match = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(authorization ?? '');
    if (!match) return false;
    const given = Buffer.from(match[1]!);
    const expected = Buffer.from(this.token);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }

  private openStream(response: http.ServerResponse): void {
    response.writeHead(200, {
      ...VIEW_SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    response.write(': connected\n\n');
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  private broadcast<K extends EventChannel>(channel: K, payload: EventOf<K>): void {
    const frame = `event: ${channel}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const stream of this.streams) stream.write(frame);
  }
}

function send(response: http.ServerResponse, status: number, body: Result<unknown>): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...VIEW_SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** The parsed JSON body, `{}` when empty, or null when too large or not JSON. */
async function readBody(request: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
