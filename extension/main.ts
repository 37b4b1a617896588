// The MoE Lens extension: starts the language server (dist/server.js over IPC) and shows what it computes as
// heatmap decorations, a status bar item, the Experts tree and the routing panel. Hovers come from the server itself.
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { Methods, SteeringMethods, type GenerateProgress, type ModelInfo, type ServerStatus } from '../common/protocol';
import { registerCommands } from './commands';
import { ContinuationDocuments } from './continuation/continuationDocuments';
import { Config } from './config';
import type { Ctx } from './ctx';
import { HeatmapDecorations } from './decorations/heatmapDecorations';
import { createLanguageClient } from './languageClient';
import { registerPanel } from './panelHook';
import { RoutingStore } from './routingStore';
import { StatusBar } from './statusBar';
import { registerNextTokenHover } from './hover/nextTokenHover';
import { PresetStore } from './steering/presetStore';
import { SteeringStore } from './steering/steeringStore';
import { registerVisibleRanges } from './visibleRanges';
import { ExpertsTree } from './views/expertsTree';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<Ctx> {
  const config = new Config();
  const output = vscode.window.createOutputChannel('MoE Lens', { log: true });
  const statusBar = new StatusBar();
  const routing = new RoutingStore(() => client, (m) => output.warn(m));
  const steering = new SteeringStore(context.workspaceState, () => client);
  const decorations = new HeatmapDecorations(routing, config);
  const continuations = new ContinuationDocuments();
  let status: ServerStatus = { state: 'starting', activeRules: 0 };
  let panel: { show(beside?: boolean): void } | undefined;
  let tree: ExpertsTree | undefined;

  const ctx: Ctx = {
    extension: context,
    config,
    output,
    routing,
    steering,
    presets: new PresetStore(context.globalState),
    continuations,
    decorations,
    statusBar,
    model: async (): Promise<ModelInfo | undefined> => {
      if (status.state === 'ready') return status.model;
      if (!client?.isRunning()) return undefined;
      status = await client.sendRequest<ServerStatus>(Methods.getStatus);
      return status.model;
    },
    labels: () => (status.state === 'ready' ? status.model?.labels : undefined),
    restartServer: async () => {
      output.info('restarting the server');
      await client?.restart();
    },
    showRoutingPanel: (beside) => panel?.show(beside),
    request: async <R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> => {
      if (!client?.isRunning()) throw new Error('the MoE Lens server is not running (see the status bar)');
      return client.sendRequest<R>(method, params, token);
    },
  };

  client = createLanguageClient(context, config, output);
  const visibleRanges = registerVisibleRanges(() => client);
  context.subscriptions.push(
    output,
    statusBar,
    routing,
    steering,
    decorations,
    continuations,
    registerNextTokenHover(ctx),
    visibleRanges,
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        // A fresh server (first start, restart, crash recovery) knows nothing: give it the steering state, and drop
        // results of the old one; its routingChanged notifications repaint.
        routing.clear();
        void steering.resend();
        visibleRanges.sendAll();
      } else if (e.newState === State.Stopped) {
        status = { state: 'starting', activeRules: 0 };
        statusBar.showStopped('The MoE Lens server stopped. Run "MoE Lens: Restart Server" if it does not come back.');
      }
    }),
    client.onNotification(Methods.statusChanged, (s: ServerStatus) => {
      // labels arrive after the model (the server computes them once per model): they too redraw the tree
      const modelChanged = s.state !== status.state || s.model?.name !== status.model?.name || !!s.model?.labels !== !!status.model?.labels;
      status = s;
      statusBar.show(s);
      if (modelChanged) tree?.refresh();
    }),
    client.onNotification(SteeringMethods.generateProgress, (p: GenerateProgress) => continuations.onServerProgress(p)),
    client.onNotification(Methods.routingChanged, ({ uri, partial }: { uri: string; partial?: boolean }) => routing.refresh(uri, partial)),
    ...registerCommands(ctx),
  );
  tree = new ExpertsTree(ctx);
  context.subscriptions.push(tree);
  panel = registerPanel(ctx); // the panel module adds its own disposables to context.subscriptions
  try {
    await client.start();
  } catch (e) {
    const message = (e as Error).message;
    output.error(`the server could not start: ${message}`);
    statusBar.showStopped(`The MoE Lens server could not start: ${message}`);
    void vscode.window.showErrorMessage(`MoE Lens: the language server could not start: ${message}`, 'Show Log').then((a) => a && output.show(true));
  }
  decorations.refreshAll();
  return ctx;
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
