// The MoE Lens language server: `node dist/server.js --stdio` (the extension uses IPC). It owns the model session,
// the steering state and one routing result per open document; everything it shows goes through moeLens/* requests
// and textDocument/hover. See docs/ARCHITECTURE.md for the data flow.
import {
  createConnection,
  ErrorCodes,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Hover,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Methods, type PackedRoutingResult, type VisibleRangesParams, type RoutingParams, type RoutingResult, type ServerSettings, type ServerStatus, type SetSteeringParams, type SteeringRule, type SteeringState } from '../common/protocol';
import { CancelledError } from './analysis/analyzer';
import { tokenAt } from '../common/tokens';
import { SteeringError, validateRules } from './routing/expertBias';
import { DocumentAnalyses } from './lsp/documentAnalyses';
import { hoverMarkdown } from './lsp/hoverMarkdown';
import { DEFAULT_SETTINGS } from '../common/defaults';
import { ModelHost } from './lsp/modelHost';
import { RoutingReplies } from './lsp/routingReplies';
import { registerSteeringRequests } from './lsp/steeringRequests';
import { registerStatsRequests } from './lsp/statsRequests';
import { TraceDocuments } from './lsp/traceDocuments';
import { expertLabels } from './steering/labels';
import { steeringRefusal, type ModelBackend } from './model/backend';
import { remoteCapabilities } from './model/remote/remoteBackend';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const host = new ModelHost();
let settings: ServerSettings = { ...DEFAULT_SETTINGS };
let rules: SteeringRule[] = [];
/** The session once loaded (undefined while loading or after a failure), for the synchronous steering requests. */
let loaded: ModelBackend | undefined;
let status: ServerStatus = { state: 'starting', activeRules: 0 };
let canPullConfiguration = false;

/** The first visible offset of each document on screen (moeLens/visibleRanges): its window is analysed first. */
const visible = new Map<string, number>();

/** moeLens/routing answers: JSON, or packed with deltas against what each client last received. */
const replies = new RoutingReplies();

/** Documents whose routing an engine trace supplies (moeLens/openTrace), for the version it was opened on. */
const traces = new TraceDocuments();
/** The trace's routing for the document as it is now, if one is open for it. */
const traced = (uri: string) => traces.get(uri, documents.get(uri)?.version);

const analyses = new DocumentAnalyses({
  session: () => host.session(),
  rules: () => rules,
  maxTokens: () => settings.maxTokens,
  text: (uri) => {
    const d = documents.get(uri);
    return d && { text: d.getText(), version: d.version };
  },
  onResult: (uri, r) => {
    setStatus({ lastAnalysis: { uri, tokens: r.tokens, ms: r.elapsedMs, truncated: r.truncated, windows: r.windows } });
    void connection.sendNotification(Methods.routingChanged, { uri, version: r.version });
  },
  onPartial: (uri, r) => void connection.sendNotification(Methods.routingChanged, { uri, version: r.version, partial: true }),
  visibleOffset: (uri) => visible.get(uri),
  // While ready, `message` says what is being analysed (the client shows a spinner); cleared when the queue is empty.
  onBusy: (uri) => {
    if (status.state === 'ready') setStatus({ message: uri ? `Analysing ${uri.slice(uri.lastIndexOf('/') + 1)}` : undefined });
  },
});

/** A message for the user; a client that does not answer (or refuses) must not take the server down. */
function notify(kind: 'error' | 'warning', message: string): void {
  const shown = kind === 'error' ? connection.window.showErrorMessage(message) : connection.window.showWarningMessage(message);
  void Promise.resolve(shown).catch(() => undefined);
}

// The server outlives any one failure: log it, keep serving (the editor must stay usable).
process.on('unhandledRejection', (e) => connection.console.error(`unhandled: ${(e as Error)?.stack ?? String(e)}`));

function setStatus(patch: Partial<ServerStatus>): void {
  status = { ...status, ...patch, activeRules: rules.length };
  void connection.sendNotification(Methods.statusChanged, status);
}

/** Where computed expert labels are cached (per model sha256; losing it only costs recomputing them). */
const labelCacheDir = (): string => join(tmpdir(), 'moe-lens-cache');

/** Bumped by every (re)load: a load that finishes after a newer one started must not report its outcome. */
let loadGeneration = 0;

/** Loads (or reloads) the model for the current settings and reports progress and errors through the status. */
async function loadModel(): Promise<void> {
  if (!host.configure(settings)) return;
  const generation = ++loadGeneration;
  const superseded = () => generation !== loadGeneration;
  analyses.invalidateAll();
  traces.clear(); // a trace was checked against the old model's tokenizer and shape
  loaded = undefined;
  const engine = settings.backend && settings.backend !== 'onnx' ? settings.backend : undefined;
  setStatus({ state: 'loading', model: undefined, backend: undefined, modelPath: host.dir, message: engine ? `Connecting to ${engine} at ${host.dir}` : `Loading model from ${host.dir}` });
  const progress = await connection.window.createWorkDoneProgress().catch(() => undefined);
  progress?.begin('MoE Lens: loading model', undefined, host.dir);
  try {
    const session = await host.session();
    if (superseded()) return;
    loaded = session;
    connection.console.info(`model ${session.info.name} loaded from ${session.source} on ${session.info.executionProvider}`);
    setStatus({ state: 'ready', model: session.info, message: undefined, backend: { kind: session.kind, source: session.source, capabilities: session.capabilities } });
    // A serving engine can stop answering after it loaded: the status bar says which engine and why, until it answers.
    session.onHealth?.((problem) => {
      if (superseded()) return;
      if (problem) connection.console.warn(problem);
      setStatus(problem ? { state: 'error', model: session.info, message: problem } : { state: 'ready', model: session.info, message: undefined });
    });
    if (steeringRefusal(session) && rules.length) {
      notify('warning', `MoE Lens: steering rules were cleared: ${steeringRefusal(session)}`);
      rules = [];
    }
    // Validate the steering state against the new model; rules that no longer fit are dropped with a message.
    try {
      rules = validateRules(rules, session.info);
    } catch (e) {
      notify('warning', `MoE Lens: steering rules do not fit the new model and were cleared (${(e as Error).message})`);
      rules = [];
    }
    for (const d of documents.all()) analyses.schedule(d.uri);
    // Expert labels (profile corpus, cached per model on disk) arrive a little later through the status: hover, tree
    // and quick picks show them from then on. A model without a profile corpus simply has none.
    void expertLabels(session, labelCacheDir())
      .then((l) => l && !superseded() && setStatus({ model: { ...session.info, labels: l.labels } }))
      .catch((e) => connection.console.warn(`expert labels unavailable: ${(e as Error).message}`));
  } catch (e) {
    if (superseded()) return;
    const message = (e as Error).message;
    connection.console.error(`model failed to load: ${message}`);
    // A remote engine that cannot be reached still names itself in the status bar.
    setStatus({ state: 'error', model: undefined, message, backend: engine ? { kind: engine, source: host.dir ?? '', capabilities: remoteCapabilities(engine) } : undefined });
    notify('error', `MoE Lens: the model could not be loaded. ${message}`);
  } finally {
    progress?.done();
  }
}

function readSettings(raw: unknown): ServerSettings {
  const s = (raw ?? {}) as Partial<ServerSettings>;
  const provider = s.executionProvider;
  return {
    modelPath: typeof s.modelPath === 'string' ? s.modelPath : '',
    executionProvider: provider === 'cpu' || provider === 'cuda' || provider === 'webgpu' ? provider : 'auto',
    maxTokens: Number.isInteger(s.maxTokens) && (s.maxTokens as number) > 0 ? (s.maxTokens as number) : DEFAULT_SETTINGS.maxTokens,
    backend: s.backend === 'vllm' || s.backend === 'sglang' ? s.backend : 'onnx',
    remote: { url: typeof s.remote?.url === 'string' ? s.remote.url : '', model: typeof s.remote?.model === 'string' ? s.remote.model : '' },
  };
}

/** Turns failures into LSP errors with the message a person needs. */
function asResponseError(e: unknown): ResponseError<void> {
  if (e instanceof ResponseError) return e;
  if (e instanceof SteeringError) return new ResponseError(ErrorCodes.InvalidParams, e.message);
  if (e instanceof CancelledError) return new ResponseError(LSPErrorCodes.RequestCancelled, e.message);
  return new ResponseError(ErrorCodes.InternalError, status.state === 'error' && status.message ? `model not loaded: ${status.message}` : (e as Error).message);
}

connection.onInitialize((params): InitializeResult => {
  settings = readSettings(params.initializationOptions);
  canPullConfiguration = !!params.capabilities.workspace?.configuration;
  return {
    capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, hoverProvider: true },
    serverInfo: { name: 'moe-lens', version: '0.1.0' },
  };
});

connection.onInitialized(() => void loadModel());

connection.onDidChangeConfiguration(async (change) => {
  // Pull model (the client answers workspace/configuration); push model as a fallback for simple clients.
  let raw: unknown = (change.settings as { moeLens?: unknown } | null)?.moeLens;
  if (canPullConfiguration) raw = await connection.workspace.getConfiguration('moeLens').catch(() => raw);
  const next = readSettings(raw);
  const maxChanged = next.maxTokens !== settings.maxTokens;
  settings = next;
  if (maxChanged) {
    analyses.invalidateAll();
    for (const d of documents.all()) analyses.schedule(d.uri);
  }
  await loadModel();
});

/** A serving engine that was down when it was set is tried again on the next open or edit (modelHost.ts). */
function reconnectEngine(): void {
  if (status.state === 'error' && !loaded && host.forgetFailedEngine(settings)) void loadModel();
}

documents.onDidOpen((e) => {
  reconnectEngine();
  analyses.schedule(e.document.uri);
});
documents.onDidChangeContent((e) => {
  reconnectEngine();
  traces.close(e.document.uri); // a trace describes the text it was recorded on, not an edited one
  analyses.schedule(e.document.uri);
});
connection.onNotification(Methods.visibleRanges, (p: VisibleRangesParams) => {
  const first = p?.ranges?.[0]?.[0];
  if (typeof p?.uri === 'string' && Number.isInteger(first)) visible.set(p.uri, first);
});

documents.onDidClose((e) => {
  visible.delete(e.document.uri);
  traces.close(e.document.uri);
  analyses.forget(e.document.uri);
  replies.forget(e.document.uri);
});

connection.onRequest(Methods.routing, async (params: RoutingParams): Promise<RoutingResult | PackedRoutingResult> => {
  try {
    const uri = params.textDocument.uri;
    const doc = documents.get(uri);
    const fromTrace = traced(uri);
    if (fromTrace) return replies.reply(params, fromTrace);
    const partial = params.partial && doc ? analyses.partial(uri, doc.version) : undefined;
    return replies.reply(params, partial ?? (await analyses.get(uri)));
  } catch (e) {
    throw asResponseError(e);
  }
});

connection.onRequest(Methods.getStatus, () => status);
connection.onRequest(Methods.getSteering, (): SteeringState => ({ rules }));
connection.onRequest(Methods.setSteering, async (params: SetSteeringParams): Promise<SteeringState> => {
  try {
    const session = await host.session();
    const refusal = steeringRefusal(session);
    if (refusal && Array.isArray(params?.rules) && params.rules.length > 0) throw new ResponseError(ErrorCodes.InvalidRequest, `steering is not available: ${refusal}`);
    rules = validateRules(params?.rules, session.info);
  } catch (e) {
    throw asResponseError(e);
  }
  analyses.invalidateAll();
  setStatus({});
  for (const d of documents.all()) analyses.schedule(d.uri);
  return { rules };
});

connection.onHover(async (params): Promise<Hover | null> => {
  const doc = documents.get(params.textDocument.uri);
  if (!doc) return null;
  let r: RoutingResult;
  try {
    r = traced(doc.uri) ?? (await analyses.get(doc.uri));
  } catch {
    return null; // hover is best effort: errors show in the status bar, not in a popup
  }
  const current = documents.get(doc.uri);
  if (!current || current.version !== r.version) return null;
  const t = tokenAt(r.offsets, current.offsetAt(params.position));
  if (t < 0 || r.offsets[2 * t + 1] <= r.offsets[2 * t] && t === r.tokens - 1) return null;
  const session = await host.session();
  return {
    contents: { kind: 'markdown', value: hoverMarkdown(r, t, session.tokenizer.tokenText(r.ids[t]), status.model?.labels) },
    range: { start: current.positionAt(r.offsets[2 * t]), end: current.positionAt(r.offsets[2 * t + 1]) },
  };
});

// Continuation, next-token change, contrastive finder, labels and usage (server/steering, server/lsp/steeringRequests).
registerSteeringRequests(connection, {
  getSession: () => loaded,
  getRules: () => rules,
  getDocumentText: (uri) => documents.get(uri)?.getText(),
  cacheDir: labelCacheDir,
  getRouting: async (uri) => traced(uri) ?? analyses.get(uri),
  maxTokens: () => settings.maxTokens,
});

// Routing statistics and engine traces (server/lsp/statsRequests.ts).
registerStatsRequests(connection, {
  session: () => host.session(),
  rules: () => rules,
  maxTokens: () => settings.maxTokens,
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
