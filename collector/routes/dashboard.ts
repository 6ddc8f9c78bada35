/**
 * The IT dashboard: a static page, script and stylesheet from collector/dashboard/, read once at
 * startup. Strict CSP: only same-origin script, style and fetch; no inline code, no external resources.
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

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  for (const asset of ASSETS) {
    const content = fs.readFileSync(new URL(`../dashboard/${asset.file}`, import.meta.url));
    app.get(asset.route, async (_request, reply) => {
      reply.header('content-security-policy', DASHBOARD_CSP).header('cache-control', 'no-store').type(asset.type);
      return content;
    });
  }
  // Browsers ask for it on every visit; an empty answer keeps consoles free of 404 noise.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
}
