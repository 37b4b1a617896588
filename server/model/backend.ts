// The model-backend seam: everything the analysis, steering and LSP code may know about a model. The ONNX session
// (modelSession.ts) and the remote serving engines (remote/) implement it; no onnxruntime type crosses it (the KV
// cache is opaque). The pattern is vscode-eslint's ESLintClass, with its emulator behind one interface.
import type { BackendKind, ModelCapabilities, ModelInfo, RoutingResult } from '../../common/protocol';
import type { MoeManifest } from './manifest';

export type { BackendKind, ModelCapabilities };

declare const cacheBrand: unique symbol;

/**
 * What a forward pass leaves for the next one to continue from. Opaque outside the backend that made it: only its
 * length (tokens held) is public; pass it back to the same backend's forward / truncateCache / cacheBytes.
 */
export interface BackendCache {
  readonly length: number;
  /** never set: keeps other objects with a `length` from passing as a cache */
  readonly [cacheBrand]?: never;
}

/** One forward pass, layer-major as the graph gives it: routerLogits[(l*T+t)*E+e], expertIds[(l*T+t)*K+k]. */
export interface ForwardResult {
  tokens: number;
  /** [T*V]; empty when the caller asked for token log-probabilities only (forward's `logits: false`) */
  logits: Float32Array;
  /** [T]: log p(token t | before it), 0 for the first of the call; when the model has the output */
  tokenLogprobs?: Float32Array;
  routerLogits: Float32Array; // [L*T*E], raw (before expert_bias)
  /** [L*T]: router entropy in nats, when the model gives it (imported graphs); else analysis computes it */
  routerEntropy?: Float32Array;
  expertIds: Int32Array; // [L*T*K]
  expertWeights: Float32Array; // [L*T*K]
  /** the keys and values of every token so far (past + these): pass as `past` to continue */
  present: BackendCache;
  /** tokenLogprobs[0] is a real log-probability (a BOS token the caller does not see came before it), not 0 */
  firstScored?: boolean;
  /** the dimensions of each named output, as the model returned them */
  dims: Record<string, readonly number[]>;
}

export interface ForwardOptions {
  /** false: leave the [T, V] logits out when the model gives token log-probabilities (routing analysis needs only those) */
  logits?: boolean;
  /**
   * false: nobody continues from this call (a whole-text analysis: labels, statistics, the CLI), so the KV cache may
   * stay in the graph; `present` is then an empty cache (length 0: continuing it is starting over)
   */
  cache?: boolean;
}

/** Text ↔ token ids with exact UTF-16 ranges, and each token's own text (hover, labels). */
export interface BackendTokenizer {
  encode(text: string): { ids: number[]; offsets: number[] };
  decode(ids: number[]): string;
  tokenText(id: number): string;
}

/** The parts of a moe.json that analysis reads beside the model info (a remote engine supplies neutral values). */
export type BackendManifest = Pick<MoeManifest, 'router' | 'specialTokens' | 'profileCorpus'>;

/** A loaded model, whatever runs it. Load once, reuse, dispose. */
export interface ModelBackend {
  readonly kind: BackendKind;
  readonly info: ModelInfo;
  /** a stable identity for caches (labels, KV continuations): e.g. the sha256 of the ONNX file */
  readonly modelId: string;
  /** the model directory (profile corpus, tokenizer); '' when there is none */
  readonly dir: string;
  /** where the model runs, for messages: the directory, or the engine's URL */
  readonly source: string;
  readonly manifest: BackendManifest;
  readonly tokenizer: BackendTokenizer;
  readonly capabilities: ModelCapabilities;
  /**
   * Runs the model on `ids` (continuing `past` when given) with the steering bias [L*E]; batch size 1.
   * Only when capabilities.forward; a routing-only backend (a serving engine) rejects with a sentence saying so.
   */
  forward(ids: readonly number[], bias: Float32Array, past?: BackendCache, want?: ForwardOptions): Promise<ForwardResult>;
  /** The first `length` positions of a cache (to continue after an edit that kept that prefix). */
  truncateCache(cache: BackendCache, length: number): BackendCache;
  /** Bytes a cache holds (what keeping it for the next edit costs). */
  cacheBytes(cache: BackendCache): number;
  dispose(): Promise<void>;
  /**
   * Routing-only backends (a serving engine: expert ids, no logits) analyse a whole text in one call instead of
   * through forward(); the result names what it lacks in RoutingResult.absent. Rejects with BackendCancelledError
   * once opts.isCancelled() turns true (the request in flight is aborted).
   */
  routeText?(text: string, version: number, opts: RouteTextOptions): Promise<RoutingResult>;
  /** Run-time health of a backend that can fail after loading (an engine that stops answering): a sentence, or undefined when it works again. */
  onHealth?(listener: (problem: string | undefined) => void): void;
  /**
   * `info` is never mutated. A backend that learns its shape only from answers (a serving engine without config.json)
   * replaces it with a new frozen object and calls these listeners; the server then sends moeLens/statusChanged.
   */
  onInfo?(listener: (info: ModelInfo) => void): void;
}

export interface RouteTextOptions {
  /** analyse at most this many tokens (moeLens.maxTokens) */
  maxTokens: number;
  /** polled while the request runs: true aborts it (a newer document version made it stale) */
  isCancelled?: () => boolean;
}

/** A backend call given up because its caller no longer needs it (not a failure). */
export class BackendCancelledError extends Error {
  constructor() {
    super('request cancelled');
    this.name = 'BackendCancelledError';
  }
}

/** Why a backend refuses steering, or undefined when it can steer in every mode. */
export function steeringRefusal(b: Pick<ModelBackend, 'capabilities' | 'source'>): string | undefined {
  const c = b.capabilities;
  if (c.steering.length > 0) return undefined;
  return c.steeringUnavailable ?? `the model at ${b.source} cannot be steered`;
}
