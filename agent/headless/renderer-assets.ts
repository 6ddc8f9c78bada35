/**
 * The transparency view's static files (HTML, the bundled script, the stylesheet), held in memory.
 *
 * Running from a source checkout (`npm run agent`, where renderer/*.ts exists), the renderer is
 * bundled in memory with esbuild from the current sources, so the view never lags behind a stale
 * `dist/`. Otherwise (an installed build) it is read from the built tree made by scripts/build.mjs.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface RendererAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** URL path (e.g. "/renderer.js") to file. "/" maps to "/index.html". */
export type RendererAssets = ReadonlyMap<string, RendererAsset>;

const REPO_ROOT = path.resolve(import.meta.dirname ?? '.', '..', '..');
/** Where scripts/build.mjs writes the renderer. */
export const BUILT_RENDERER_DIR = path.join(REPO_ROOT, 'dist', 'renderer');
const SOURCE_RENDERER_DIR = path.join(REPO_ROOT, 'renderer');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

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

/**
 * True when this module runs as TypeScript source (tsx), false inside a bundle made by
 * scripts/build.mjs, which builds dist/renderer alongside: a bundled agent serves that and never
 * starts esbuild.
 */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** `dir` when given; else the current sources bundled in memory, or the built renderer where there are no sources. */
export async function loadRendererAssets(dir?: string): Promise<RendererAssets> {
  if (dir !== undefined) return readRendererDir(dir);
  if (!RUNNING_FROM_SOURCE || !fs.existsSync(path.join(SOURCE_RENDERER_DIR, 'main.ts'))) return readRendererDir(BUILT_RENDERER_DIR);
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(SOURCE_RENDERER_DIR, 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    outfile: 'renderer.js',
    logLevel: 'silent',
  });
  const assets = new Map<string, RendererAsset>();
  assets.set('/renderer.js', { body: Buffer.from(result.outputFiles[0]!.contents), contentType: CONTENT_TYPES['.js']! });
  for (const name of ['index.html', 'styles.css']) {
    assets.set(`/${name}`, { body: fs.readFileSync(path.join(SOURCE_RENDERER_DIR, name)), contentType: CONTENT_TYPES[path.extname(name)]! });
  }
  return assets;
}
