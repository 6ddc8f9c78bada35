/**
 * A protector for a key main has already opened: the agent host cannot call safeStorage (main
 * process only), so main unseals once and hands the PEM over its private channel. Sealing is main's
 * job: the sealed file always exists before the host starts.
 */
import { SEALED_KEY_FILE, type KeyProtector } from '../agent/identity/key-protector';

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
