// The wire contract between the MoE Lens language server, the extension and the CLI. Types and method names only:
// no logic lives here (see shared docs "Public contract"; changing a name here is a breaking change for users).

export const Methods = {
  /** request: RoutingParams -> RoutingResult */
  routing: 'moeLens/routing',
  /** request: SetSteeringParams -> SteeringState (replaces the whole state) */
  setSteering: 'moeLens/setSteering',
  /** request: void -> SteeringState */
  getSteering: 'moeLens/getSteering',
  /** request: void -> ServerStatus */
  getStatus: 'moeLens/status',
  /** notification server -> client: ServerStatus, sent whenever the model or analysis state changes */
  statusChanged: 'moeLens/statusChanged',
  /** notification server -> client: { uri, version } when a new routing result for a document is ready */
  routingChanged: 'moeLens/routingChanged',
} as const;

export type ExecutionProviderSetting = 'auto' | 'cuda' | 'webgpu' | 'cpu';

export interface ModelInfo {
  name: string;
  layers: number;
  experts: number;
  topK: number;
  /** the execution provider actually used, e.g. "cpu", "cuda" */
  executionProvider: string;
  contextLength: number;
  vocabSize: number;
  /** optional human labels per [layer][expert] */
  labels?: string[][];
}

export interface RoutingParams {
  textDocument: { uri: string };
}

/**
 * Routing of one document version. T tokens, L layers, K = topK. Arrays are flat and token-major:
 * experts[(t * L + l) * K + k]. offsets are UTF-16 code-unit [start, end) pairs into the document text.
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
  /** milliseconds the analysis took (0 when served from cache) */
  elapsedMs: number;
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
}

/** Settings the client passes at initialize (initializationOptions) and on change (workspace/didChangeConfiguration). */
export interface ServerSettings {
  modelPath: string;
  executionProvider: ExecutionProviderSetting;
  maxTokens: number;
}
