/**
 * Linux scan change token: one readdir of /proc and the TCP socket counts of /proc/net/sockstat{,6};
 * /proc/net/tcp{,6} only when those counts moved. Against the full scan's several reads per process
 * and per open file descriptor.
 *
 * It changes when a process starts or exits (the set of pids, which /proc lists without threads),
 * when a listening TCP socket opens or closes, and when a connection into a listening port starts
 * or ends (an inbound remote session). It does not see a process that execs another program in
 * place, nor outbound connections (browsers churn them): the scan's fallback period covers those,
 * and a machine where the last scan found a tool is always scanned in full.
 *
 * Reading /proc/net/tcp walks the kernel's whole connection hash table, sized by memory, not by
 * the sockets open: about 3.4 ms of kernel CPU per file on a 24 GB machine, more than the rest of
 * an idle agent's period. The sockstat counts cost 0.02 ms, so the table is read only when the
 * number of TCP sockets in use changed; a socket closed and another opened within one period (same
 * count) waits for the scan's fallback period, like an exec in place.
 *
 * The two digests are apart because they ask for different work: new processes alone are checked
 * one by one (the service reads only those pids), while a socket change needs the behaviour scan.
 *
 * The kernel's proc connector (netlink process events) would report exec too, but needs
 * CAP_NET_ADMIN, which the agent does not run with, and a native socket Node does not offer.
 */
import fs from 'node:fs';
import { readProcNetTcpText } from '../sockets/linux';
import type { ScanChange } from './scan-change';

/** TCP states in /proc/net/tcp (include/net/tcp_states.h). */
const ESTABLISHED = '01';
const LISTEN = '0A';

/** What the scan looks at, as digests, or null when /proc cannot be read (the caller then scans). */
export function readScanChangeLinux(procRoot = '/proc'): ScanChange | null {
  let entries: string[];
  try {
    entries = fs.readdirSync(procRoot);
  } catch {
    return null;
  }
  // Order-independent digest of the pid set: count, sum and a mixed sum (collisions need two sets
  // with equal count and sums, which a start or exit between scans does not make).
  const pids: number[] = [];
  let sum = 0;
  let mixed = 0;
  for (const entry of entries) {
    const code = entry.charCodeAt(0);
    if (code < 48 || code > 57) continue;
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    pids.push(pid);
    sum += pid;
    mixed = (mixed + Math.imul(pid, 0x9e3779b1)) | 0;
  }
  return { processes: `${pids.length}.${sum}.${mixed >>> 0}`, sockets: tcpDigestWhenCountsMoved(procRoot), pids };
}

/** The last digest per /proc root and the socket counts it was taken at. */
const lastDigests = new Map<string, { readonly inUse: string; readonly digest: string }>();

function tcpDigestWhenCountsMoved(procRoot: string): string {
  const inUse = tcpSocketsInUse(procRoot);
  const last = lastDigests.get(procRoot);
  if (inUse !== null && last?.inUse === inUse) return last.digest;
  const digest = tcpDigest(procRoot);
  if (inUse !== null) lastDigests.set(procRoot, { inUse, digest });
  return digest;
}

/** "TCP: inuse N" of sockstat and "TCP6: inuse N" of sockstat6, or null when either is unreadable. */
function tcpSocketsInUse(procRoot: string): string | null {
  const counts: string[] = [];
  for (const [file, label] of [['sockstat', 'TCP'], ['sockstat6', 'TCP6']] as const) {
    let text: string;
    try {
      text = fs.readFileSync(`${procRoot}/net/${file}`, 'latin1');
    } catch {
      return null;
    }
    const match = new RegExp(`^${label}: inuse (\\d+)`, 'm').exec(text);
    if (match === null) return null;
    counts.push(match[1]!);
  }
  return counts.join('/');
}

/** Listening socket inodes and inbound connections (local port is a listening port), as text. */
function tcpDigest(procRoot: string): string {
  const listening: string[] = [];
  const listenPorts = new Set<string>();
  const established: { local: string; inode: string }[] = [];
  for (const file of ['tcp', 'tcp6'] as const) {
    const text = readProcNetTcpText(procRoot, file);
    if (text === null) continue;
    let start = text.indexOf('\n') + 1;
    while (start > 0 && start < text.length) {
      const end = text.indexOf('\n', start);
      const line = text.slice(start, end < 0 ? text.length : end);
      start = end < 0 ? text.length : end + 1;
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const state = fields[3]!.toUpperCase();
      const localPort = fields[1]!.slice(fields[1]!.lastIndexOf(':') + 1);
      if (state === LISTEN) {
        listening.push(fields[9]!);
        listenPorts.add(localPort);
      } else if (state === ESTABLISHED) {
        established.push({ local: localPort, inode: fields[9]! });
      }
    }
  }
  const inbound = established.filter((row) => listenPorts.has(row.local)).map((row) => row.inode);
  return `${listening.sort().join(',')}/${inbound.sort().join(',')}`;
}
