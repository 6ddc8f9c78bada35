/**
 * The transparency view's static files (HTML, the bundled script, the stylesheet), read from the
 * built renderer that scripts/build.mjs writes to dist/renderer. The agent never bundles the
 * renderer itself: esbuild is a build tool, not something the product may need at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TelltaleError } from '../../common/result';

export interface RendererAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** URL path (e.g. "/renderer.js") to file. "/" maps to "/index.html". */
export type RendererAssets = ReadonlyMap<string, RendererAsset>;

/**
 * Where scripts/build.mjs writes the renderer. Both this source file (agent/headless/) and the
 * bundled agent (dist/agent-cli/) sit two folders below the repository or install root.
 */
export const BUILT_RENDERER_DIR = path.join(path.resolve(import.meta.dirname ?? '.', '..', '..'), 'dist', 'renderer');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * Throws a one-line TelltaleError naming the build command when `dir` holds no built renderer, so
 * the agent refuses to start rather than serving a view that can only answer 404.
 */
export function assertRendererBuilt(dir: string): void {
  for (const name of ['index.html', 'renderer.js']) {
    if (!fs.existsSync(path.join(dir, name))) {
      throw new TelltaleError('VIEW_NOT_BUILT', `The transparency view is not built (${path.join(dir, name)} is missing): run \`node scripts/build.mjs\` first.`);
    }
  }
}

/** Every file in a built renderer folder (flat). */
export function readRendererDir(dir: string): RendererAssets {
  const assets = new Map<string, RendererAsset>();
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const type = CONTENT_TYPES[path.extname(name)];
    if (type === undefined || !fs.statSync(file).isFile()) continue;
    assets.set(`/${name}`, { body: fs.readFileSync(file), contentType: type });
  }
  return assets;
}
