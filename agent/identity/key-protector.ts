/**
 * How the device's private key is protected at rest: a pluggable seam.
 *
 * The identity module stores `protector.seal(pkcs8Pem)` in `<dataDir>/<protector.fileName>` and
 * reads it back with `open`. The file is always written with mode 0600 (owner read/write only).
 *
 * - Headless agents use `fileKeyProtector`: no transformation, the file mode is the protection.
 * - The Electron tray supplies a protector built on `safeStorage` (main/ owns it, since agent/ never
 *   imports electron), e.g.
 *   `{ name: 'safe-storage', fileName: 'device-key.sealed', seal: (b) => safeStorage.encryptString(b.toString('utf8')),
 *      open: (b) => Buffer.from(safeStorage.decryptString(b), 'utf8') }`.
 *
 * When a sealing protector finds no sealed file but a plain `device-key.pem` exists (the device ran
 * headless before), the identity module adopts that key: seals it, writes the sealed file, removes
 * the plain one. The device keeps its identity and enrollment.
 */
export interface KeyProtector {
  /** Short label for logs and the transparency view, e.g. "file-0600" or "safe-storage". */
  readonly name: string;
  /** File name (inside the data dir) holding the sealed key. Distinct per protector kind. */
  readonly fileName: string;
  /** Protect the PKCS8 PEM bytes of the private key. `open` must reverse it. */
  seal(plain: Buffer): Buffer;
  /** Reverse `seal`. Throws when the sealed bytes cannot be opened (another user, another machine). */
  open(sealed: Buffer): Buffer;
}

/** File name of the unsealed (headless) key. */
export const PLAIN_KEY_FILE = 'device-key.pem';

/** File name of the key sealed by the tray app's safeStorage protector (main seals it, the agent host opens it). */
export const SEALED_KEY_FILE = 'device-key.sealed';

/** Headless protection: the PEM as-is in a 0600 file. */
export const fileKeyProtector: KeyProtector = {
  name: 'file-0600',
  fileName: PLAIN_KEY_FILE,
  seal: (plain) => Buffer.from(plain),
  open: (sealed) => Buffer.from(sealed),
};
