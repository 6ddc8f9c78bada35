/**
 * The device key's protection in the tray app: Electron's safeStorage (Keychain on macOS, DPAPI on
 * Windows, the Secret Service / KWallet on Linux), behind the agent's KeyProtector seam
 * (agent/identity/key-protector.ts).
 *
 * safeStorage works only in main, so main opens the key and hands it to the agent host (see
 * host/preopened-key-protector.ts). Where safeStorage has no real backend (Linux without a keyring
 * falls back to a hard-coded "basic_text" key, which protects nothing), this returns
 * UNSUPPORTED_PLATFORM and main keeps the 0600 file instead, saying so in its log.
 */
import type { SafeStorage } from 'electron';
import { SEALED_KEY_FILE, type KeyProtector } from '../agent/identity/key-protector';
import { fail, ok, type Result } from '../common/result';

export type SafeStorageLike = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

export function createSafeStorageKeyProtector(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): Result<KeyProtector> {
  if (!safeStorage.isEncryptionAvailable()) return fail('UNSUPPORTED_PLATFORM', 'safeStorage encryption is not available on this system.');
  if (platform === 'linux') {
    const backend = safeStorage.getSelectedStorageBackend();
    if (backend === 'basic_text' || backend === 'unknown') {
      return fail('UNSUPPORTED_PLATFORM', `safeStorage has no keyring here (backend "${backend}"), so it would not protect the key.`);
    }
  }
  return ok({
    name: 'safe-storage',
    fileName: SEALED_KEY_FILE,
    // The PEM is ASCII, so the string round trip is lossless.
    seal: (plain) => safeStorage.encryptString(plain.toString('utf8')),
    open: (sealed) => Buffer.from(safeStorage.decryptString(sealed), 'utf8'),
  });
}
