/**
 * The `telltale://app/` protocol the transparency window loads from, instead of file://: only the
 * built renderer's files, each with the view's CSP and security headers. Nothing else resolves.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Protocol } from 'electron';
import { VIEW_SCHEME, VIEW_SECURITY_HEADERS } from '../common/ipc-contract';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** Must run before app 'ready': a standard, secure scheme, so the page gets a real origin and CSP 'self' works. */
export function registerViewScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: VIEW_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false } }]);
}

/**
 * The file a view URL maps to, or null: host must be "app", the file must be directly inside
 * `rendererDir` (no traversal, no subfolders) and of a known type.
 */
export function resolveViewAsset(requestUrl: string, rendererDir: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${VIEW_SCHEME}:` || url.host !== 'app') return null;
  let name: string;
  try {
    name = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname).slice(1);
  } catch {
    return null;
  }
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)+$/.test(name)) return null;
  if (CONTENT_TYPES[path.extname(name)] === undefined) return null;
  const file = path.join(rendererDir, name);
  return path.dirname(file) === path.resolve(rendererDir) ? file : null;
}

export function handleViewProtocol(protocol: Pick<Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(VIEW_SCHEME, async (request) => {
    const file = resolveViewAsset(request.url, rendererDir);
    if (file === null || !fs.existsSync(file)) return new Response('Not found', { status: 404, headers: VIEW_SECURITY_HEADERS });
    const body = await fs.promises.readFile(file);
    return new Response(body, { status: 200, headers: { ...VIEW_SECURITY_HEADERS, 'Content-Type': CONTENT_TYPES[path.extname(file)]! } });
  });
}
