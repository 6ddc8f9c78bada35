/**
 * The transparency window's preload (bundled, sandboxed): exposes exactly one object,
 * `window.telltale`, built from the IPC contract. Nothing else crosses into the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadBridge } from './bridge';

contextBridge.exposeInMainWorld('telltale', createPreloadBridge(ipcRenderer));
