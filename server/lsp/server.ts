// Builds the language server on a connection: the one `Server` object every handler takes (serverState.ts), the
// document analyses (which take that object too), and every handler registered once. main.ts gives it the stdio
// connection and its inbox; tests give it an in-memory one (test/model/steeringRequests.test.ts,
// test/support/inMemoryServer.ts) and, where they stand in for a hung disk, their own ModelHost.
import { TextDocuments, TextDocumentSyncKind, type Connection, type InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DocumentAnalyses } from './documentAnalyses';
import { ModelHost } from './modelHost';
import { NOTEBOOK_SYNC, NotebookCells, registerNotebooks } from './notebookCells';
import { loadModel, onConfigurationChange } from './modelLoading';
import { RoutingReplies } from './routingReplies';
import { registerRoutingHandlers } from './routingHandlers';
import { initialState, readCacheDir, readSettings, type Server } from './serverState';
import { registerStatsRequests } from './statsRequests';
import { registerSteeringRequests } from './steeringRequests';
import { TraceDocuments } from './traceDocuments';
import { VisibleOffsets } from './visibleOffsets';

export interface ServerOptions {
  host?: ModelHost;
  /** the transport's message counts (lsp/inbox.ts; main.ts counts them on stdio and IPC) */
  inbox?: Server['inbox'];
}

export function createServer(connection: Connection, opts: ServerOptions = {}): Server {
  const documents = new TextDocuments(TextDocument);
  const state = initialState();
  const host = opts.host ?? new ModelHost();
  const parts = {
    connection,
    documents,
    host,
    replies: new RoutingReplies(),
    visible: new VisibleOffsets((uri) => !!documents.get(uri)),
    traces: new TraceDocuments(),
    notebookCells: new NotebookCells(documents),
    state,
    inbox: opts.inbox,
  };
  // the analyses take the same object as every handler (they read all of it but themselves)
  const server: Server = Object.assign(parts, { analyses: new DocumentAnalyses(parts) });
  const { analyses } = server;

  connection.onInitialize((params): InitializeResult => {
    state.settings = readSettings(params.initializationOptions);
    state.cacheDir = readCacheDir(params.initializationOptions);
    state.canPullConfiguration = !!params.capabilities.workspace?.configuration;
    return {
      capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, notebookDocumentSync: NOTEBOOK_SYNC, hoverProvider: true },
      serverInfo: { name: 'moe-lens', version: '0.1.0' },
    };
  });
  connection.onInitialized(() => void loadModel(server));
  connection.onDidChangeConfiguration((change) => onConfigurationChange(server, change.settings));

  /** A serving engine that was down when it was set is tried again on the next open or edit (modelHost.ts). */
  const reconnectEngine = () => {
    if (state.status.state === 'error' && !state.loaded && host.forgetFailedEngine(state.settings)) void loadModel(server);
  };
  documents.onDidOpen((e) => {
    reconnectEngine();
    server.visible.opened(e.document.uri);
    analyses.schedule(e.document.uri);
  });
  // Every change (even one that repeats a version number) drops the document's result and stops its running analysis.
  documents.onDidChangeContent((e) => {
    reconnectEngine();
    server.traces.close(e.document.uri); // a trace describes the text it was recorded on, not an edited one
    analyses.changed(e.document.uri);
  });
  documents.onDidClose((e) => {
    server.visible.closed(e.document.uri);
    server.traces.close(e.document.uri);
    analyses.forget(e.document.uri);
    server.replies.forget(e.document.uri);
  });

  registerRoutingHandlers(server); // moeLens/routing, hover, status, steering state, visible ranges
  registerSteeringRequests(server); // continuation, next-token change, contrastive finder, labels, usage
  registerStatsRequests(server); // routing statistics and engine traces
  registerNotebooks(server); // notebook document sync: cells in order, into `documents`
  documents.listen(connection);
  return server;
}
