/**
 * Main-side pieces with Electron injected: the TrayService (icon per state, menu with Quit only
 * when policy allows, test hook), the safeStorage KeyProtector's refusals, the Linux autostart entry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Status } from '../../common/ipc-contract';
import { createSafeStorageKeyProtector, type SafeStorageLike } from '../../main/key-protector';
import { linuxAutostartEntry } from '../../main/login-item';
import { TrayService, type TrayDeps } from '../../main/tray-service';

class FakeTray {
  image: unknown = null;
  tooltip = '';
  menu: { label?: string; click?: () => void }[] = [];
  destroyed = false;
  readonly clicks: (() => void)[] = [];
  setImage(image: unknown) {
    this.image = image;
  }
  setToolTip(text: string) {
    this.tooltip = text;
  }
  setContextMenu(menu: unknown) {
    this.menu = menu as FakeTray['menu'];
  }
  destroy() {
    this.destroyed = true;
  }
  isDestroyed() {
    return this.destroyed;
  }
  on(_event: string, listener: () => void) {
    this.clicks.push(listener);
    return this;
  }
}

function status(state: Status['state'], summary = `summary ${state}`): Status {
  return { state, summary, sync: { state: 'ok', detail: '' }, openFindings: state === 'attention' ? 1 : 0 };
}

function setup(allowQuit: boolean) {
  const trays: FakeTray[] = [];
  const calls: string[] = [];
  const deps = {
    createTray: () => {
      const tray = new FakeTray();
      trays.push(tray);
      return tray;
    },
    buildMenu: (template: unknown) => template,
    iconFor: (state: string) => `icon:${state}`,
  } as unknown as TrayDeps;
  const service = new TrayService(deps, {
    openView: () => calls.push('open'),
    syncNow: () => calls.push('sync'),
    about: () => calls.push('about'),
    quit: allowQuit ? () => calls.push('quit') : null,
  });
  return { service, trays, calls };
}

describe('TrayService', () => {
  it('creates one tray, redraws icon and tooltip per state, and destroys it', () => {
    const { service, trays } = setup(false);
    service.create();
    service.create();
    assert.equal(trays.length, 1);
    const tray = trays[0]!;
    for (const state of ['ok', 'attention', 'offline'] as const) {
      service.setStatus(status(state));
      assert.equal(tray.image, `icon:${state}`);
      assert.equal(tray.tooltip, `Telltale: summary ${state}`);
      assert.equal(service.snapshot().state, state);
    }
    assert.equal(service.snapshot().exists, true);
    service.destroy();
    assert.equal(tray.destroyed, true);
    assert.equal(service.snapshot().exists, false);
  });

  it('offers Quit only when the policy allows it; menu items act', () => {
    const locked = setup(false);
    locked.service.create();
    assert.ok(!locked.service.snapshot().menu.some((label) => /quit/i.test(label)));
    const open = setup(true);
    open.service.create();
    assert.ok(open.service.snapshot().menu.includes('Quit Telltale'));
    const menu = open.trays[0]!.menu;
    for (const label of ['Open transparency view…', 'Sync now', 'About Telltale', 'Quit Telltale']) menu.find((item) => item.label === label)!.click!();
    open.trays[0]!.clicks[0]!();
    assert.deepEqual(open.calls, ['open', 'sync', 'about', 'quit', 'open']);
  });
});

describe('safeStorage KeyProtector', () => {
  const storage = (available: boolean, backend: string): SafeStorageLike => ({
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend as ReturnType<SafeStorageLike['getSelectedStorageBackend']>,
    encryptString: (text: string) => Buffer.from(text.split('').reverse().join('')),
    decryptString: (buffer: Buffer) => buffer.toString().split('').reverse().join(''),
  });
  it('refuses when encryption is unavailable or Linux has no keyring (basic_text protects nothing)', () => {
    assert.equal(createSafeStorageKeyProtector(storage(false, 'gnome_libsecret'), 'linux').ok, false);
    const basic = createSafeStorageKeyProtector(storage(true, 'basic_text'), 'linux');
    assert.equal(!basic.ok && basic.error.code, 'UNSUPPORTED_PLATFORM');
    assert.equal(createSafeStorageKeyProtector(storage(true, 'kwallet5'), 'linux').ok, true);
    assert.equal(createSafeStorageKeyProtector(storage(true, 'unknown'), 'darwin').ok, true, 'the backend question is Linux-only');
  });
  it('round-trips the key through seal and open', () => {
    const protector = createSafeStorageKeyProtector(storage(true, 'gnome_libsecret'), 'linux');
    assert.ok(protector.ok);
    const pem = Buffer.from('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
    const sealed = protector.value.seal(pem);
    assert.notDeepEqual(sealed, pem);
    assert.deepEqual(protector.value.open(sealed), pem);
  });
});

describe('Linux autostart entry', () => {
  it('quotes the executable path', () => {
    const entry = linuxAutostartEntry('/opt/Tell "tale"/telltale $HOME');
    assert.match(entry, /^\[Desktop Entry\]/);
    assert.match(entry, /Exec="\/opt\/Tell \\"tale\\"\/telltale \\\$HOME"/);
  });
});
