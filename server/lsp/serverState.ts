// Everything the server holds that changes while it runs, in one object: the handlers (routingHandlers.ts,
// modelLoading.ts, steeringRequests.ts) read and write it through `state`, instead of each file keeping module globals.
import { isAbsolute } from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import type { TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { BACKEND_KINDS, EXECUTION_PROVIDERS } from '../../common/backends';
import { Methods, type ServerSettings, type ServerStatus, type SteeringRule } from '../../common/protocol';
import type { ModelBackend } from '../model/backend';
import type { DocumentAnalyses } from './documentAnalyses';
import type { Inbox } from './inbox';
import { DEFAULT_NOTEBOOK_CONTEXT, DEFAULT_SETTINGS, NOTEBOOK_CONTEXT_MODES } from '../../common/defaults';
import type { ModelHost } from './modelHost';
import type { NotebookCells } from './notebookCells';
import type { RoutingReplies } from './routingReplies';
import type { TraceDocuments } from './traceDocuments';
import type { VisibleOffsets } from './visibleOffsets';

/** initializationOptions: the settings, plus the folder the client lets the server cache in (its global storage). */
export interface InitializationOptions extends ServerSettings {
  /** absent: no disk cache at all (CLI, a bare LSP client) */
  cacheDir?: string;
}

export interface ServerState {
  settings: ServerSettings;
  /** a folder the client chose for caches (extension global storage); undefined: nothing is written */
  cacheDir: string | undefined;
  rules: SteeringRule[];
  /** the session once loaded (undefined while loading or after a failure), for the synchronous steering requests */
  loaded: ModelBackend | undefined;
  status: ServerStatus;
  canPullConfiguration: boolean;
  /** bumped by every (re)load: a load that finishes after a newer one started must not report its outcome */
  loadGeneration: number;
}

/**
 * The parts the handlers share: the connection, the open documents, the model host, analyses and replies. The one
 * dependency object: every handler and the document analyses (a Pick of it) take it.
 */
export interface Server {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  host: ModelHost;
  analyses: DocumentAnalyses;
  replies: RoutingReplies;
  /** first visible offset of each open document on screen (moeLens/visibleRanges) */
  visible: VisibleOffsets;
  /** documents whose routing an engine trace supplies (moeLens/openTrace) */
  traces: TraceDocuments;
  /** open notebooks and their cells in order (LSP notebook sync) */
  notebookCells: NotebookCells;
  state: ServerState;
  /**
   * the messages that arrived and those handled (lsp/inbox.ts): an analysis lets them be handled before each model
   * call, and background model work waits for a quiet client; absent where the transport does not count them
   */
  inbox?: Pick<Inbox, 'drained' | 'lastArrival'>;
}

export const initialState = (): ServerState => ({
  settings: { ...DEFAULT_SETTINGS },
  cacheDir: undefined,
  rules: [],
  loaded: undefined,
  status: { state: 'starting', activeRules: 0 },
  canPullConfiguration: false,
  loadGeneration: 0,
});

export function setStatus(s: Pick<Server, 'connection' | 'state'>, patch: Partial<ServerStatus>): void {
  s.state.status = { ...s.state.status, ...patch, activeRules: s.state.rules.length };
  void s.connection.sendNotification(Methods.statusChanged, s.state.status);
}

/** A message for the user; a client that does not answer (or refuses) must not take the server down. */
export function notify(s: Pick<Server, 'connection'>, kind: 'error' | 'warning', message: string): void {
  const shown = kind === 'error' ? s.connection.window.showErrorMessage(message) : s.connection.window.showWarningMessage(message);
  void Promise.resolve(shown).catch(() => undefined);
}

export function readSettings(raw: unknown): ServerSettings {
  const s = (raw ?? {}) as Partial<ServerSettings>;
  const provider = s.executionProvider;
  return {
    modelPath: typeof s.modelPath === 'string' ? s.modelPath : '',
    executionProvider: provider !== undefined && EXECUTION_PROVIDERS.includes(provider) ? provider : 'auto',
    maxTokens: Number.isInteger(s.maxTokens) && (s.maxTokens as number) > 0 ? (s.maxTokens as number) : DEFAULT_SETTINGS.maxTokens,
    backend: s.backend !== undefined && BACKEND_KINDS.includes(s.backend) ? s.backend : 'onnx',
    remote: { url: typeof s.remote?.url === 'string' ? s.remote.url : '', model: typeof s.remote?.model === 'string' ? s.remote.model : '' },
    notebook: { context: s.notebook?.context !== undefined && NOTEBOOK_CONTEXT_MODES.includes(s.notebook.context) ? s.notebook.context : DEFAULT_NOTEBOOK_CONTEXT },
    hover: { layers: s.hover?.layers === 'all' ? 'all' : 'compact', layer: Number.isInteger(s.hover?.layer) ? (s.hover!.layer as number) : s.hover?.layer === 'mean' ? 'mean' : 0 },
  };
}

/** The client's cache folder from initializationOptions: an absolute path string, else none. */
export function readCacheDir(raw: unknown): string | undefined {
  const dir = (raw as Partial<InitializationOptions> | null | undefined)?.cacheDir;
  return typeof dir === 'string' && isAbsolute(dir) ? dir : undefined;
}
