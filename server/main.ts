// The MoE Lens language server: `node dist/server.js --stdio` (the extension uses IPC). It owns the model session,
// the steering state and one routing result per open document; everything it shows goes through moeLens/* requests
// and textDocument/hover. This file only wires: the state is one object (lsp/serverState.ts), the handlers live in
// lsp/routingHandlers.ts, lsp/modelLoading.ts and lsp/steeringRequests.ts. See docs/ARCHITECTURE.md for the data flow.
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, type InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Methods } from '../common/protocol';
import { DocumentAnalyses } from './lsp/documentAnalyses';
import { watchTransport } from './lsp/framing';
import { Inbox } from './lsp/inbox';
import { ModelHost } from './lsp/modelHost';
import { loadModel, onConfigurationChange } from './lsp/modelLoading';
import { RoutingReplies } from './lsp/routingReplies';
import { registerRoutingHandlers, tracedRouting } from './lsp/routingHandlers';
import { initialState, readCacheDir, readSettings, setStatus, type Server } from './lsp/serverState';
import { registerStatsRequests } from './lsp/statsRequests';
import { registerSteeringRequests } from './lsp/steeringRequests';
import { TraceDocuments } from './lsp/traceDocuments';
import { VisibleOffsets } from './lsp/visibleOffsets';

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
const documents = new TextDocuments(TextDocument);
const state = initialState();
const host = new ModelHost();

const analyses: DocumentAnalyses = new DocumentAnalyses({
  session: () => host.session(),
  // before each model call: handle every message that arrived (an edit makes the running analysis obsolete)
  drainMessages: () => inbox.drained(),
  rules: () => state.rules,
  maxTokens: () => state.settings.maxTokens,
  text: (uri) => {
    const d = documents.get(uri);
    return d && { text: d.getText(), version: d.version };
  },
  onResult: (uri, r) => {
    setStatus(server, { lastAnalysis: { uri, tokens: r.tokens, ms: r.elapsedMs, truncated: r.truncated, windows: r.windows } });
    void connection.sendNotification(Methods.routingChanged, { uri, version: r.version });
  },
  onPartial: (uri, r) => void connection.sendNotification(Methods.routingChanged, { uri, version: r.version, partial: true }),
  visibleOffset: (uri) => server.visible.get(uri),
  // While ready, `message` says what is being analysed (the client shows a spinner); cleared when the queue is empty.
  onBusy: (uri) => {
    if (state.status.state === 'ready') setStatus(server, { message: uri ? `Analysing ${uri.slice(uri.lastIndexOf('/') + 1)}` : undefined });
  },
  // A background analysis that fails is logged (a cancelled one is not a failure).
  onError: (uri, e) => connection.console.error(`analysis of ${uri} failed: ${(e as Error)?.stack ?? String(e)}`),
});

/** Documents whose routing an engine trace supplies (moeLens/openTrace), for the version it was opened on. */
const traces = new TraceDocuments();
const server: Server = { connection, documents, host, analyses, replies: new RoutingReplies(), visible: new VisibleOffsets((uri) => !!documents.get(uri)), traces, state };

// The server outlives any one failure: log it, keep serving (the editor must stay usable).
process.on('unhandledRejection', (e) => connection.console.error(`unhandled: ${(e as Error)?.stack ?? String(e)}`));

connection.onInitialize((params): InitializeResult => {
  state.settings = readSettings(params.initializationOptions);
  state.cacheDir = readCacheDir(params.initializationOptions);
  state.canPullConfiguration = !!params.capabilities.workspace?.configuration;
  return {
    capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, hoverProvider: true },
    serverInfo: { name: 'moe-lens', version: '0.1.0' },
  };
});
connection.onInitialized(() => void loadModel(server));
connection.onDidChangeConfiguration((change) => onConfigurationChange(server, change.settings));

/** A serving engine that was down when it was set is tried again on the next open or edit (modelHost.ts). */
function reconnectEngine(): void {
  if (state.status.state === 'error' && !state.loaded && host.forgetFailedEngine(state.settings)) void loadModel(server);
}

documents.onDidOpen((e) => {
  reconnectEngine();
  server.visible.opened(e.document.uri);
  analyses.schedule(e.document.uri);
});
// Every change (even one that repeats a version number) drops the document's result and stops its running analysis.
documents.onDidChangeContent((e) => {
  reconnectEngine();
  traces.close(e.document.uri); // a trace describes the text it was recorded on, not an edited one
  analyses.changed(e.document.uri);
});
documents.onDidClose((e) => {
  server.visible.closed(e.document.uri);
  traces.close(e.document.uri);
  analyses.forget(e.document.uri);
  server.replies.forget(e.document.uri);
});

registerRoutingHandlers(server);
// Continuation, next-token change, contrastive finder, labels and usage (server/steering, server/lsp/steeringRequests).
registerSteeringRequests(connection, {
  getSession: () => state.loaded,
  getRules: () => state.rules,
  getDocumentText: (uri) => documents.get(uri)?.getText(),
  cacheDir: () => state.cacheDir,
  getRouting: async (uri) => tracedRouting(server, uri) ?? analyses.get(uri),
  maxTokens: () => state.settings.maxTokens,
});

// Routing statistics and engine traces (server/lsp/statsRequests.ts).
registerStatsRequests(connection, {
  session: () => host.session(),
  rules: () => state.rules,
  maxTokens: () => state.settings.maxTokens,
  document: (uri) => {
    const d = documents.get(uri);
    return d && { text: d.getText(), version: d.version };
  },
  traces,
  onRoutingSourceChanged: (uri) => {
    const d = documents.get(uri);
    if (d) void connection.sendNotification(Methods.routingChanged, { uri, version: d.version });
  },
});

documents.listen(connection);
connection.listen();
