/**
 * Whether anything a remote-tool scan looks at may have changed since the last scan, per OS, so a
 * scheduled scan that would find what the last one found is skipped (agent/detect/detection-service.ts).
 *
 * Each OS module returns a cheap token; equal tokens mean no process started or exited and no
 * listening socket or inbound connection changed. Linux: agent/detect/change/linux.ts (a readdir of
 * /proc and /proc/net/tcp). Windows and macOS have no module yet and scan on the timer alone, as
 * before: their process-start events (WMI, kqueue) and socket tables are reached from Node only
 * through a spawned tool or a native helper, and spawning one per check costs more than it saves.
 */
import { scanChangeTokenLinux } from './linux';

/** Returns a token that changes with what the scan sees, or null when it cannot tell. */
export type ScanChangeToken = () => string | null;

/** The platform's change token, or undefined where scans run on the timer alone (Windows, macOS). */
export function scanChangeTokenFor(platform: NodeJS.Platform): ScanChangeToken | undefined {
  return platform === 'linux' ? () => scanChangeTokenLinux() : undefined;
}
