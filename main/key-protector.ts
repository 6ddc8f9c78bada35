/**
 * The device key's protection in the tray app: Electron's safeStorage (Keychain on macOS, DPAPI on
 * Windows, the Secret Service / KWallet on Linux), behind the agent's KeyProtector seam
 * (agent/identity/key-protector.ts).
 *
 * safeStorage works only in main, so main opens the key and hands it to the agent host (see
 * agent-host-core.ts `preopenedKeyProtector`). Where safeStorage has no real backend (Linux
 * without a keyring falls back to a hard-coded "basic_text" key, which protects nothing), this
 * returns UNSUPPORTED_PLATFORM and main keeps the 0600 file instead, saying so in its log.
 */
import type { SafeStorage } from 'electron';
import type { KeyProtector } from '../agent/identity/key-protector';
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

/** The sealed key's file name in the data folder. */
export const SEALED_KEY_FILE = 'device-key.sealed';

/**
 * A protector for a key main has already opened: the agent host cannot call safeStorage (main
 * process only), so main unseals once and hands the PEM over its private channel. Sealing is main's
 * job: the sealed file always exists before the host starts.
 */
export function preopenedKeyProtector(pem: string): KeyProtector {
  return {
    name: 'safe-storage',
    fileName: SEALED_KEY_FILE,
    seal: () => {
      throw new Error('The agent host cannot seal keys; main creates the sealed key before starting the host.');
    },
    open: () => Buffer.from(pem, 'utf8'),
  };
}
