/**
 * The preload's bridge, derived from common/ipc-contract.ts: one method per request channel, one
 * `on<Event>` per event channel. Kept apart from preload.ts (which only exposes it) so it can be
 * tested with a fake ipcRenderer under plain Node.
 *
 * Following Electron's security checklist, the renderer never gets ipcRenderer or an IPC event:
 * callbacks receive the payload alone, and only contract channels can be reached.
 */
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { buildBridge, ipcEventChannel, ipcRequestChannel, isResultShape, type TelltaleBridge } from '../common/ipc-contract';
import { fail } from '../common/result';

/** The part of ipcRenderer the bridge uses. */
export type IpcRendererLike = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

export function createPreloadBridge(ipc: IpcRendererLike): TelltaleBridge {
  return buildBridge(
    async (channel, request) => {
      const result: unknown = await ipc.invoke(ipcRequestChannel(channel), request);
      return isResultShape(result) ? result : fail('PAYLOAD_INVALID', `Unexpected answer to ${channel}`);
    },
    (channel, callback) => {
      const listener = (_event: IpcRendererEvent, payload: unknown) => callback(payload);
      ipc.on(ipcEventChannel(channel), listener);
      return () => {
        ipc.removeListener(ipcEventChannel(channel), listener);
      };
    },
  );
}
