import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { Methods, type ModelInfo, type ServerStatus } from '../common/protocol';
import { registerCommands } from './commands';
import { Config } from './config';
import type { Ctx } from './ctx';
import { HeatmapDecorations } from './decorations/heatmapDecorations';
import { createLanguageClient } from './languageClient';
import { RoutingStore } from './routingStore';
import { StatusBar } from './statusBar';
import { SteeringStore } from './steering/steeringStore';
import { registerPanel } from './panelHook';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<Ctx> {
  const config = new Config();
  const output = vscode.window.createOutputChannel('MoE Lens', { log: true });
  const statusBar = new StatusBar();
  const routing = new RoutingStore(() => client);
  const steering = new SteeringStore(context.workspaceState, () => client);
  const decorations = new HeatmapDecorations(routing, config);
  let status: ServerStatus = { state: 'starting', activeRules: 0 };
  let panel: { show(): void } | undefined;

  const ctx: Ctx = {
    extension: context,
    config,
    output,
    routing,
    steering,
    decorations,
    statusBar,
    model: async (): Promise<ModelInfo | undefined> => {
      if (status.state === 'ready') return status.model;
      if (!client?.isRunning()) return undefined;
      status = await client.sendRequest<ServerStatus>(Methods.getStatus);
      return status.model;
    },
    labels: () => undefined,
    restartServer: async () => {
      await client?.restart();
    },
    showRoutingPanel: () => panel?.show(),
  };

  client = createLanguageClient(context, config, output);
  client.onDidChangeState((e) => {
    if (e.newState === State.Running) {
      // A fresh server knows nothing: give it the steering state and redraw from its results.
      routing.clear();
      void steering.resend();
    } else if (e.newState === State.Stopped) statusBar.showStopped('The MoE Lens server stopped; it is restarted automatically.');
  });
  context.subscriptions.push(
    output,
    statusBar,
    routing,
    steering,
    decorations,
    client.onNotification(Methods.statusChanged, (s: ServerStatus) => {
      status = s;
      statusBar.show(s);
    }),
    client.onNotification(Methods.routingChanged, ({ uri }: { uri: string }) => void routing.refresh(uri)),
    steering.onDidChange(() => void 0),
    ...registerCommands(ctx),
  );
  panel = registerPanel(ctx);
  try {
    await client.start();
  } catch (e) {
    statusBar.showStopped(`The MoE Lens server could not start: ${(e as Error).message}`);
    void vscode.window.showErrorMessage(`MoE Lens: the language server could not start: ${(e as Error).message}`);
  }
  decorations.refreshAll();
  return ctx;
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
