/**
 * App-wide hardening (Electron security checklist): no page may navigate away, open windows,
 * attach webviews, or get any permission (camera, notifications, ...); the view needs none.
 */
import type { App, Session } from 'electron';

export function hardenApp(app: Pick<App, 'on'>, session: Session): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
