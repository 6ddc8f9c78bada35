/**
 * The headless view as one agent service: checks the built renderer is there, builds the
 * view-model over the agent's store and events, and serves both on loopback (see view-server.ts).
 * The renderer's files are read on the first page request, so an unopened view costs nothing.
 *
 * `createServices` adds it when the agent runs headless; the tray app does not (its window talks
 * to the agent host over IPC instead).
 */
import type { KeyObject } from 'node:crypto';
import type { CaptureStatus } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import type { AgentContext, AgentService } from '../context';
import { createOutboxReportReader } from '../view/report-reader';
import { assertRendererBuilt, BUILT_RENDERER_DIR, readRendererDir } from './renderer-assets';
import { ViewModel, type BaselineSource } from '../view/view-model';
import { ViewServer } from './view-server';

export interface HeadlessViewOptions {
  /** Loopback port; 0 or absent picks a free one. */
  readonly port?: number;
  /** The device's public key once the identity is loaded, to check report signatures. */
  readonly publicKey?: () => KeyObject | null;
  readonly syncNow?: () => Promise<Result<{ started: boolean; detail: string }>>;
  readonly baseline?: BaselineSource;
  /** Input capture's state (see ViewModelOptions.capture). */
  readonly capture?: () => CaptureStatus;
  /** Where the URL line goes (default: the agent's log, which is stdout for `npm run agent`). */
  readonly announce?: (line: string) => void;
  /** A built renderer folder; default dist/renderer (made by scripts/build.mjs). */
  readonly rendererDir?: string;
}

export class HeadlessViewService implements AgentService {
  readonly name = 'headless-view';
  private server: ViewServer | null = null;
  private viewModel: ViewModel | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly options: HeadlessViewOptions = {},
  ) {}

  /** The view URL (token in the fragment) once started, else null. */
  get url(): string | null {
    return this.server?.url ?? null;
  }

  async start(): Promise<void> {
    const rendererDir = this.options.rendererDir ?? BUILT_RENDERER_DIR;
    assertRendererBuilt(rendererDir);
    this.viewModel = new ViewModel(this.ctx, {
      mode: 'headless',
      reports: createOutboxReportReader(this.options.publicKey ?? (() => null)),
      ...(this.options.syncNow ? { syncNow: this.options.syncNow } : {}),
      ...(this.options.baseline ? { baseline: this.options.baseline } : {}),
      ...(this.options.capture ? { capture: this.options.capture } : {}),
    });
    this.server = new ViewServer(this.ctx, {
      assets: async () => readRendererDir(rendererDir),
      viewModel: this.viewModel,
      ...(this.options.port !== undefined ? { port: this.options.port } : {}),
      ...(this.options.announce ? { announce: this.options.announce } : {}),
    });
    await this.server.start();
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.viewModel?.dispose();
    this.server = null;
    this.viewModel = null;
  }
}
