/**
 * Remote-control protocols recognised from the first bytes a listening socket exchanges.
 *
 * Pure functions over bytes so the decisions are testable without a network. The only thing ever
 * sent is `RDP_CONNECTION_REQUEST`, the first message of an RDP handshake, and only to a server
 * that stayed silent (RFB, SSH and NoMachine servers speak first).
 */

export type RemoteProtocol = 'rfb' | 'rdp' | 'ssh' | 'nomachine';
export const REMOTE_PROTOCOLS: readonly RemoteProtocol[] = ['rfb', 'rdp', 'ssh', 'nomachine'];

/** Human-readable protocol names for findings. */
export const PROTOCOL_LABEL: Readonly<Record<RemoteProtocol, string>> = {
  rfb: 'VNC (RFB)',
  rdp: 'Remote Desktop (RDP)',
  ssh: 'SSH',
  nomachine: 'NoMachine (NX)',
};

/** What a greeting identified: the protocol and a short, non-secret version string. */
export interface Recognised {
  readonly protocol: RemoteProtocol;
  readonly version: string;
}

/**
 * An X.224 Connection Request in a TPKT (MS-RDPBCGR 2.2.1.1) with an RDP negotiation request for
 * TLS and CredSSP, 19 bytes. Every RDP server (Windows TermService, xrdp, FreeRDP) answers it with
 * a Connection Confirm before any credentials are involved.
 */
export const RDP_CONNECTION_REQUEST = Uint8Array.from([
  0x03, 0x00, 0x00, 0x13, // TPKT: version 3, length 19
  0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, // X.224 CR TPDU: length 14, code 0xE0, dst/src ref, class 0
  0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // RDP_NEG_REQ: type 1, length 8, PROTOCOL_SSL | PROTOCOL_HYBRID
]);

/**
 * Recognise a server greeting (what arrived before we sent anything).
 * RFB: "RFB 003.008\n" (RFC 6143 7.1.1). SSH: "SSH-2.0-..." (RFC 4253 4.2), possibly after banner
 * lines. NoMachine's nxd greets with "NXD-<version>" on port 4000.
 */
export function recogniseGreeting(bytes: Uint8Array): Recognised | undefined {
  const text = Buffer.from(bytes.subarray(0, 512)).toString('latin1');
  const rfb = /^RFB (\d{3})\.(\d{3})\n/.exec(text);
  if (rfb) return { protocol: 'rfb', version: `${Number(rfb[1])}.${Number(rfb[2])}` };
  const ssh = /(?:^|\n)SSH-(\d\.\d+)-([\x21-\x7e]{1,64})/.exec(text);
  if (ssh) return { protocol: 'ssh', version: `${ssh[1]} ${ssh[2]}` };
  const nx = /^NXD-([\d.]{1,16})/.exec(text);
  if (nx) return { protocol: 'nomachine', version: nx[1]! };
  return undefined;
}

/**
 * Recognise the answer to `RDP_CONNECTION_REQUEST`: a TPKT (version 3) whose X.224 TPDU code is
 * Connection Confirm (0xD0). Servers that refuse the requested security still answer with a
 * confirm carrying RDP_NEG_FAILURE, which is as much an RDP server.
 */
export function recogniseRdpConfirm(bytes: Uint8Array): Recognised | undefined {
  if (bytes.length < 7 || bytes[0] !== 0x03 || bytes[1] !== 0x00) return undefined;
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (length < 11 || (bytes[5]! & 0xf0) !== 0xd0) return undefined;
  const negotiation = bytes.length >= 19 ? bytes[11] : undefined;
  const version = negotiation === 0x02 ? 'negotiated' : negotiation === 0x03 ? 'negotiation refused' : 'classic';
  return { protocol: 'rdp', version };
}
