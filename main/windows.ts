/**
 * The transparency window, locked down per Electron's security checklist: sandboxed, context
 * isolation on, no Node in the page, our bundled preload only, loaded from `telltale://app/`.
 * Keeps the ids of the windows it created: the IPC handlers trust only those (ipc-main.ts).
 */
import { BrowserWindow } from 'electron';
import { VIEW_ORIGIN, type EventChannel } from '../common/ipc-contract';
import { sendBridgeEvent, type TrustedWindows } from './ipc-main';

export class ViewWindows implements TrustedWindows {
  private window: BrowserWindow | null = null;
  private readonly ids = new Set<number>();

  constructor(
    private readonly preloadPath: string,
    private readonly iconPath: string | undefined,
  ) {}

  has(webContentsId: number): boolean {
    return this.ids.has(webContentsId);
  }

  /** Show the view, creating the window on first use; a second call focuses it. */
  open(): BrowserWindow {
    if (this.window && !this.window.isDestroyed()) {
      if (this.window.isMinimized()) this.window.restore();
      this.window.show();
      this.window.focus();
      return this.window;
    }
    const window = new BrowserWindow({
      width: 1060,
      height: 900,
      title: 'Telltale: what this laptop’s monitoring sees',
      show: false,
      ...(this.iconPath ? { icon: this.iconPath } : {}),
      webPreferences: {
        preload: this.preloadPath,
        sandbox: true,
        contextIsolation: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webviewTag: false,
        spellcheck: false,
        devTools: !process.env.TELLTALE_NO_DEVTOOLS,
      },
    });
    const id = window.webContents.id;
    this.ids.add(id);
    window.on('closed', () => {
      this.ids.delete(id);
      if (this.window === window) this.window = null;
    });
    window.once('ready-to-show', () => window.show());
    window.removeMenu();
    void window.loadURL(`${VIEW_ORIGIN}/index.html`);
    this.window = window;
    return window;
  }

  /** Forward a bridge event to the open window, if any. */
  broadcast(channel: EventChannel, payload: unknown): void {
    const window = this.window;
    if (!window || window.isDestroyed()) return;
    sendBridgeEvent(window.webContents, channel, payload as never);
  }

  closeAll(): void {
    if (this.window && !this.window.isDestroyed()) this.window.destroy();
    this.window = null;
  }
}
