// The real server (server/lsp/server.ts, built as main.ts builds it) on an in-memory connection, with a JSON-RPC
// client, for tests and benchmarks that drive its document analyses in process (server.analyses) with documents the
// client opens and edits. Arrivals are counted at the transport as on stdio (framing.ts's watcher feeds an Inbox,
// the connection's message strategy counts what it handles), so the analyses drain messages before each model call
// and background work waits for a quiet client, as in the server process.
import { PassThrough } from 'node:stream';
import { createConnection } from 'vscode-languageserver/node';
import { createProtocolConnection, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import { Methods, type ServerSettings, type ServerStatus } from '../../common/protocol';
import type { ModelBackend } from '../../server/model/backend';
import { FramingWatcher } from '../../server/lsp/framing';
import { Inbox } from '../../server/lsp/inbox';
import { ModelHost } from '../../server/lsp/modelHost';
import { createServer } from '../../server/lsp/server';
import type { Server } from '../../server/lsp/serverState';

export interface InMemoryServer {
  server: Server;
  client: ProtocolConnection;
  /** opens a document at version 1; resolves once the server has handled it */
  open(uri: string, text: string, languageId?: string): Promise<void>;
  /** replaces a document's text (the next version); resolves once the server has handled it */
  change(uri: string, text: string): Promise<void>;
  dispose(): void;
}

/** A server whose model is `model` (loaded by the caller, disposed by it), ready once this resolves. */
export async function inMemoryServer(model: ModelBackend, settings: Partial<ServerSettings> & { cacheDir?: string } = {}): Promise<InMemoryServer> {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const inbox = new Inbox();
  const framing = new FramingWatcher(() => inbox.arrive());
  toServer.on('data', (chunk: Buffer) => void framing.push(chunk));
  const connection = createConnection(toServer, toClient, {
    messageStrategy: {
      handleMessage: (message, next) => {
        inbox.handle();
        return next(message);
      },
    },
  });
  const server = createServer(connection, { host: new ModelHost(async () => model), inbox });
  connection.listen();
  const client = createProtocolConnection(toClient, toServer);
  client.listen();
  await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {}, initializationOptions: { modelPath: '', executionProvider: 'cpu', maxTokens: 4096, ...settings } });
  void client.sendNotification('initialized', {});
  const status = () => client.sendRequest(Methods.getStatus) as Promise<ServerStatus>;
  for (let st = await status(); st.state !== 'ready'; st = await status()) {
    if (st.state === 'error') throw new Error(`the in-memory server did not load its model: ${st.message}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const versions = new Map<string, number>();
  // JSON-RPC handles messages in order: once a request sent after a notification is answered, the notification is handled
  const handled = async () => void (await status());
  return {
    server,
    client,
    async open(uri, text, languageId = 'plaintext') {
      versions.set(uri, 1);
      void client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
      await handled();
    },
    async change(uri, text) {
      const version = (versions.get(uri) ?? 0) + 1;
      versions.set(uri, version);
      void client.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
      await handled();
    },
    dispose() {
      client.dispose();
      connection.dispose();
    },
  };
}
