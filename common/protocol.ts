// The wire contract between the MoE Lens language server, the extension and the CLI: every moeLens/* message is
// declared here once as a typed RequestType / NotificationType (rust-analyzer's lsp_ext.ts, vscode-eslint's
// customMessages.ts), with its parameter and result shapes, so a changed shape fails to compile on both sides. No
// logic lives here; changing a method name is a breaking change for users (docs/ARCHITECTURE.md, "Public contract").
//
// The objects come from the client's copy of vscode-languageserver-protocol. The server's library pins another copy:
// server/lsp/protocolTypes.ts lets its connection accept these objects too (it sends and dispatches by method name).
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import type { BackendKind, ExecutionProviderSetting } from './backends';
import type { RoutingSource } from './statsProtocol';
import type { ExpertLabels, ExpertUsageParams, ExpertUsageResult } from './steeringProtocol';

export const Methods = {
  /** RoutingParams -> RoutingResult, or PackedRoutingResult with `encoding: "packed"` */
  routing: new RequestType<RoutingParams, RoutingResult | PackedRoutingResult, void>('moeLens/routing'),
  /** SetSteeringParams -> SteeringState (replaces the whole state) */
  setSteering: new RequestType<SetSteeringParams, SteeringState, void>('moeLens/setSteering'),
  getSteering: new RequestType0<SteeringState, void>('moeLens/getSteering'),
  getStatus: new RequestType0<ServerStatus, void>('moeLens/status'),
  /** server -> client, whenever the model or analysis state changes */
  statusChanged: new NotificationType<ServerStatus>('moeLens/statusChanged'),
  /** server -> client: a new routing result for a document is ready (or, with `partial`, the windows on screen) */
  routingChanged: new NotificationType<RoutingChangedParams>('moeLens/routingChanged'),
  /** client -> server: the part of a document on screen (its windows run first) */
  visibleRanges: new NotificationType<VisibleRangesParams>('moeLens/visibleRanges'),
  /** string[layer][expert] from the profile corpus, or null when the model has none */
  expertLabels: new RequestType0<ExpertLabels, void>('moeLens/expertLabels'),
  expertUsage: new RequestType<ExpertUsageParams, ExpertUsageResult, void>('moeLens/expertUsage'),
} as const;

/** moeLens/routingChanged */
export interface RoutingChangedParams {
  uri: string;
  /** the document version the new result is for */
  version: number;
  /** only some windows are ready (those on screen first): ask with RoutingParams.partial; the complete result follows */
  partial?: boolean;
}

export type { ExecutionProviderSetting } from './backends';

export interface ModelInfo {
  name: string;
  layers: number;
  experts: number;
  topK: number;
  /** the execution provider actually used, e.g. "cpu", "cuda" */
  executionProvider: string;
  /** the weights' precision when the model was imported quantised ("int8", "int4"); absent: float */
  weights?: string;
  contextLength: number;
  vocabSize: number;
  /** optional human labels per [layer][expert] */
  labels?: string[][];
}

export interface VisibleRangesParams {
  uri: string;
  /** UTF-16 [start, end) offsets of the visible ranges, top first */
  ranges: [number, number][];
}

export interface RoutingParams {
  textDocument: { uri: string };
  /**
   * "json" (default): a RoutingResult. "packed": a PackedRoutingResult (common/routingCodec.ts) — base64 typed arrays,
   * and with `since` only the tokens after those unchanged since that version.
   */
  encoding?: 'json' | 'packed';
  /** with "packed": the version of the result the client holds (the server answers with a delta against it when it can) */
  since?: number;
  /** answer at once with the analysed prefix of a long document while its analysis runs (RoutingResult.partial) */
  partial?: boolean;
}

/** A RoutingResult with its per-token arrays packed (see common/routingCodec.ts). */
export type PackedRoutingResult = Omit<RoutingResult, 'offsets' | 'ids' | 'experts' | 'weights' | 'entropy' | 'surprisal' | 'baselineExperts'> & {
  packed: {
    /** leading tokens left out: the client copies them from its result of version `baseVersion` */
    keep: number;
    baseVersion?: number;
    /** base64 little-endian: offsets and ids Uint32, experts Uint8 (Uint16 above 256 experts), the rest Float32 */
    arrays: Partial<Record<'offsets' | 'ids' | 'experts' | 'weights' | 'entropy' | 'surprisal' | 'baselineExperts', string>>;
  };
};

/**
 * Routing of one document version. T tokens, L layers, K = topK. Arrays are flat and token-major:
 * experts[(t * L + l) * K + k] (index with common/routingLayout.ts). offsets are UTF-16 code-unit [start, end) pairs into the document text.
 */
export interface RoutingResult {
  model: ModelInfo;
  version: number;
  tokens: number;
  offsets: number[];
  /** token ids, length T */
  ids: number[];
  experts: number[];
  weights: number[];
  /** router entropy per token and layer, nats, over the softmax of the raw router logits: length T*L */
  entropy: number[];
  /** -log2 p(token | prefix), bits, length T (the first token of each window has no prefix: 0) */
  surprisal: number[];
  steered: boolean;
  /** the document was longer than the context: analysed in this many windows (1 = no windowing) */
  windows: number;
  /** the document had more than moeLens.maxTokens tokens: only the first `tokens` were analysed */
  truncated: boolean;
  /** when steered: the unsteered top-k experts, same layout as `experts` */
  baselineExperts?: number[];
  /** milliseconds the analysis of this version took (a cached result keeps the time of its analysis) */
  elapsedMs: number;
  /**
   * Only the first `tokens` tokens of the document are analysed so far: a long document's first windows, published
   * while the rest run (moeLens/routing with `partial: true`); the complete result follows with routingChanged.
   */
  partial?: boolean;
  /**
   * With `partial`: the document token index of this result's first token (0 when absent). A long document's
   * windows on screen are analysed first, so a partial result can be a slice from the middle; offsets stay document
   * offsets.
   */
  firstToken?: number;
  /**
   * Server only: tokens run through the model for this result vs tokens reused from the previous version's analysis
   * (its KV cache). Under steering both runs count (steered and unsteered baseline). For tests and the benchmark.
   */
  incremental?: { computed: number; reused: number };
  /** routing recorded by a serving engine (moeLens/openTrace); absent: the server's model run */
  source?: RoutingSource;
  /** arrays the source lacks (zeros here): shown as "not in the trace", never as values (common/routingSource.ts) */
  absent?: ('weights' | 'entropy' | 'surprisal')[];
  /** tokens whose routing was not recorded (prefix-cached positions of a trace): their experts are 0 placeholders */
  notRecorded?: number[];
  /**
   * A notebook cell read after the cells above it (moeLens.notebook.context "cellsAbove"): what the model read before
   * the cell. Offsets, ids and every array are the cell's own; surprisal and routing saw the prefix.
   */
  context?: CellContextInfo;
}

/** The prefix a notebook cell was read after (server/analysis/cellContext.ts). */
export interface CellContextInfo {
  /** non-empty cells above that the prefix was built from */
  cells: number;
  /** tokens of that prefix the model read (after the cut) */
  tokens: number;
  /** the prefix was cut from the left to fit the model's context (or left out: the cell fills the context alone) */
  truncated: boolean;
}

export type SteeringMode = 'disable' | 'force' | 'bias';

export interface SteeringRule {
  layer: number | '*';
  expert: number;
  mode: SteeringMode;
  /** router-logit bias for mode "bias" */
  bias?: number;
}

export interface SteeringState {
  rules: SteeringRule[];
}

export interface SetSteeringParams {
  rules: SteeringRule[];
}

export type ServerState = 'starting' | 'loading' | 'ready' | 'error';

export interface ServerStatus {
  state: ServerState;
  model?: ModelInfo;
  /** model directory in use */
  modelPath?: string;
  /** human-readable error (state "error") or progress message */
  message?: string;
  /** last analysis: document uri, token count and milliseconds */
  lastAnalysis?: { uri: string; tokens: number; ms: number; truncated: boolean; windows: number };
  activeRules: number;
  /** which backend runs the model and what it can do (the extension greys out what it cannot) */
  backend?: BackendStatus;
}

/** Settings the client passes at initialize (initializationOptions) and on change (workspace/didChangeConfiguration). */
export interface ServerSettings {
  modelPath: string;
  executionProvider: ExecutionProviderSetting;
  maxTokens: number;
  /** moeLens.backend: "onnx" (default, runs moeLens.modelPath here) or a serving engine at remote.url */
  backend?: BackendKind;
  /** moeLens.remote.*: the engine (never sent by the extension in an untrusted workspace) */
  remote?: { url: string; model: string };
  /** moeLens.hover.layers and the heatmap's layer: which layers the routing hover lists (server/lsp/hoverLayers.ts) */
  hover?: HoverSettings;
  /** moeLens.notebook.context: a notebook cell is read after the cells above it, or alone */
  notebook?: { context: NotebookContextMode };
}

/** "cellsAbove": a cell's tokens are routed after the text of the cells above it; "cellAlone": as any document. */
export type NotebookContextMode = 'cellsAbove' | 'cellAlone';

/** "compact": the heatmap's layer (and, steered, the changed ones); "all": every layer. */
export interface HoverSettings {
  layers: 'compact' | 'all';
  layer: number | 'mean';
}

// --- Model backends (server/model/backend.ts) ---

export type { BackendKind, EngineKind } from './backends';

/** What a backend can do; the extension enables commands from it. */
export interface ModelCapabilities {
  /** full forward passes (logits): continuation, next-token change, contrastive search */
  forward: boolean;
  /** incremental re-analysis from a kept KV cache */
  kvCache: boolean;
  /** per-token log-probabilities (surprisal) */
  tokenLogprobs: boolean;
  /** raw router logits (router entropy) */
  routerLogits: boolean;
  /** gate weights of the selected experts */
  gateWeights: boolean;
  /** steering modes that work; empty: steering is refused with steeringUnavailable */
  steering: SteeringMode[];
  steeringUnavailable?: string;
}

export interface BackendStatus {
  kind: BackendKind;
  /** the model directory or the engine URL */
  source: string;
  capabilities: ModelCapabilities;
}

// Steering features (continuation, contrastive search, next-token change) and expert labels/usage: steeringProtocol.ts.
export * from './steeringProtocol';
// Routing statistics and engine traces: shapes and message objects in statsProtocol.ts.
export * from './statsProtocol';
