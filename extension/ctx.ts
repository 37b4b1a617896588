import type * as vscode from 'vscode';
import type { RequestType } from 'vscode-languageclient/node';
import type { ModelInfo } from '../common/protocol';
import type { Config } from './config';
import type { HeatmapDecorations } from './decorations/heatmapDecorations';
import type { RoutingPanelHost } from './panel/routingPanel';
import type { RoutingStore } from './routingStore';
import type { ServerStatusStore } from './serverStatus';
import type { StatusBar } from './statusBar';
import type { ContinuationDocuments } from './continuation/continuationDocuments';
import type { PresetStore } from './steering/presetStore';
import type { SteeringStore } from './steering/steeringStore';

/** What commands and views share: one small context object (rust-analyzer's pattern). */
export interface Ctx {
  readonly extension: vscode.ExtensionContext;
  readonly config: Config;
  readonly output: vscode.LogOutputChannel;
  readonly routing: RoutingStore;
  readonly steering: SteeringStore;
  readonly presets: PresetStore;
  readonly continuations: ContinuationDocuments;
  readonly decorations: HeatmapDecorations;
  readonly statusBar: StatusBar;
  /** the server's last reported status */
  readonly status: ServerStatusStore;
  /** the routing panel (side bar view, or beside the editor) */
  readonly panel: RoutingPanelHost;
  /** the loaded model, or undefined while loading / after an error (status.model()) */
  model(): Promise<ModelInfo | undefined>;
  /** expert labels [layer][expert] when known (status.labels()) */
  labels(): string[][] | undefined;
  restartServer(): Promise<void>;
  /** a typed moeLens/* request (common/protocol.ts); rejects with a clear message when the server is not running */
  request<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R>;
  showRoutingPanel(beside: boolean): void;
}
