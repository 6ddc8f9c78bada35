/**
 * Start at login. macOS and Windows: Electron's login item settings. Linux (where those settings do
 * nothing): an XDG autostart entry, written only for the packaged app (a dev build would register
 * the electron binary itself).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App } from 'electron';

export function enableStartAtLogin(app: Pick<App, 'isPackaged' | 'setLoginItemSettings'>, platform: NodeJS.Platform = process.platform): void {
  if (!app.isPackaged) return;
  if (platform === 'linux') {
    writeLinuxAutostart(process.env.APPIMAGE ?? process.execPath);
    return;
  }
  app.setLoginItemSettings({ openAtLogin: true, openAsHidden: true });
}

/** The XDG autostart entry text for `executable`. */
export function linuxAutostartEntry(executable: string): string {
  const quoted = `"${executable.replace(/(["\\`$])/g, '\\$1')}"`;
  return ['[Desktop Entry]', 'Type=Application', 'Name=Telltale', 'Comment=Transparency and remote-control detection', `Exec=${quoted}`, 'X-GNOME-Autostart-enabled=true', ''].join('\n');
}

function writeLinuxAutostart(executable: string): void {
  const configHome = process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config');
  const dir = path.join(configHome, 'autostart');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'telltale.desktop'), linuxAutostartEntry(executable));
}
