/**
 * The IT dashboard: the page, script and stylesheet scripts/build.mjs bundles from collector/dashboard/
 * into dist/dashboard/ (`npm run collector` builds it first), read once at startup. Strict CSP: only
 * same-origin script, style and fetch; no inline code, no external resources. Without a build the API
 * still runs and `/` says how to build the dashboard.
 */
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';

export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ASSETS: readonly { route: string; file: string; type: string }[] = [
  { route: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { route: '/dashboard/dashboard.js', file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  { route: '/dashboard/dashboard.css', file: 'dashboard.css', type: 'text/css; charset=utf-8' },
];

const BUILT = new URL('../../dist/dashboard/', import.meta.url);

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  if (!fs.existsSync(new URL('dashboard.js', BUILT))) {
    app.log.warn('the dashboard is not built (node scripts/build.mjs --dashboard-only); serving the API only');
    app.get('/', async (_request, reply) => reply.code(503).type('text/plain; charset=utf-8').send('The dashboard is not built: run `node scripts/build.mjs --dashboard-only` (npm run collector does).\n'));
    return;
  }
  for (const asset of ASSETS) {
    const content = fs.readFileSync(new URL(asset.file, BUILT));
    app.get(asset.route, async (_request, reply) => {
      reply.header('content-security-policy', DASHBOARD_CSP).header('cache-control', 'no-store').type(asset.type);
      return content;
    });
  }
  // Browsers ask for it on every visit; an empty answer keeps consoles free of 404 noise.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
}
