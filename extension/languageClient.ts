import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { SERVER_PROCESS_ENV } from '../common/serverEnv';
import type { Config } from './config';
import { analysedSelector } from '../common/analysedDocuments';

const TOGGLE_HOVER_LAYERS = 'moeLens.toggleHoverLayers'; // server/lsp/hoverMarkdown.ts links to it

/** The MoE Lens server over IPC; the client restarts it if it dies (up to its default crash limit). */
export function createLanguageClient(context: vscode.ExtensionContext, config: Config, output: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  const env = { ...process.env, ...SERVER_PROCESS_ENV }; // memory returned when documents close (common/serverEnv.ts)
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { env } },
    debug: { module, transport: TransportKind.ipc, options: { env, execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Every text document of an analysed scheme (common/analysedDocuments.ts): any language the model reads.
    documentSelector: analysedSelector(),
    // A function, so a restart (moeLens.restartServer, crash recovery) starts with the settings of that moment.
    // cacheDir: the only folder the server may write (expert labels); never the shared temp folder.
    initializationOptions: () => ({ ...config.server, cacheDir: context.globalStorageUri.fsPath }),
    synchronize: { configurationSection: 'moeLens' },
    // What the server pulls for "moeLens" is config.server, the one place that decides what it may see: in an
    // untrusted workspace no engine URL from the workspace's settings (document text would go there).
    middleware: {
      // The routing hover's one command link (all layers / fewer layers) works only in trusted markdown: trust
      // exactly that command, nothing else a hover could name.
      provideHover: async (document, position, token, next) => {
        const h = await next(document, position, token);
        for (const c of h?.contents ?? []) if (c instanceof vscode.MarkdownString) c.isTrusted = { enabledCommands: [TOGGLE_HOVER_LAYERS] };
        return h;
      },
      workspace: {
        configuration: async (params, token, next) => {
          const values = await next(params, token);
          return Array.isArray(values) ? params.items.map((item, i): unknown => (item.section === 'moeLens' ? config.server : values[i])) : values;
        },
      },
    },
    outputChannel: output,
  };
  return new LanguageClient('moeLens', 'MoE Lens', serverOptions, clientOptions);
}
