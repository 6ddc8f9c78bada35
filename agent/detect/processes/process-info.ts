/**
 * A running process as the scanner sees it: identity and names only.
 *
 * Deliberately no full command line: arguments can carry secrets or document names. argv[0] and,
 * for interpreters, the script name are kept only to match against the catalog.
 */
export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number | null;
  /** Owner uid (Unix) or null when unknown (Windows). */
  readonly uid: number | null;
  /** Short name: Linux comm (15 chars), macOS/Windows image name. */
  readonly name: string;
  /** Full executable path when readable (other users' processes may hide it). */
  readonly exe: string | null;
  /** Basename of argv[0], when it differs from name. */
  readonly argv0: string | null;
  /** For interpreters (python, perl, sh, node): basename of the script they run. */
  readonly script: string | null;
  /** Start time, epoch ms, when known. */
  readonly startedAt: number | null;
}

const INTERPRETERS = /^(python[0-9.]*|perl[0-9.]*|ruby|node|nodejs|bash|sh|dash|java)$/;

/** Basename for both `/` and `\` separated paths. */
export function baseName(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] ?? file;
}

/** Whether a program name is an interpreter whose first argument names the real program. */
export function isInterpreter(name: string): boolean {
  return INTERPRETERS.test(name.toLowerCase());
}

/** Every name a process is known by, deduplicated, for catalog matching. */
export function processNames(process: ProcessInfo): string[] {
  const names = [process.exe ? baseName(process.exe) : null, process.argv0, process.name, process.script];
  return [...new Set(names.filter((name): name is string => name !== null && name !== ''))];
}
