import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { SERVER_PROCESS_ENV } from '../common/serverEnv';
import type { Config } from './config';

/** The MoE Lens server over IPC; the client restarts it if it dies (up to its default crash limit). */
export function createLanguageClient(context: vscode.ExtensionContext, config: Config, output: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  const env = { ...process.env, ...SERVER_PROCESS_ENV }; // memory returned when documents close (common/serverEnv.ts)
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { env } },
    debug: { module, transport: TransportKind.ipc, options: { env, execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Every text document: routing is about any text the model reads, not one language.
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    // A function, so a restart (moeLens.restartServer, crash recovery) starts with the settings of that moment.
    // cacheDir: the only folder the server may write (expert labels); never the shared temp folder.
    initializationOptions: () => ({ ...config.server, cacheDir: context.globalStorageUri.fsPath }),
    synchronize: { configurationSection: 'moeLens' },
    // What the server pulls for "moeLens" is config.server, the one place that decides what it may see: in an
    // untrusted workspace no engine URL from the workspace's settings (document text would go there).
    middleware: {
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
