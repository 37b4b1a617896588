// Builds the language server on a connection: the one `Server` object every handler takes (serverState.ts), the
// document analyses, and every handler registered once. main.ts gives it the stdio connection; tests give it an
// in-memory one (test/model/steeringRequests.test.ts) and, where they stand in for a hung disk, their own ModelHost.
import { TextDocuments, TextDocumentSyncKind, type Connection, type InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Methods } from '../../common/protocol';
import { DocumentAnalyses } from './documentAnalyses';
import { ModelHost } from './modelHost';
import { cellPrefix, NOTEBOOK_SYNC, NotebookCells, registerNotebooks } from './notebookCells';
import { loadModel, onConfigurationChange } from './modelLoading';
import { session } from './requests';
import { RoutingReplies } from './routingReplies';
import { registerRoutingHandlers } from './routingHandlers';
import { initialState, readCacheDir, readSettings, setStatus, type Server } from './serverState';
import { registerStatsRequests } from './statsRequests';
import { registerSteeringRequests } from './steeringRequests';
import { TraceDocuments } from './traceDocuments';
import { VisibleOffsets } from './visibleOffsets';

export interface ServerOptions {
  host?: ModelHost;
  /** resolves once the messages that arrived so far are handled (lsp/inbox.ts): awaited before each model call */
  drainMessages?: () => Promise<void>;
  /** when the transport last received a message (lsp/inbox.ts): background model work waits for a quiet client */
  lastMessageAt?: () => number;
}

export function createServer(connection: Connection, opts: ServerOptions = {}): Server {
  const documents = new TextDocuments(TextDocument);
  const state = initialState();
  const host = opts.host ?? new ModelHost();
  const notebookCells = new NotebookCells(documents);
  const analyses: DocumentAnalyses = new DocumentAnalyses({
    session: () => session(server),
    // before each model call: handle every message that arrived (an edit makes the running analysis obsolete)
    drainMessages: opts.drainMessages,
    lastMessageAt: opts.lastMessageAt,
    rules: () => state.rules,
    maxTokens: () => state.settings.maxTokens,
    text: (uri) => {
      const d = documents.get(uri);
      if (!d) return undefined;
      // a notebook cell read after the cells above it (moeLens.notebook.context), else the document alone
      const prefix = cellPrefix(server, uri);
      return { text: d.getText(), version: d.version, ...(prefix ? { prefix } : {}) };
    },
    onResult: (uri, r) => {
      setStatus(server, { lastAnalysis: { uri, tokens: r.tokens, ms: r.elapsedMs, truncated: r.truncated, windows: r.windows } });
      void connection.sendNotification(Methods.routingChanged, { uri, version: r.version });
    },
    onPartial: (uri, r) => void connection.sendNotification(Methods.routingChanged, { uri, version: r.version, partial: true }),
    visibleOffset: (uri) => server.visible.get(uri),
    // While ready, `message` says what is being analysed (the client shows a spinner); cleared when the queue is empty.
    // A notebook cell is named by its notebook (its URI's fragment only tells VS Code which cell).
    onBusy: (uri) => {
      if (state.status.state === 'ready') setStatus(server, { message: uri ? `Analysing ${uri.slice(uri.lastIndexOf('/') + 1).replace(/#.*/, '')}` : undefined });
    },
    // A background analysis that fails is logged (a cancelled one is not a failure).
    onError: (uri, e) => connection.console.error(`analysis of ${uri} failed: ${(e as Error)?.stack ?? String(e)}`),
  });
  const server: Server = {
    connection,
    documents,
    host,
    analyses,
    replies: new RoutingReplies(),
    visible: new VisibleOffsets((uri) => !!documents.get(uri)),
    traces: new TraceDocuments(),
    notebookCells,
    state,
  };

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
