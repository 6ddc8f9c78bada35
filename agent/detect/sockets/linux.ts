/**
 * Linux sockets from /proc/net/tcp{,6}, mapped to processes through /proc/<pid>/fd.
 *
 * Mapping inodes to pids needs a readlink per open file descriptor, so it is done only for the pids
 * the caller asks about (processes that matched the catalog), never for the whole system.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SocketInfo, SocketState } from './socket-info';

export interface ProcNetTcpRow {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly state: SocketState | 'other';
  readonly uid: number;
  readonly inode: number;
}

/**
 * The texts of /proc/net/tcp{,6} while a scan shares them (`shareProcNetTcp`), by path; null: the
 * file could not be read. Each read costs the kernel a walk of its socket hash tables (about 4 ms
 * of CPU per file on the development machine, even for an empty tcp6), and one scan reads the
 * files for its change token, its tool sockets and its behaviour scan.
 */
let sharedTexts: Map<string, string | null> | null = null;

/**
 * Run `work` (one scan) with every /proc/net/tcp{,6} read in it answered from one read per file,
 * so the scan sees one consistent table. Nested calls join the outer one.
 */
export async function shareProcNetTcp<T>(work: () => Promise<T>): Promise<T> {
  if (sharedTexts !== null) return work();
  sharedTexts = new Map();
  try {
    return await work();
  } finally {
    sharedTexts = null;
  }
}

/** The text of /proc/net/`file` (tcp or tcp6) under procRoot, or null when unreadable. */
export function readProcNetTcpText(procRoot: string, file: 'tcp' | 'tcp6'): string | null {
  const filePath = path.join(procRoot, 'net', file);
  const shared = sharedTexts?.get(filePath);
  if (shared !== undefined) return shared;
  let text: string | null;
  try {
    text = fs.readFileSync(filePath, 'latin1');
  } catch {
    // No IPv6 in this kernel, or no /proc.
    text = null;
  }
  sharedTexts?.set(filePath, text);
  return text;
}

/** Kernel TCP states we care about (include/net/tcp_states.h). */
const STATES: Record<string, SocketState> = { '01': 'established', '0A': 'listen' };

/** Parse the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseProcNetTcp(text: string): ProcNetTcpRow[] {
  const rows: ProcNetTcpRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [localHex, remoteHex, stateHex] = [fields[1]!, fields[2]!, fields[3]!];
    const local = decodeAddress(localHex);
    const remote = decodeAddress(remoteHex);
    rows.push({
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: STATES[stateHex.toUpperCase()] ?? 'other',
      uid: Number(fields[7]),
      inode: Number(fields[9]),
    });
  }
  return rows;
}

/** "0100007F:170C" -> 127.0.0.1:5900. IPv4 is one little-endian word; IPv6 is four of them. */
export function decodeAddress(hex: string): { address: string; port: number } {
  const [addressHex, portHex] = hex.split(':') as [string, string];
  const port = Number.parseInt(portHex, 16);
  if (addressHex.length === 8) {
    const bytes = Buffer.from(addressHex, 'hex').reverse();
    return { address: [...bytes].join('.'), port };
  }
  const words: Buffer[] = [];
  for (let index = 0; index < 32; index += 8) words.push(Buffer.from(addressHex.slice(index, index + 8), 'hex').reverse());
  const bytes = Buffer.concat(words);
  // IPv4-mapped (::ffff:a.b.c.d) is shown in dotted form, like ss and netstat do.
  if (bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { address: `::ffff:${[...bytes.subarray(12)].join('.')}`, port };
  }
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(bytes.readUInt16BE(index).toString(16));
  return { address: compressIpv6(groups), port };
}

function compressIpv6(groups: string[]): string {
  const text = groups.join(':');
  // Replace the longest run of zero groups with "::".
  let best: RegExpExecArray | null = null;
  const pattern = /(^|:)0(:0)+(:|$)/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (!best || match[0].length > best[0].length) best = match;
  }
  if (!best) return text;
  return `${text.slice(0, best.index)}::${text.slice(best.index + best[0].length)}`;
}

/** Socket inodes held open by a pid (empty if the pid exited or is not ours to read). */
export function socketInodesOf(pid: number, procRoot = '/proc'): Set<number> {
  const inodes = new Set<number>();
  const dir = path.join(procRoot, String(pid), 'fd');
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return inodes;
  }
  for (const fd of entries) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(path.join(dir, fd)));
      if (match) inodes.add(Number(match[1]));
    } catch {
      // fd closed meanwhile.
    }
  }
  return inodes;
}

/** Listening and established TCP sockets of the given pids. */
export function listSocketsLinux(pids: readonly number[], procRoot = '/proc'): SocketInfo[] {
  if (pids.length === 0) return [];
  const rows: ProcNetTcpRow[] = [];
  for (const file of ['tcp', 'tcp6'] as const) {
    const text = readProcNetTcpText(procRoot, file);
    if (text !== null) rows.push(...parseProcNetTcp(text));
  }
  const byInode = new Map<number, ProcNetTcpRow>();
  for (const row of rows) if (row.state !== 'other' && row.inode !== 0) byInode.set(row.inode, row);
  const result: SocketInfo[] = [];
  for (const pid of pids) {
    for (const inode of socketInodesOf(pid, procRoot)) {
      const row = byInode.get(inode);
      if (!row || row.state === 'other') continue;
      result.push({
        pid,
        state: row.state,
        localAddress: row.localAddress,
        localPort: row.localPort,
        remoteAddress: row.remoteAddress,
        remotePort: row.remotePort,
      });
    }
  }
  return result;
}

/** Every TCP socket of this network namespace (listening and established), from /proc/net/tcp{,6}. */
export function readTcpTableLinux(procRoot = '/proc'): ProcNetTcpRow[] {
  const rows: ProcNetTcpRow[] = [];
  for (const file of ['tcp', 'tcp6'] as const) {
    const text = readProcNetTcpText(procRoot, file);
    if (text !== null) rows.push(...parseProcNetTcp(text));
  }
  return rows.filter((row) => row.state !== 'other' && row.inode !== 0);
}

/**
 * The pids holding the given socket inodes, as far as this user may read other processes' file
 * descriptors (all of them as root, only its own otherwise). Stops as soon as every inode is found.
 */
export function socketOwnersLinux(inodes: ReadonlySet<number>, procRoot = '/proc'): Map<number, number> {
  const owners = new Map<number, number>();
  if (inodes.size === 0) return owners;
  let entries: string[];
  try {
    entries = fs.readdirSync(procRoot);
  } catch {
    return owners;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    for (const inode of socketInodesOf(pid, procRoot)) if (inodes.has(inode) && !owners.has(inode)) owners.set(inode, pid);
    if (owners.size === inodes.size) break;
  }
  return owners;
}
