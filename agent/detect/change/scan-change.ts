/**
 * Whether anything a remote-tool scan looks at may have changed since the last scan, per OS, so a
 * scheduled scan that would find what the last one found is skipped (agent/detect/detection-service.ts).
 *
 * Each OS module returns cheap digests (ScanChange): equal ones mean no process started or exited
 * and no listening socket or inbound connection changed. Linux: agent/detect/change/linux.ts (a readdir of
 * /proc and /proc/net/tcp). Windows and macOS have no module yet and scan on the timer alone, as
 * before: their process-start events (WMI, kqueue) and socket tables are reached from Node only
 * through a spawned tool or a native helper, and spawning one per check costs more than it saves.
 */
import { readScanChangeLinux } from './linux';

/** What a scan looks at, as cheap digests; equal digests mean nothing of that kind changed. */
export interface ScanChange {
  /** The set of running processes: changes when one starts or exits. */
  readonly processes: string;
  /** Listening TCP sockets and the inbound connections to them. */
  readonly sockets: string;
  /** The running processes' ids, so a change in `processes` alone can be checked pid by pid. */
  readonly pids: readonly number[];
}

/** Reads what changed, or null when it cannot tell. */
export type ScanChangeReader = () => ScanChange | null;

/** The platform's reader, or undefined where scans run on the timer alone (Windows, macOS). */
export function scanChangeReaderFor(platform: NodeJS.Platform): ScanChangeReader | undefined {
  return platform === 'linux' ? () => readScanChangeLinux() : undefined;
}
