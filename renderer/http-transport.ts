/**
 * The bridge over loopback HTTP, used when the view is served by the headless agent (there is no
 * `window.telltale` from a preload). Same contract, same bridge shape as in Electron.
 *
 * The token arrives in the URL fragment (`#token=...`), which the browser never sends to a server.
 * It is moved to sessionStorage (so a reload keeps working) and removed from the address bar, then
 * sent as `Authorization: Bearer` on every call. Events come from one Server-Sent Events stream,
 * read with fetch so the token can travel in a header rather than in the URL.
 */
import { buildBridge, isEventChannel, isResultShape, type EventChannel, type TelltaleBridge } from '../common/ipc-contract';
import { fail, type Result } from '../common/result';

const TOKEN_KEY = 'telltale.token';
const RECONNECT_MS = 2000;

/** Connection state of the event stream, for the view's "live" indicator. */
export type LiveState = 'connecting' | 'live' | 'reconnecting';

/** Read the token from the fragment (first load) or sessionStorage (reloads); null when absent. */
export function takeToken(): string | null {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, match[1]!);
    history.replaceState(null, '', location.pathname + location.search);
    return match[1]!;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function createHttpBridge(token: string, onLiveState: (state: LiveState) => void = () => undefined): TelltaleBridge {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
  let streaming = false;

  async function invoke(channel: string, request: unknown): Promise<Result<unknown>> {
    let response: Response;
    try {
      response = await fetch(`/api/call/${channel}`, { method: 'POST', headers, body: JSON.stringify(request), cache: 'no-store' });
    } catch {
      return fail('AGENT_UNAVAILABLE', 'The Telltale agent on this computer is not answering. Is it still running?');
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return fail('PAYLOAD_INVALID', `The agent answered ${response.status} without a readable body.`);
    }
    return isResultShape(body) ? body : fail('PAYLOAD_INVALID', 'The agent answered in an unexpected shape.');
  }

  async function stream(): Promise<void> {
    for (;;) {
      try {
        const response = await fetch('/api/events', { headers: { Authorization: headers.Authorization }, cache: 'no-store' });
        if (!response.ok || !response.body) throw new Error(`events ${response.status}`);
        onLiveState('live');
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            deliver(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // The agent restarted or stopped: fall through and retry.
      }
      onLiveState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  function deliver(frame: string): void {
    let event = '';
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (!isEventChannel(event) || data === '') return;
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      return;
    }
    for (const listener of listeners.get(event) ?? []) listener(payload);
  }

  return buildBridge(
    (channel, request) => invoke(channel, request),
    (channel, callback) => {
      if (!streaming) {
        streaming = true;
        onLiveState('connecting');
        void stream();
      }
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(callback);
      return () => set.delete(callback);
    },
  );
}
