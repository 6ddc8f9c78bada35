/**
 * The device's Ed25519 identity: created once at first run, then loaded on every start.
 *
 * The KeyObjects are created once here and reused for every signature (re-parsing the PEM per
 * report costs far more than signing). The private key is stored sealed by a KeyProtector in a file
 * of mode 0600; a key file that other users can read is repaired to 0600 with a warning, because the
 * device must keep reporting, but the warning tells IT the key may have been copied.
 */
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../context';
import { fileKeyProtector, PLAIN_KEY_FILE, type KeyProtector } from './key-protector';

/** A loaded device identity. */
export interface DeviceIdentity {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as SPKI DER, base64: what enrollment sends and the collector verifies with. */
  readonly publicKeySpki: string;
  /** First 16 hex digits of sha256(SPKI DER): a short name for the key in logs and the UI. */
  readonly fingerprint: string;
  /** Which protector guards the private key. */
  readonly protector: string;
  /** Where the sealed private key lives. */
  readonly keyFile: string;
  /** True when this call generated the key pair. */
  readonly created: boolean;
  /** True when the key file was readable by others and its mode was repaired to 0600. */
  readonly repairedMode: boolean;
}

export interface LoadIdentityOptions {
  readonly dataDir: string;
  /** Defaults to the headless 0600-file protector. */
  readonly protector?: KeyProtector;
  readonly logger?: Logger;
}

/** Load the device key pair, creating it on first run. Throws when an existing key cannot be opened. */
export function loadOrCreateIdentity(options: LoadIdentityOptions): DeviceIdentity {
  const protector = options.protector ?? fileKeyProtector;
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(options.dataDir, protector.fileName);

  if (fs.existsSync(keyFile)) return loadExisting(keyFile, protector, options.logger);

  const plainFile = path.join(options.dataDir, PLAIN_KEY_FILE);
  if (protector.fileName !== PLAIN_KEY_FILE && fs.existsSync(plainFile)) {
    // The device ran headless before: keep its identity, now sealed.
    const repairedMode = checkMode(plainFile, options.logger);
    const pem = fs.readFileSync(plainFile);
    const privateKey = parsePrivateKey(pem, plainFile);
    writeKeyFileOnce(keyFile, protector.seal(pem));
    fs.rmSync(plainFile, { force: true });
    options.logger?.log('info', 'Device key moved into the protected key store', { protector: protector.name });
    return describe(privateKey, protector, keyFile, false, repairedMode);
  }

  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const pem = Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  if (!writeKeyFileOnce(keyFile, protector.seal(pem))) {
    // Another process created the key between our check and our write: use theirs.
    return loadExisting(keyFile, protector, options.logger);
  }
  const identity = describe(privateKey, protector, keyFile, true, false);
  options.logger?.log('info', 'Device key pair created', { fingerprint: identity.fingerprint, protector: protector.name });
  return identity;
}

function loadExisting(keyFile: string, protector: KeyProtector, logger: Logger | undefined): DeviceIdentity {
  const repairedMode = checkMode(keyFile, logger);
  let pem: Buffer;
  try {
    pem = protector.open(fs.readFileSync(keyFile));
  } catch (error) {
    throw new Error(
      `The device key ${keyFile} cannot be opened with ${protector.name} (${error instanceof Error ? error.message : String(error)}). ` +
        'It was left untouched; move it aside to create a new identity (the device must then be enrolled again).',
    );
  }
  return describe(parsePrivateKey(pem, keyFile), protector, keyFile, false, repairedMode);
}

function parsePrivateKey(pem: Buffer, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new Error(`The device key ${file} is not a PKCS8 PEM private key (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`The device key ${file} is ${key.asymmetricKeyType}, expected ed25519.`);
  return key;
}

function describe(privateKey: KeyObject, protector: KeyProtector, keyFile: string, created: boolean, repairedMode: boolean): DeviceIdentity {
  const publicKey = crypto.createPublicKey(privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    publicKey,
    publicKeySpki: spki.toString('base64'),
    fingerprint: crypto.createHash('sha256').update(spki).digest('hex').slice(0, 16),
    protector: protector.name,
    keyFile,
    created,
    repairedMode,
  };
}

/** Repair a key file other users could read; returns true when it had to. No-op on Windows (ACLs, not modes). */
function checkMode(file: string, logger: Logger | undefined): boolean {
  if (process.platform === 'win32') return false;
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return false;
  fs.chmodSync(file, 0o600);
  logger?.log(
    'warn',
    'The device key file was readable by other users; its mode was repaired to 0600. If others could log in here, the key may have been copied: ask IT to re-enroll this device.',
    { file, previousMode: `0${mode.toString(8)}` },
  );
  return true;
}

/**
 * Write the key file atomically and only if it does not exist yet: write a private temp file, fsync,
 * then hard-link it into place (link fails if the target exists, so two racing first runs cannot
 * overwrite each other's key). Returns false when the file already existed.
 */
function writeKeyFileOnce(keyFile: string, contents: Buffer): boolean {
  const temp = `${keyFile}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.writeSync(fd, contents);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(temp, keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  syncDirectory(path.dirname(keyFile));
  return true;
}

function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
