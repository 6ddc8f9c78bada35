/**
 * Matching a socket to its kernel RTT entry: the same four-tuple, with IPv4-mapped IPv6 addresses
 * (`::ffff:1.2.3.4`) equal to their IPv4 spelling, since the socket table and the RTT source may
 * spell one connection either way.
 */
import type { ConnectionRtt } from './linux';

interface FourTuple {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** Whether two addresses name the same host, IPv4-mapped IPv6 included. */
export function sameAddress(a: string, b: string): boolean {
  const strip = (address: string) => address.replace(/^::ffff:/, '');
  return strip(a) === strip(b);
}

/** The RTT entry of `socket`'s connection, or null. */
export function findRtt(rtts: readonly ConnectionRtt[], socket: FourTuple): ConnectionRtt | null {
  return (
    rtts.find(
      (rtt) =>
        rtt.localPort === socket.localPort &&
        rtt.remotePort === socket.remotePort &&
        sameAddress(rtt.localAddress, socket.localAddress) &&
        sameAddress(rtt.remoteAddress, socket.remoteAddress),
    ) ?? null
  );
}
