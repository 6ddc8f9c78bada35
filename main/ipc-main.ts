/**
 * The only place main touches ipcMain: typed handlers derived from common/ipc-contract.ts.
 *
 * Every handler first checks the sender (the top frame of a window we created, showing our own
 * `telltale://app/` page), then validates the payload against the channel's schema, and only then
 * forwards the request to the agent host. Each step fails with a coded Result the view can show:
 * SENDER_UNTRUSTED, PAYLOAD_INVALID. Events go out only to our own windows.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import {
  EVENTS,
  REQUEST_CHANNELS,
  VIEW_ORIGIN,
  ipcEventChannel,
  ipcRequestChannel,
  validateRequest,
  type EventChannel,
  type EventOf,
  type RequestChannel,
} from '../common/ipc-contract';
import { fail, type Result } from '../common/result';

/** The part of ipcMain used here (a fake with driver methods in unit tests). */
export type IpcMainLike = Pick<IpcMain, 'handle' | 'removeHandler'>;

/** The fields of an invoke event that sender validation reads. */
export type SenderEvent = Pick<IpcMainInvokeEvent, 'senderFrame'> & { readonly sender: Pick<WebContents, 'id'> };

/** Which WebContents ids belong to windows main created for the view. */
export interface TrustedWindows {
  has(webContentsId: number): boolean;
}

/**
 * A sender is trusted when it is one of our windows, the message comes from its top frame (not an
 * iframe), and that frame shows our own protocol's page (not something it navigated to).
 */
export function isTrustedSender(event: SenderEvent, windows: TrustedWindows): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  if (!windows.has(event.sender.id)) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  return `${url.protocol}//${url.host}` === VIEW_ORIGIN;
}

/** Sends a validated request on to whoever answers it (the agent host). */
export type ForwardRequest = (channel: RequestChannel, request: unknown) => Promise<Result<unknown>>;

/** Register one handler per request channel. Returns the function that removes them all. */
export function registerBridgeHandlers(ipc: IpcMainLike, windows: TrustedWindows, forward: ForwardRequest): () => void {
  for (const channel of REQUEST_CHANNELS) {
    ipc.handle(ipcRequestChannel(channel), async (event, payload: unknown): Promise<Result<unknown>> => {
      if (!isTrustedSender(event, windows)) return fail('SENDER_UNTRUSTED', `${channel} refused: the request did not come from the Telltale window.`);
      const request = validateRequest(channel, payload);
      if (!request.ok) return request;
      return forward(channel, request.value);
    });
  }
  return () => {
    for (const channel of REQUEST_CHANNELS) ipc.removeHandler(ipcRequestChannel(channel));
  };
}

/** Send one bridge event to a window's page. Payloads are the contract's event shapes only. */
export function sendBridgeEvent<K extends EventChannel>(target: Pick<WebContents, 'send' | 'isDestroyed'>, channel: K, payload: EventOf<K>): void {
  if (!Object.hasOwn(EVENTS, channel) || target.isDestroyed()) return;
  target.send(ipcEventChannel(channel), payload);
}
