// The MoE Lens extension: starts the language server (dist/server.js over IPC) and shows what it computes as
// heatmap decorations, a status bar item, the Experts tree and the routing panel. Hovers come from the server itself.
import * as vscode from 'vscode';
import { State, type LanguageClient, type RequestParam } from 'vscode-languageclient/node';
import { Methods, StatsProgressNotification, SteeringMethods } from '../common/protocol';
import { registerCommands } from './commands';
import { runPruneAction } from './prune/pruneCommand';
import { ContinuationDocuments } from './continuation/continuationDocuments';
import { Config } from './config';
import type { Ctx } from './ctx';
import { HeatmapDecorations } from './decorations/heatmapDecorations';
import { createLanguageClient } from './languageClient';
import { panelModel, RoutingPanelHost } from './panel/routingPanel';
import { RoutingStore } from './routingStore';
import { ServerStatusStore } from './serverStatus';
import { StatusBar } from './statusBar';
import { followActiveEditor } from './activeDocumentStatus';
import { registerNextTokenHover } from './hover/nextTokenHover';
import { PresetStore } from './steering/presetStore';
import { SteeringStore } from './steering/steeringStore';
import { registerVisibleRanges } from './visibleRanges';
import { setCapabilityContext } from './capabilityContext';
import { ExpertsTree } from './views/expertsTree';
import { statsProgress } from './stats/routingStatistics';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<Ctx> {
  const config = new Config();
  const output = vscode.window.createOutputChannel('MoE Lens', { log: true });
  const statusBar = new StatusBar();
  const routing = new RoutingStore(() => client, (m) => output.warn(m));
  const steering = new SteeringStore(context.workspaceState, () => client);
  const decorations = new HeatmapDecorations(routing, config);
  const continuations = new ContinuationDocuments();
  const status = new ServerStatusStore(() => client);
  const panel = new RoutingPanelHost(context.extensionUri, panelModel(routing, steering, output, status));

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
    status,
    panel,
    model: () => status.model(),
    labels: () => status.labels(),
    restartServer: async () => {
      output.info('restarting the server');
      await client?.restart();
    },
    showRoutingPanel: (beside) => void panel.show(beside),
    request: async (type, params, token) => {
      if (!client?.isRunning()) throw new Error('the MoE Lens server is not running (see the status bar)');
      // jsonrpc's RequestParam<P> is a conditional type that stays unresolved for a generic P: the same P, spelled out
      return client.sendRequest(type, params as RequestParam<typeof params>, token);
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
    status,
    panel,
    registerNextTokenHover(ctx),
    followActiveEditor(routing, statusBar),
    visibleRanges,
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        // A fresh server (first start, restart, crash recovery) knows nothing: give it the steering state, and drop
        // results of the old one; its routingChanged notifications repaint.
        routing.clear();
        void steering.resend();
        visibleRanges.sendAll();
      } else if (e.newState === State.Stopped) {
        status.reset();
        statusBar.showStopped('The MoE Lens server stopped. Run "MoE Lens: Restart Server" if it does not come back.');
      }
    }),
    client.onNotification(Methods.statusChanged, (s) => {
      status.update(s);
      statusBar.show(s);
      setCapabilityContext(s);
    }),
    client.onNotification(SteeringMethods.generateProgress, (p) => continuations.onServerProgress(p)),
    client.onNotification(Methods.routingChanged, ({ uri, partial }) => routing.refresh(uri, partial)),
    client.onNotification(StatsProgressNotification, (p) => statsProgress.fire(p)),
    ...registerCommands(ctx),
    panel.onPruneAction((a) => void runPruneAction(ctx, a)),
    new ExpertsTree(ctx),
  );
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
