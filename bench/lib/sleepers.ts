/**
 * Extra processes for the scan-scaling rows: `sleep` children in their own process group, started
 * by one shell and killed as a group (and by the cleanup registry if the bench dies first).
 */
import type { ChildProcess } from 'node:child_process';
import { exited, onCleanup, sleep, spawnTracked } from './children';
import { countProcesses } from './proc';

export interface Sleepers {
  readonly count: number;
  stop(): Promise<void>;
}

/** Start `count` sleeps (they end by themselves after `lifetimeSeconds` at worst) and wait until they exist. */
export async function startSleepers(count: number, lifetimeSeconds = 300): Promise<Sleepers> {
  const before = countProcesses();
  const script = `i=0; while [ "$i" -lt ${count} ]; do sleep ${lifetimeSeconds} & i=$((i+1)); done; wait`;
  const shell: ChildProcess = spawnTracked('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    try {
      process.kill(-shell.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
    await exited(shell);
  };
  const unregister = onCleanup(stop);
  const deadline = Date.now() + 60_000;
  while (countProcesses() < before + count) {
    if (Date.now() > deadline) {
      await stop();
      unregister();
      throw new Error(`only ${countProcesses() - before} of ${count} sleep processes started within 60 s`);
    }
    await sleep(100);
  }
  return {
    count,
    async stop() {
      unregister();
      await stop();
      // Sleeps are reaped by init once the shell is gone; wait until the count is back down.
      const until = Date.now() + 10_000;
      while (countProcesses() > before + 20 && Date.now() < until) await sleep(100);
    },
  };
}
