/**
 * A built transparency-view folder for the bundled agent variant, written from the agent's own
 * asset loader (agent/headless/renderer-assets.ts bundles renderer/ in memory from a source
 * checkout), so the bench does not duplicate the build recipe.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadRendererAssets } from '../../agent/headless/renderer-assets';
import { OUTPUT_DIR } from './children';

export async function writeRendererDir(): Promise<string> {
  const dir = path.join(OUTPUT_DIR, 'bench-build', 'renderer');
  fs.mkdirSync(dir, { recursive: true });
  for (const [urlPath, asset] of await loadRendererAssets()) fs.writeFileSync(path.join(dir, path.basename(urlPath)), asset.body);
  return dir;
}
