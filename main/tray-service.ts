/**
 * The tray icon: one class owns creating, redrawing and destroying it.
 *
 * The icon shows the device state (ok / attention / offline) from the agent's statusChanged events;
 * the menu opens the transparency view, asks for a sync now, shows About, and offers Quit only when
 * the policy allows it. Electron's Tray and Menu are injected, so the logic is tested with fakes, and
 * `snapshot()` is the test hook the Electron end-to-end test reads.
 */
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import type { DeviceState, Status } from '../common/ipc-contract';
import { assertNever } from '../common/result';

export type TrayLike = Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu' | 'destroy' | 'isDestroyed' | 'on'>;

export interface TrayDeps {
  createTray(image: NativeImage): TrayLike;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  iconFor(state: DeviceState): NativeImage;
}

export interface TrayActions {
  openView(): void;
  syncNow(): void;
  about(): void;
  /** Null when the policy does not allow quitting: no Quit item is shown. */
  readonly quit: (() => void) | null;
}

/** What the tray shows right now (test hook). */
export interface TraySnapshot {
  readonly exists: boolean;
  readonly state: DeviceState;
  readonly tooltip: string;
  readonly menu: readonly string[];
}

export class TrayService {
  private tray: TrayLike | null = null;
  private status: Status = {
    state: 'offline',
    summary: 'Starting…',
    sync: { state: 'unknown', detail: 'Starting' },
    openFindings: 0,
  };

  constructor(
    private readonly deps: TrayDeps,
    private readonly actions: TrayActions,
  ) {}

  create(): void {
    if (this.tray) return;
    this.tray = this.deps.createTray(this.deps.iconFor(this.status.state));
    // A left click opens the view directly on Windows/Linux; macOS shows the menu.
    this.tray.on('click', () => this.actions.openView());
    this.redraw();
  }

  setStatus(status: Status): void {
    this.status = status;
    this.redraw();
  }

  destroy(): void {
    if (this.tray && !this.tray.isDestroyed()) this.tray.destroy();
    this.tray = null;
  }

  /** The menu as built now (also what tests "click"). */
  menuTemplate(): MenuItemConstructorOptions[] {
    const items: MenuItemConstructorOptions[] = [
      { label: `Telltale: ${stateLabel(this.status.state)}`, enabled: false },
      { type: 'separator' },
      { label: 'Open transparency view…', click: () => this.actions.openView() },
      { label: 'Sync now', click: () => this.actions.syncNow() },
      { label: 'About Telltale', click: () => this.actions.about() },
    ];
    const quit = this.actions.quit;
    if (quit) items.push({ type: 'separator' }, { label: 'Quit Telltale', click: () => quit() });
    return items;
  }

  snapshot(): TraySnapshot {
    return {
      exists: this.tray !== null && !this.tray.isDestroyed(),
      state: this.status.state,
      tooltip: tooltipOf(this.status),
      menu: this.menuTemplate().flatMap((item) => (item.label ? [item.label] : [])),
    };
  }

  private redraw(): void {
    if (!this.tray || this.tray.isDestroyed()) return;
    this.tray.setImage(this.deps.iconFor(this.status.state));
    this.tray.setToolTip(tooltipOf(this.status));
    this.tray.setContextMenu(this.deps.buildMenu(this.menuTemplate()));
  }
}

function stateLabel(state: DeviceState): string {
  switch (state) {
    case 'ok':
      return 'all normal';
    case 'attention':
      return 'needs attention';
    case 'offline':
      return 'offline';
    default:
      return assertNever(state, 'device state');
  }
}

function tooltipOf(status: Status): string {
  return `Telltale: ${status.summary}`;
}
