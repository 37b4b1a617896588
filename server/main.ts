// The MoE Lens language server: `node dist/server.js --stdio` (the extension uses IPC). It owns the model session,
// the steering state and one routing result per open document; everything it shows goes through moeLens/* requests
// and textDocument/hover. This file only makes the connection; lsp/server.ts builds the server on it (the state is
// one object, lsp/serverState.ts; every handler goes through lsp/requests.ts). See docs/ARCHITECTURE.md.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { watchTransport } from './lsp/framing';
import { Inbox } from './lsp/inbox';
import { createServer } from './lsp/server';

// A framing error on stdio (bad Content-Length) would leave the connection deaf forever: exit so the client restarts.
// The transport also counts arrivals, so an analysis can let every waiting message be handled before a model call.
const inbox = new Inbox();
watchTransport(inbox);

const connection = createConnection(ProposedFeatures.all, {
  messageStrategy: {
    handleMessage: (message, next) => {
      inbox.handle();
      return next(message);
    },
  },
});

// The server outlives any one failure: log it, keep serving (the editor must stay usable).
process.on('unhandledRejection', (e) => connection.console.error(`unhandled: ${(e as Error)?.stack ?? String(e)}`));

createServer(connection, { inbox });
connection.listen();
