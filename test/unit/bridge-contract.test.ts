/**
 * The bridge is derived from the contract: one method per request channel, one on<Event> per event
 * channel, in both the preload (tested here with a fake ipcRenderer) and the HTTP transport (same
 * `buildBridge`). Callbacks receive only the payload, never the IPC event, and unsubscribe works.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EVENT_CHANNELS,
  EVENTS,
  REQUESTS,
  REQUEST_CHANNELS,
  buildBridge,
  eventMethodName,
  ipcEventChannel,
  ipcRequestChannel,
  isEventChannel,
  isRequestChannel,
  validateRequest,
} from '../../common/ipc-contract';
import { createPreloadBridge, type IpcRendererLike } from '../../preload/bridge';

type Listener = (event: unknown, payload: unknown) => void;

/** A fake ipcRenderer: records invokes, lets the test emit events like main would. */
class FakeIpcRenderer {
  readonly invoked: [string, unknown][] = [];
  readonly listeners = new Map<string, Set<Listener>>();
  answer: unknown = { ok: true, value: 'answer' };
  async invoke(channel: string, payload: unknown): Promise<unknown> {
    this.invoked.push([channel, payload]);
    return this.answer;
  }
  on(channel: string, listener: Listener): this {
    if (!this.listeners.has(channel)) this.listeners.set(channel, new Set());
    this.listeners.get(channel)!.add(listener);
    return this;
  }
  removeListener(channel: string, listener: Listener): this {
    this.listeners.get(channel)?.delete(listener);
    return this;
  }
  emit(channel: string, payload: unknown): void {
    const event = { sender: 'the IPC event, which must not reach the page', ports: [] };
    for (const listener of this.listeners.get(channel) ?? []) listener(event, payload);
  }
}

describe('bridge contract', () => {
  it('declares a request and a response schema for every channel, and a schema per event', () => {
    for (const channel of REQUEST_CHANNELS) {
      assert.ok(REQUESTS[channel].request && REQUESTS[channel].response, channel);
      assert.ok(isRequestChannel(channel));
    }
    for (const channel of EVENT_CHANNELS) assert.ok(EVENTS[channel] && isEventChannel(channel));
    for (const notAChannel of ['toString', 'constructor', '__proto__', 'hasOwnProperty', '', 42]) {
      assert.equal(isRequestChannel(notAChannel), false, String(notAChannel));
      assert.equal(isEventChannel(notAChannel), false, String(notAChannel));
    }
    assert.equal(eventMethodName('windowFlushed'), 'onWindowFlushed');
    assert.equal(validateRequest('getTiming', undefined).ok, true, 'no arguments reads as {}');
  });

  it('derives one frozen bridge with exactly the contract methods', () => {
    const bridge = buildBridge(
      async () => ({ ok: true, value: null }),
      () => () => undefined,
    ) as unknown as Record<string, unknown>;
    const expected = [...REQUEST_CHANNELS, ...EVENT_CHANNELS.map(eventMethodName)].sort();
    assert.deepEqual(Object.keys(bridge).sort(), expected);
    assert.ok(Object.isFrozen(bridge));
    for (const name of expected) assert.equal(typeof bridge[name], 'function');
  });

  it('preload: requests go to namespaced channels, answers come back as Results', async () => {
    const ipc = new FakeIpcRenderer();
    const bridge = createPreloadBridge(ipc as unknown as IpcRendererLike);
    assert.deepEqual(await bridge.getTiming({ limit: 3 }), { ok: true, value: 'answer' });
    await bridge.getOverview();
    assert.deepEqual(ipc.invoked, [
      [ipcRequestChannel('getTiming'), { limit: 3 }],
      [ipcRequestChannel('getOverview'), {}],
    ]);
    ipc.answer = { not: 'a result' };
    const odd = await bridge.getPolicy();
    assert.equal(!odd.ok && odd.error.code, 'PAYLOAD_INVALID');
  });

  it('preload: callbacks get only the payload, and unsubscribing stops them', () => {
    const ipc = new FakeIpcRenderer();
    const bridge = createPreloadBridge(ipc as unknown as IpcRendererLike);
    const seen: unknown[][] = [];
    const unsubscribe = bridge.onFindingsChanged((...args: unknown[]) => seen.push(args));
    ipc.emit(ipcEventChannel('findingsChanged'), { open: 1 });
    ipc.emit(ipcEventChannel('statusChanged'), { state: 'ok' });
    assert.deepEqual(seen, [[{ open: 1 }]], 'exactly one argument: the payload');
    unsubscribe();
    ipc.emit(ipcEventChannel('findingsChanged'), { open: 2 });
    assert.equal(seen.length, 1);
    assert.equal(ipc.listeners.get(ipcEventChannel('findingsChanged'))?.size, 0);
    assert.throws(() => bridge.onWindowFlushed('not a function' as never), TypeError);
  });
});
