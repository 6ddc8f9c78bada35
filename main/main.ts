/**
 * Electron main: the tray app's lifecycle, and nothing heavier.
 *
 * One instance per user (a second launch focuses the first's view). At login it starts hidden in
 * the tray. The agent core (input hook, SQLite, detectors, reports, sync) runs in a utilityProcess
 * (host/agent-host.ts) so nothing slow ever runs on this UI thread; main only relays the bridge
 * between the locked-down window and that process, and keeps the tray icon current.
 *
 * Environment (tests, development): TELLTALE_DATA_DIR, TELLTALE_POLICY (an explicit policy file),
 * TELLTALE_NO_INPUT=1 (no input hook), TELLTALE_TEST_HOOKS=1 (exposes `globalThis.__telltaleTest`
 * for the Playwright Electron test).
 */
import path from 'node:path';
import { app, dialog, ipcMain, Menu, nativeImage, protocol, safeStorage, session, Tray, utilityProcess, type UtilityProcess } from 'electron';
import { loadOrCreateIdentity } from '../agent/identity/device-identity';
import { fileKeyProtector } from '../agent/identity/key-protector';
import { platformPaths } from '../agent/platform/paths';
import { isValidEvent, type DeviceState, type PolicyView, type Status } from '../common/ipc-contract';
import { AgentClient } from './agent-client';
import type { FromHost, ToHost } from '../host/agent-host-protocol';
import { hardenApp } from './app-security';
import { registerBridgeHandlers } from './ipc-main';
import { createSafeStorageKeyProtector } from './key-protector';
import { enableStartAtLogin } from './login-item';
import { TrayService } from './tray-service';
import { handleViewProtocol, registerViewScheme } from './view-protocol';
import { ViewWindows } from './windows';

// Bundled layout (scripts/build.mjs): dist/main/main.js, dist/preload/preload.js, dist/agent-host/agent-host.js, dist/renderer/.
const DIST = path.resolve(__dirname, '..');
const ICONS = path.join(__dirname, 'icons');

registerViewScheme(protocol);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let windows: ViewWindows | null = null;
  app.on('second-instance', () => windows?.open());
  // The tray app lives on with no window open.
  app.on('window-all-closed', () => undefined);
  app
    .whenReady()
    .then(async () => {
      windows = new ViewWindows(path.join(DIST, 'preload', 'preload.js'), path.join(ICONS, 'icon.png'));
      await startTrayApp(windows);
    })
    .catch((error: unknown) => {
      dialog.showErrorBox('Telltale could not start', error instanceof Error ? error.message : String(error));
      app.exit(1);
    });
}

async function startTrayApp(windows: ViewWindows): Promise<void> {
  hardenApp(app, session.defaultSession);
  handleViewProtocol(protocol, path.join(DIST, 'renderer'));
  enableStartAtLogin(app);

  const dataDir = process.env.TELLTALE_DATA_DIR ?? platformPaths().dataDir;
  const devicePrivateKeyPem = openDeviceKey(dataDir);

  const host = utilityProcess.fork(path.join(DIST, 'agent-host', 'agent-host.js'), [], { serviceName: 'Telltale agent', stdio: 'inherit' });
  const client = new AgentClient({
    post: (message: ToHost) => host.postMessage(message),
    onMessage: (listener) => host.on('message', (message: FromHost) => listener(message)),
  });

  const icons = trayIcons();
  let allowQuit = false;
  let quitting = false;
  const tray = new TrayService(
    {
      createTray: (image) => new Tray(image),
      buildMenu: (template) => Menu.buildFromTemplate(template),
      iconFor: (state) => icons[state],
    },
    {
      openView: () => windows.open(),
      syncNow: () => void client.call('syncNow', {}),
      about: () =>
        void dialog.showMessageBox({
          type: 'info',
          title: 'About Telltale',
          message: `Telltale ${app.getVersion()}`,
          detail:
            'Telltale checks that this laptop is used by the person at it, not remotely controlled. It measures only the timing of typing and pointer movement, never which keys or what text. Open the transparency view to see everything it collects and sends.',
        }),
      get quit() {
        return allowQuit ? () => app.quit() : null;
      },
    },
  );
  tray.create();

  host.on('exit', (code) => {
    client.hostExited({ code: 'AGENT_UNAVAILABLE', message: `The agent process exited (${code}).` });
    if (!quitting) tray.setStatus(offlineStatus(`The agent process stopped unexpectedly (exit ${code}).`));
  });

  registerBridgeHandlers(ipcMain, windows, (channel, request) => client.call(channel, request));
  client.onEvent((channel, payload) => {
    if (!isValidEvent(channel, payload)) return;
    if (channel === 'statusChanged') tray.setStatus(payload as Status);
    windows.broadcast(channel, payload);
  });

  const started = await client.start({
    agentVersion: app.getVersion(),
    dataDir,
    ...(process.env.TELLTALE_POLICY ? { policyPath: process.env.TELLTALE_POLICY } : {}),
    ...(devicePrivateKeyPem ? { devicePrivateKeyPem } : {}),
    ...(process.env.TELLTALE_NO_INPUT === '1' ? { captureInput: false } : {}),
  });
  if (!started.ok) {
    tray.setStatus(offlineStatus(`${started.error.code}: ${started.error.message}`));
    dialog.showErrorBox('Telltale agent could not start', started.error.message);
  } else {
    tray.setStatus(started.value);
    const policy = await client.call('getPolicy', {});
    allowQuit = policy.ok && (policy.value as PolicyView).allowQuit;
    tray.setStatus(started.value);
  }

  // Graceful shutdown: the host stops its services (the open timing window is flushed, the WAL
  // checkpointed) before the app exits.
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void client.stop().then(() => {
      tray.destroy();
      windows.closeAll();
      app.exit(0);
    });
  });

  if (process.env.TELLTALE_TEST_HOOKS === '1') {
    (globalThis as Record<string, unknown>).__telltaleTest = {
      tray: () => tray.snapshot(),
      openView: () => windows.open().webContents.id,
      hostPid: () => (host as UtilityProcess).pid ?? null,
    };
  }
}

/**
 * Open (creating on first run) the device key with safeStorage; null means "let the agent host use
 * its 0600 key file" (no keyring on this system).
 */
function openDeviceKey(dataDir: string): string | null {
  const protector = createSafeStorageKeyProtector(safeStorage);
  if (!protector.ok) {
    console.warn(`Telltale: ${protector.error.message} The device key stays in a file only this user can read.`);
    loadOrCreateIdentity({ dataDir, protector: fileKeyProtector });
    return null;
  }
  const identity = loadOrCreateIdentity({ dataDir, protector: protector.value });
  return identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function trayIcons(): Record<DeviceState, Electron.NativeImage> {
  const load = (state: DeviceState) => nativeImage.createFromPath(path.join(ICONS, `tray-${state}.png`));
  return { ok: load('ok'), attention: load('attention'), offline: load('offline') };
}

function offlineStatus(detail: string): Status {
  return { state: 'offline', summary: detail, sync: { state: 'unknown', detail }, openFindings: 0 };
}
