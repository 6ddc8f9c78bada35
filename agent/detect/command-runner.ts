/**
 * The OS seam of the Windows and macOS probes: one function that runs a program and hands back its
 * exit code and output.
 *
 * The per-OS readers take a `CommandRunner` so unit tests can replay recorded outputs (a fake exec at
 * the OS seam) while the agent uses `execFileRunner`. Programs are always started with execFile, never
 * through a shell, so executable paths taken from running processes cannot inject commands.
 */
import { execFile } from 'node:child_process';

export interface CommandResult {
  /** Process exit code; non-zero is data (`codesign` exits 1 for an unsigned file), not an exception. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  /** Extra environment variables, merged over the agent's own (used to pass paths to PowerShell). */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the program after this long; default 20 s (system_profiler can take several seconds). */
  readonly timeoutMs?: number;
}

export type CommandRunner = (file: string, args: readonly string[], options?: CommandOptions) => Promise<CommandResult>;

/** Codes of `ProbeError`: the expected ways an OS probe fails. */
export type ProbeErrorCode = 'PROBE_COMMAND_MISSING' | 'PROBE_COMMAND_FAILED' | 'PROBE_OUTPUT_INVALID';

/**
 * An expected probe failure (a program missing, a non-zero exit where output was required, output
 * that does not have the documented shape).
 *
 * Kept local to the detectors rather than added to common/result's ErrorCode: the only handler is
 * DetectionService, which logs the message and keeps the previous findings open.
 */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';

  constructor(
    readonly code: ProbeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 20_000;

/** The real runner: execFile without a shell, 32 MB of output at most, no console window on Windows. */
export const execFileRunner: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      {
        encoding: 'utf8',
        maxBuffer: 32 * 1024 * 1024,
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        windowsHide: true,
        ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ exitCode: 0, stdout, stderr });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code as unknown;
        if (code === 'ENOENT') {
          reject(new ProbeError('PROBE_COMMAND_MISSING', `${file} is not available on this computer`));
          return;
        }
        if (typeof code === 'number' && !error.killed) {
          resolve({ exitCode: code, stdout, stderr });
          return;
        }
        reject(new ProbeError('PROBE_COMMAND_FAILED', `${file} failed: ${error.message}`));
      },
    );
  });

/** Run and require exit code 0; the output of a failed listing is never parsed as if it were empty. */
export async function runChecked(run: CommandRunner, file: string, args: readonly string[], options?: CommandOptions): Promise<string> {
  const result = await run(file, args, options);
  if (result.exitCode !== 0) {
    throw new ProbeError('PROBE_COMMAND_FAILED', `${file} exited with ${result.exitCode}: ${result.stderr.trim().slice(0, 200)}`);
  }
  return result.stdout;
}

/**
 * Parse JSON printed by PowerShell's ConvertTo-Json or system_profiler -json.
 *
 * ConvertTo-Json prints a bare object instead of a one-element array, and nothing at all for an empty
 * pipeline, so both are normalised to an array of records here.
 */
export function parseJsonRecords(text: string, what: string): Record<string, unknown>[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    throw new ProbeError('PROBE_OUTPUT_INVALID', `${what} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (!list.every((item): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item))) {
    throw new ProbeError('PROBE_OUTPUT_INVALID', `${what} is not a list of objects`);
  }
  return list;
}

/** A string field, or null when absent or not a string. */
export function stringField(record: Record<string, unknown>, key: string): string | null {
  const value = record[key];
  return typeof value === 'string' ? value : null;
}
