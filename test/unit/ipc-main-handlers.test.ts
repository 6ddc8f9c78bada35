/**
 * main/ipc-main.ts with a fake ipcMain (driver methods) and fake senders: only the top frame of
 * our own window showing telltale://app/ is answered (else SENDER_UNTRUSTED); payloads are checked
 * against the contract (else PAYLOAD_INVALID) before anything reaches the agent. Also the
 * telltale:// protocol's path resolution.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REQUEST_CHANNELS, ipcEventChannel, ipcRequestChannel, type RequestChannel } from '../../common/ipc-contract';
import { ok, type Result } from '../../common/result';
import { isTrustedSender, registerBridgeHandlers, sendBridgeEvent, type IpcMainLike, type SenderEvent } from '../../main/ipc-main';
import { resolveViewAsset } from '../../main/view-protocol';

type Handler = (event: SenderEvent, payload: unknown) => Promise<Result<unknown>>;

/** A fake ipcMain: records handlers and lets the test invoke them as a renderer would. */
class FakeIpcMain {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, handler: Handler): void {
    assert.ok(!this.handlers.has(channel), `one handler per channel (${channel})`);
    this.handlers.set(channel, handler);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, event: SenderEvent, payload?: unknown): Promise<Result<unknown>> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler for ${channel}`);
    return handler(event, payload);
  }
}

const OUR_WINDOW = 7;
const windows = { has: (id: number) => id === OUR_WINDOW };

function sender(options: { url?: string; id?: number; subframe?: boolean; noFrame?: boolean } = {}): SenderEvent {
  const top = { url: options.url ?? 'telltale://app/index.html', parent: null };
  const frame = options.subframe ? { url: options.url ?? 'telltale://app/index.html', parent: top } : top;
  return { senderFrame: options.noFrame ? null : frame, sender: { id: options.id ?? OUR_WINDOW } } as unknown as SenderEvent;
}

function setup() {
  const ipc = new FakeIpcMain();
  const forwarded: { channel: RequestChannel; request: unknown }[] = [];
  const remove = registerBridgeHandlers(ipc as unknown as IpcMainLike, windows, async (channel, request) => {
    forwarded.push({ channel, request });
    return ok({ answered: channel });
  });
  return { ipc, forwarded, remove };
}

describe('IPC handlers in main', () => {
  it('registers exactly one namespaced handler per contract channel, and removes them', () => {
    const { ipc, remove } = setup();
    assert.deepEqual([...ipc.handlers.keys()].sort(), REQUEST_CHANNELS.map(ipcRequestChannel).sort());
    remove();
    assert.equal(ipc.handlers.size, 0);
  });

  it('answers the trusted window and forwards the validated request', async () => {
    const { ipc, forwarded } = setup();
    const result = await ipc.invoke(ipcRequestChannel('getTiming'), sender(), { limit: 10 });
    assert.deepEqual(result, { ok: true, value: { answered: 'getTiming' } });
    assert.deepEqual(forwarded, [{ channel: 'getTiming', request: { limit: 10 } }]);
    // No arguments means {}.
    assert.equal((await ipc.invoke(ipcRequestChannel('getOverview'), sender(), undefined)).ok, true);
  });

  it('refuses untrusted senders with SENDER_UNTRUSTED and forwards nothing', async () => {
    const { ipc, forwarded } = setup();
    const untrusted: [string, SenderEvent][] = [
      ['another window', sender({ id: 99 })],
      ['a page navigated elsewhere', sender({ url: 'https://evil.example.com/' })],
      ['file://', sender({ url: 'file:///work/main/dist/renderer/index.html' })],
      ['another telltale host', sender({ url: 'telltale://evil/index.html' })],
      ['a look-alike scheme', sender({ url: 'telltale-app://app/index.html' })],
      ['an iframe in our window', sender({ subframe: true })],
      ['a destroyed frame', sender({ noFrame: true })],
      ['an unparsable URL', sender({ url: 'not a url' })],
    ];
    for (const [what, event] of untrusted) {
      const result = await ipc.invoke(ipcRequestChannel('exportData'), event, {});
      assert.equal(result.ok, false, what);
      assert.equal(!result.ok && result.error.code, 'SENDER_UNTRUSTED', what);
    }
    assert.deepEqual(forwarded, []);
    assert.equal(isTrustedSender(sender(), windows), true);
  });

  it('refuses bad payloads with PAYLOAD_INVALID before they reach the agent', async () => {
    const { ipc, forwarded } = setup();
    const bad: [RequestChannel, unknown][] = [
      ['getTiming', { limit: 0 }],
      ['getTiming', { limit: 501 }],
      ['getTiming', { limit: 1.5 }],
      ['getTiming', { limit: '5' }],
      ['getReports', { limit: 5, sql: 'DROP TABLE outbox' }],
      ['getOverview', { extra: true }],
      ['syncNow', 'now'],
      ['exportData', null],
      ['getFindings', [1]],
    ];
    for (const [channel, payload] of bad) {
      const result = await ipc.invoke(ipcRequestChannel(channel), sender(), payload);
      assert.equal(!result.ok && result.error.code, 'PAYLOAD_INVALID', `${channel} ${JSON.stringify(payload)}`);
    }
    assert.deepEqual(forwarded, []);
  });

  it('sends events only on contract channels and never to a destroyed window', () => {
    const sent: [string, unknown][] = [];
    let destroyed = false;
    const target = { send: (channel: string, payload: unknown) => void sent.push([channel, payload]), isDestroyed: () => destroyed };
    sendBridgeEvent(target, 'findingsChanged', { open: 2 });
    sendBridgeEvent(target, 'evil' as never, {} as never);
    destroyed = true;
    sendBridgeEvent(target, 'findingsChanged', { open: 3 });
    assert.deepEqual(sent, [[ipcEventChannel('findingsChanged'), { open: 2 }]]);
  });
});

describe('telltale:// protocol paths', () => {
  const dir = path.resolve('/opt/telltale/renderer');
  it('maps our files and nothing else', () => {
    assert.equal(resolveViewAsset('telltale://app/', dir), path.join(dir, 'index.html'));
    assert.equal(resolveViewAsset('telltale://app/renderer.js', dir), path.join(dir, 'renderer.js'));
    assert.equal(resolveViewAsset('telltale://app/styles.css?x=1', dir), path.join(dir, 'styles.css'));
    for (const url of [
      'telltale://app/../main/main.js',
      'telltale://app/%2e%2e/%2e%2e/etc/passwd',
      'telltale://app/..%2fmain.js',
      'telltale://app/sub/index.html',
      'telltale://other/index.html',
      'telltale://app/main.js.map',
      'telltale://app/secret.json',
      'https://app/index.html',
      'telltale://app/%E0%A4%A',
    ]) {
      assert.equal(resolveViewAsset(url, dir), null, url);
    }
  });
});
