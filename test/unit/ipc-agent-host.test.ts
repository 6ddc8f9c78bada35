/**
 * The agent host (the utilityProcess side) and main's AgentClient over a real Node MessageChannel,
 * with a real Agent on a real SQLite file: start from the init message with a key main opened via a
 * (fake-backend) safeStorage protector, answer bridge calls (re-validated in the host), stop cleanly.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { loadOrCreateIdentity } from '../../agent/identity/device-identity';
import { AgentClient } from '../../main/agent-client';
import { runAgentHost } from '../../host/agent-host-core';
import type { FromHost, ToHost } from '../../host/agent-host-protocol';
import { SEALED_KEY_FILE } from '../../agent/identity/key-protector';
import { createSafeStorageKeyProtector, type SafeStorageLike } from '../../main/key-protector';
import { tempDir } from '../helpers/temp-dir';

/** safeStorage with a real (test-only) cipher, so sealed bytes really differ from the PEM. */
function fakeSafeStorage(backend = 'gnome_libsecret'): SafeStorageLike {
  const key = crypto.randomBytes(32);
  return {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => backend as ReturnType<SafeStorageLike['getSelectedStorageBackend']>,
    encryptString: (plain: string) => {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decryptString: (sealed: Buffer) => {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

describe('agent host over a MessagePort', () => {
  it('starts the agent with main-opened key, answers the bridge, and stops gracefully', async (t) => {
    const dataDir = tempDir(t, 'telltale-host-');
    // What main does before starting the host: open (create) the key with safeStorage.
    const protector = createSafeStorageKeyProtector(fakeSafeStorage(), 'linux');
    assert.ok(protector.ok);
    const identity = loadOrCreateIdentity({ dataDir, protector: protector.value });
    const sealed = fs.readFileSync(path.join(dataDir, SEALED_KEY_FILE));
    assert.ok(!sealed.toString('utf8').includes('PRIVATE KEY'), 'the key at rest is sealed, not a PEM');
    const pem = identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

    const { port1, port2 } = new MessageChannel();
    t.after(() => {
      port1.close();
      port2.close();
    });
    let exitCode: number | null = null;
    runAgentHost({ post: (message) => port2.postMessage(message), onMessage: (listener) => port2.on('message', listener) }, (code) => (exitCode = code));
    const client = new AgentClient({
      post: (message: ToHost) => port1.postMessage(message),
      onMessage: (listener: (message: FromHost) => void) => port1.on('message', listener),
    });

    const started = await client.start({
      agentVersion: '9.9.9-test',
      dataDir,
      managedPolicyPath: path.join(dataDir, 'no-policy.json'),
      devicePrivateKeyPem: pem,
      captureInput: false,
    });
    assert.ok(started.ok, JSON.stringify(started));
    assert.ok(['ok', 'attention', 'offline'].includes(started.value.state));

    const overview = await client.call('getOverview', {});
    assert.ok(overview.ok);
    assert.equal((overview.value as { agentVersion: string; mode: string }).agentVersion, '9.9.9-test');
    assert.equal((overview.value as { mode: string }).mode, 'electron');
    // The host validates again: main is not the only gate.
    const bad = await client.call('getTiming', { limit: -1 });
    assert.equal(!bad.ok && bad.error.code, 'PAYLOAD_INVALID');
    const unknown = await client.call('dropEverything' as never, {});
    assert.equal(!unknown.ok && unknown.error.code, 'NOT_FOUND');

    await client.stop();
    assert.equal(exitCode, 0);
    // Stopped means the WAL was checkpointed into the database file and the file closed.
    const wal = path.join(dataDir, 'telltale.db-wal');
    assert.ok(!fs.existsSync(wal) || fs.statSync(wal).size === 0, 'WAL checkpointed on shutdown');
  });

  it('reports a coded failure when the agent cannot start', async (t) => {
    const dataDir = tempDir(t, 'telltale-host-');
    const policy = path.join(dataDir, 'policy.json');
    fs.writeFileSync(policy, '{"allowQuit": "yes"}');
    const { port1, port2 } = new MessageChannel();
    t.after(() => {
      port1.close();
      port2.close();
    });
    runAgentHost({ post: (message) => port2.postMessage(message), onMessage: (listener) => port2.on('message', listener) }, () => undefined);
    const client = new AgentClient({ post: (message: ToHost) => port1.postMessage(message), onMessage: (listener: (message: FromHost) => void) => port1.on('message', listener) });
    const started = await client.start({ agentVersion: 't', dataDir, policyPath: policy, captureInput: false });
    assert.equal(!started.ok && started.error.code, 'POLICY_INVALID');
    const call = await client.call('getOverview', {});
    assert.equal(call.ok, false);
  });
});
