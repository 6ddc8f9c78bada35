import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadOrCreateIdentity } from '../../agent/identity/device-identity';
import { fileKeyProtector, PLAIN_KEY_FILE, type KeyProtector } from '../../agent/identity/key-protector';
import { createMemoryLogger } from '../../agent/log';
import { tempDir } from '../helpers/temp-dir';
import { requireCondition } from '../helpers/tools';

/** A stand-in for Electron's safeStorage: AES-256-GCM with a fixed test key (the OS seam). */
function testSealingProtector(): KeyProtector & { sealCalls: number } {
  const key = crypto.createHash('sha256').update('test keychain').digest();
  const protector = {
    name: 'test-sealed',
    fileName: 'device-key.sealed',
    sealCalls: 0,
    seal(plain: Buffer): Buffer {
      protector.sealCalls++;
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), data]);
    },
    open(sealed: Buffer): Buffer {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
    },
  };
  return protector;
}

const posix = process.platform !== 'win32';

describe('device identity', () => {
  it('creates the key pair once in a 0600 file and reloads the same key', (t) => {
    const dir = tempDir(t, 'telltale-identity-');
    const first = loadOrCreateIdentity({ dataDir: dir });
    assert.equal(first.created, true);
    assert.equal(first.privateKey.asymmetricKeyType, 'ed25519');
    assert.equal(first.keyFile, path.join(dir, PLAIN_KEY_FILE));
    assert.match(fs.readFileSync(first.keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    if (posix) assert.equal(fs.statSync(first.keyFile).mode & 0o777, 0o600);

    const second = loadOrCreateIdentity({ dataDir: dir });
    assert.equal(second.created, false);
    assert.equal(second.publicKeySpki, first.publicKeySpki);
    assert.equal(second.fingerprint, first.fingerprint);
    // The reloaded private key signs what the first public key verifies.
    const signature = crypto.sign(null, Buffer.from('hello'), second.privateKey);
    assert.equal(crypto.verify(null, Buffer.from('hello'), first.publicKey, signature), true);
    // No temp files left behind by the atomic write.
    assert.deepEqual(fs.readdirSync(dir), [PLAIN_KEY_FILE]);
    // SPKI DER base64 as enrollment sends it: 44 bytes for Ed25519.
    assert.equal(Buffer.from(first.publicKeySpki, 'base64').length, 44);
  });

  it('repairs a key file other users can read, with a warning, keeping the key', (t) => {
    if (!requireCondition(t, posix, 'file modes are POSIX-only')) return;
    const dir = tempDir(t, 'telltale-identity-');
    const first = loadOrCreateIdentity({ dataDir: dir });
    fs.chmodSync(first.keyFile, 0o644);
    const logger = createMemoryLogger();
    const second = loadOrCreateIdentity({ dataDir: dir, logger });
    assert.equal(second.repairedMode, true);
    assert.equal(second.publicKeySpki, first.publicKeySpki);
    assert.equal(fs.statSync(first.keyFile).mode & 0o777, 0o600);
    const warning = logger.lines.find((line) => line.level === 'warn');
    assert.ok(warning, 'a warning is logged');
    assert.match(warning.message, /readable by other users.*0600/);
    assert.equal(warning.fields.previousMode, '0644');
    // The log never contains key material.
    assert.doesNotMatch(JSON.stringify(logger.lines), /PRIVATE KEY/);
  });

  it('seals the key with a pluggable protector and adopts an earlier headless key', (t) => {
    const dir = tempDir(t, 'telltale-identity-');
    const headless = loadOrCreateIdentity({ dataDir: dir, protector: fileKeyProtector });
    const protector = testSealingProtector();
    const sealed = loadOrCreateIdentity({ dataDir: dir, protector });
    assert.equal(sealed.publicKeySpki, headless.publicKeySpki, 'the device keeps its identity');
    assert.equal(sealed.protector, 'test-sealed');
    assert.equal(fs.existsSync(path.join(dir, PLAIN_KEY_FILE)), false, 'the plain key is removed');
    const onDisk = fs.readFileSync(path.join(dir, 'device-key.sealed'));
    assert.equal(onDisk.includes(Buffer.from('PRIVATE KEY')), false, 'the file holds sealed bytes, not the PEM');
    if (posix) assert.equal(fs.statSync(path.join(dir, 'device-key.sealed')).mode & 0o777, 0o600);

    const again = loadOrCreateIdentity({ dataDir: dir, protector });
    assert.equal(again.publicKeySpki, headless.publicKeySpki);
    assert.equal(protector.sealCalls, 1, 'sealed once, then only opened');
  });

  it('refuses a key it cannot open and leaves the file untouched', (t) => {
    const dir = tempDir(t, 'telltale-identity-');
    const file = path.join(dir, PLAIN_KEY_FILE);
    fs.writeFileSync(file, 'not a key', { mode: 0o600 });
    assert.throws(() => loadOrCreateIdentity({ dataDir: dir }), /not a PKCS8 PEM private key/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'not a key');

    const sealedDir = tempDir(t, 'telltale-identity-');
    const protector = testSealingProtector();
    loadOrCreateIdentity({ dataDir: sealedDir, protector });
    const other: KeyProtector = { ...protector, open: () => { throw new Error('wrong keychain'); } };
    assert.throws(() => loadOrCreateIdentity({ dataDir: sealedDir, protector: other }), /cannot be opened with test-sealed \(wrong keychain\)/);
  });
});
