/**
 * The built transparency view for the bundled agent variant, made by scripts/build.mjs as
 * `npm run agent` makes it, so the bench does not duplicate the build recipe.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BUILT_RENDERER_DIR } from '../../agent/headless/renderer-assets';
import { REPO_ROOT } from './children';

export async function writeRendererDir(): Promise<string> {
  const build = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs'), '--renderer-only', '--quiet'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`scripts/build.mjs --renderer-only failed: ${build.stderr}`);
  return BUILT_RENDERER_DIR;
}
