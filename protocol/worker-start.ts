/**
 * Starting a worker thread from a module file, from the built JavaScript or from the TypeScript
 * sources. Node 20 does not apply the parent's module hooks to a worker's entry module, so from the
 * sources (the collector runs under tsx) a one-line bootstrap registers tsx in the worker and then
 * imports the file.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The module `base` beside the module at `metaUrl`, with that module's own extension (`.ts` from the sources, `.js` built). */
export function siblingModule(metaUrl: string, base: string): string {
  const self = fileURLToPath(metaUrl);
  return path.join(path.dirname(self), `${base}${path.extname(self)}`);
}

/** Start `file` (from siblingModule) on a worker thread with `workerData`. */
export function startModuleWorker(file: string, workerData: unknown): Worker {
  if (!file.endsWith('.ts')) return new Worker(file, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); });`;
  // The parent's own flags load tsx's hooks, which a worker cannot take; its profiling flags still apply.
  return new Worker(bootstrap, { eval: true, execArgv: process.execArgv.filter((flag) => flag.startsWith('--cpu-prof')), workerData });
}
