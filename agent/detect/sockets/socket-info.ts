/**
 * TCP sockets owned by processes: listening ports and established connections.
 */
export type SocketState = 'listen' | 'established';

export interface SocketInfo {
  readonly pid: number;
  readonly state: SocketState;
  readonly localAddress: string;
  readonly localPort: number;
  /** For listening sockets "0.0.0.0"/"::" and 0. */
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** Whether an address is loopback (127/8, ::1, ::ffff:127/8). */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
