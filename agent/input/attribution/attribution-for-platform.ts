/**
 * The attribution source for this platform: one chooser over the per-OS modules.
 */
import { TelltaleError } from '../../../common/result';
import type { AttributionSource } from './attribution-source';
import { DarwinAttributionSource } from './darwin';
import { Win32AttributionSource } from './win32';
import { X11AttributionSource } from './x11';

/**
 * Throws UNSUPPORTED_PLATFORM for anything but linux, darwin and win32. `pointerMotion` is the
 * policy's `injectedInput.pointerMotion` (only X11 has a cost to choose: see x11.ts).
 */
export function attributionSourceFor(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, options: { readonly pointerMotion?: boolean } = {}): AttributionSource {
  switch (platform) {
    case 'linux':
      return new X11AttributionSource(env, null, options);
    case 'win32':
      return new Win32AttributionSource();
    case 'darwin':
      return new DarwinAttributionSource();
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `Input attribution is not implemented for ${platform}`);
  }
}
