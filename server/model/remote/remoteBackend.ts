// A model served by vLLM or SGLang, behind the model-backend interface: each document goes to the engine as a prompt
// with one new token and routed experts requested, and the answer is shown like a trace (expert ids only). The
// document text leaves the machine for moeLens.remote.url: the README says so, and the URL is a restricted setting.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelCapabilities, ModelInfo, RoutingResult } from '../../../common/protocol';
import type { BackendCache, BackendManifest, BackendTokenizer, ForwardResult, ModelBackend, RouteTextOptions } from '../backend';
import { BackendCancelledError } from '../backend';
import { ModelLoadError, UnsupportedError } from '../errors';
import { MoeTokenizer } from '../tokenizer';
import { engines, type EngineKind, type EngineProtocol } from './engines';
import { defaultRetryPolicy, RemoteError, requestJson, type RetryPolicy } from './http';
import { readServedModelShape, type ServedModelShape } from './modelConfig';
import { TraceError, type EngineTrace } from '../../trace/engineTrace';
import { traceRouting } from '../../trace/traceRouting';
import { EngineTokenizer } from './engineTokenizer';

export interface RemoteSettings {
  kind: EngineKind;
  url: string;
  /** the served model's name (OpenAI `model` field); '' lets the engine use its only model */
  model: string;
  /** a local folder with the served model's tokenizer.json and/or config.json; '' for none */
  localDir: string;
  policy?: RetryPolicy;
}

/** Where the remote analysis cuts a document the engine's context cannot hold, when nothing says otherwise. */
const DEFAULT_CONTEXT = 32_768;
/** A fixed text routed once at load: proves the engine answers with routing, and gives layers and topK. */
const PROBE_TEXT = 'MoE Lens probe';
/** Answers kept to fill prefix-cached rows (each holds T·L·K int32). */
const RECENT_ANSWERS = 4;
/** How often a running request checks whether its document changed (then it is aborted). */
const CANCEL_POLL_MS = 20;

/** Serving engines take no per-request expert masks or router biases. */
const steeringUnavailable = (name: string) => `${name} takes no per-request expert masks or router biases, so steering needs the onnx backend (moeLens.backend)`;

/** A failure of the engine, already described ("vLLM at URL: reason"). */
class EngineError extends Error {}

/** A serving engine reports expert ids per token and layer, nothing else, and cannot be steered per request. */
export function remoteCapabilities(kind: EngineKind): ModelCapabilities {
  return { forward: false, kvCache: false, tokenLogprobs: false, routerLogits: false, gateWeights: false, steering: [], steeringUnavailable: steeringUnavailable(engines[kind].name) };
}

export class RemoteBackend implements ModelBackend {
  readonly dir = '';
  readonly manifest: BackendManifest = { router: { function: 'engine', disableBias: 0, forceBias: 0 } };
  readonly capabilities: ModelCapabilities;
  private current: Readonly<ModelInfo>;
  private readonly infoListeners: ((info: ModelInfo) => void)[] = [];
  private readonly inflight = new Set<AbortController>();
  private readonly listeners: ((problem: string | undefined) => void)[] = [];
  private problem: string | undefined;
  /** the last answers, newest first (for prefix-cached rows) */
  private readonly recent: { ids: readonly number[]; per: number; experts: Int32Array }[] = [];

  private constructor(
    private readonly engine: EngineProtocol,
    private readonly settings: RemoteSettings,
    private readonly shape: ServedModelShape | undefined,
    readonly tokenizer: BackendTokenizer & { encodeRemote?: EngineTokenizer['encodeRemote'] },
    private readonly policy: RetryPolicy,
  ) {
    this.capabilities = remoteCapabilities(engine.kind);
    this.current = Object.freeze({
      name: settings.model || shape?.name || `${engine.name} model`,
      layers: shape?.layers ?? 0,
      experts: shape?.experts ?? 0,
      topK: shape?.topK ?? 0,
      executionProvider: engine.kind,
      contextLength: shape?.contextLength ?? DEFAULT_CONTEXT,
      vocabSize: 0,
    });
  }

  /** Frozen: what an answer teaches (context length, layers, expert count) arrives as a new object (onInfo). */
  get info(): ModelInfo {
    return this.current;
  }

  onInfo(listener: (info: ModelInfo) => void): void {
    this.infoListeners.push(listener);
  }

  /** Replaces the info with `patch` applied when that changes anything, and tells the listeners. */
  private learn(patch: Partial<ModelInfo>): void {
    const next = { ...this.current, ...patch };
    if ((Object.keys(patch) as (keyof ModelInfo)[]).every((k) => next[k] === this.current[k])) return;
    this.current = Object.freeze(next);
    for (const l of this.infoListeners) l(this.current);
  }

  get kind(): EngineKind {
    return this.engine.kind;
  }

  get source(): string {
    return this.settings.url;
  }

  get modelId(): string {
    return `${this.engine.kind}:${this.settings.url}:${this.settings.model}`;
  }

  /** "vLLM at http://host:8000" — how messages name this engine. */
  get label(): string {
    return `${this.engine.name} at ${this.settings.url}`;
  }

  /**
   * Checks the settings and the local files, then routes a fixed probe text: an engine that is down, or runs without
   * routed experts, fails here with a ModelLoadError naming the setting and the reason.
   */
  static async load(settings: RemoteSettings): Promise<RemoteBackend> {
    const engine = engines[settings.kind];
    let url: URL;
    try {
      url = new URL(settings.url);
    } catch {
      throw new ModelLoadError(settings.url ? `"${settings.url}" is not a URL` : `is empty: set it to the ${engine.name} server, e.g. http://127.0.0.1:8000`, 'moeLens.remote.url');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ModelLoadError(`must be an http or https URL, not ${url.protocol}`, 'moeLens.remote.url');
    const base = settings.url.replace(/\/+$/, '');
    const dir = settings.localDir;
    const shape = dir ? await readServedModelShape(dir) : undefined;
    const tokFile = dir ? join(dir, 'tokenizer.json') : '';
    // vLLM's own /tokenize is authoritative and gives token strings (any tokenizer family); SGLang's gives none, so
    // SGLang needs the served model's tokenizer.json here (byte-level BPE: server/model/tokenizer.ts).
    const local = engine.kind === 'sglang' && tokFile && existsSync(tokFile) ? await MoeTokenizer.fromFile(tokFile, 'tokenizer.json') : undefined;
    if (engine.kind === 'sglang' && !shape) {
      throw new ModelLoadError(`SGLang returns routed experts without their [layers, topK] shape: set moeLens.modelPath to a folder holding the served model's config.json${dir ? ` (${dir} has none)` : ''}`, 'moeLens.modelPath');
    }
    if (engine.kind === 'sglang' && !local) {
      throw new ModelLoadError(`SGLang's /tokenize returns no token strings, so token offsets need the served model's tokenizer.json in moeLens.modelPath${dir ? ` (${dir} has none)` : ''}`, 'moeLens.modelPath');
    }
    const policy = settings.policy ?? policyFromEnv();
    const tokenizer = local ?? new EngineTokenizer(base, engine, settings.model, policy);
    const backend = new RemoteBackend(engine, { ...settings, url: base }, shape, tokenizer, policy);
    try {
      await backend.routeText(PROBE_TEXT, 0, { maxTokens: 64 });
    } catch (e) {
      throw new ModelLoadError(backend.describe(e), 'moeLens.remote.url');
    }
    return backend;
  }

  forward(): Promise<ForwardResult> {
    return Promise.reject(new UnsupportedError(`${this.label} reports routed experts only: it gives no logits, so continuation, next-token change and contrastive search need the onnx backend`));
  }

  truncateCache(cache: BackendCache): BackendCache {
    return cache;
  }

  cacheBytes(): number {
    return 0;
  }

  onHealth(listener: (problem: string | undefined) => void): void {
    this.listeners.push(listener);
  }

  async dispose(): Promise<void> {
    for (const c of this.inflight) c.abort();
    this.inflight.clear();
  }

  /** The document's first tokens routed by the engine: expert ids per token and layer, nothing else. */
  async routeText(text: string, version: number, opts: RouteTextOptions): Promise<RoutingResult> {
    const started = performance.now();
    const controller = new AbortController();
    this.inflight.add(controller);
    const poll = opts.isCancelled ? setInterval(() => opts.isCancelled!() && controller.abort(), CANCEL_POLL_MS) : undefined;
    try {
      const enc: { ids: number[]; offsets: number[]; maxModelLen?: number } = this.tokenizer.encodeRemote ? await this.tokenizer.encodeRemote(text, controller.signal) : this.tokenizer.encode(text);
      if (enc.maxModelLen) this.learn({ contextLength: enc.maxModelLen });
      // One new token must fit beside the prompt.
      const T = Math.min(enc.ids.length, opts.maxTokens, this.info.contextLength - 1);
      const prompt = { ids: enc.ids.slice(0, T), offsets: enc.offsets.slice(0, 2 * T) };
      const trace: EngineTrace = T === 0 ? { engine: this.engine.kind, ids: [], promptTokens: 0, layers: this.info.layers, topK: this.info.topK, experts: new Int32Array(0) } : await this.route(prompt.ids, controller.signal);
      // The same conversion as a trace file's (server/trace): token ids checked one for one, shapes against the model.
      const result = traceRouting(trace, prompt, this.info, { file: this.source, version });
      result.truncated = enc.ids.length > T;
      result.elapsedMs = Math.round(performance.now() - started);
      this.healthy(undefined);
      return result;
    } catch (e) {
      if (e instanceof BackendCancelledError || controller.signal.aborted) throw new BackendCancelledError();
      if (e instanceof RemoteError || e instanceof TraceError) this.healthy(this.describe(e));
      throw e instanceof RemoteError || e instanceof TraceError ? new EngineError(this.describe(e)) : e;
    } finally {
      clearInterval(poll);
      this.inflight.delete(controller);
    }
  }

  private async route(prompt: number[], signal: AbortSignal): Promise<EngineTrace> {
    const answer = await requestJson(this.source + this.engine.routePath, this.engine.routeBody(prompt, this.settings.model), this.policy, signal);
    const trace = this.engine.parseRouting(answer, prompt, this.shape && { layers: this.shape.layers, topK: this.shape.topK });
    if (this.info.layers === 0) this.learn({ layers: trace.layers, topK: trace.topK });
    let max = -1;
    for (const e of trace.experts) max = Math.max(max, e);
    if (this.shape?.experts && max >= this.shape.experts) throw new TraceError(`expert id ${max}, but config.json says ${this.shape.experts} experts`);
    // Without config.json the expert count is what has been seen so far (ids are 0-based).
    if (!this.shape?.experts && max + 1 > this.info.experts) this.learn({ experts: max + 1 });
    this.fillFromRecent(prompt, trace);
    return trace;
  }

  /**
   * vLLM marks prefix-cached positions -1: it did not recompute them, so it has no routing for them. Every edit
   * resends the document, so most of it is such a prefix. Routing is causal (token t's experts depend on tokens
   * ≤ t only), so rows of an earlier answer that shares the ids up to t are exactly the missing rows; what no
   * earlier answer has stays "not recorded".
   */
  private fillFromRecent(prompt: readonly number[], trace: EngineTrace): void {
    const per = trace.layers * trace.topK;
    const missing = (data: Int32Array, t: number) => data.subarray(t * per, (t + 1) * per).some((e) => e < 0);
    for (const r of this.recent) {
      if (r.per !== per) continue;
      let n = 0;
      while (n < prompt.length && n < r.ids.length && prompt[n] === r.ids[n]) n++;
      for (let t = 0; t < n; t++) if (missing(trace.experts, t) && !missing(r.experts, t)) trace.experts.set(r.experts.subarray(t * per, (t + 1) * per), t * per);
    }
    this.recent.unshift({ ids: prompt, per, experts: trace.experts.slice(0, prompt.length * per) });
    this.recent.length = Math.min(this.recent.length, RECENT_ANSWERS);
  }

  /** "vLLM at URL: no answer within 30 s (3 tries)", with the fix when the engine runs without routed experts. */
  describe(e: unknown): string {
    if (e instanceof EngineError) return e.message;
    if (e instanceof RemoteError) return `${this.label}: ${e.reason}`;
    if (e instanceof TraceError) return `${this.label}: ${e.message}${/missing|no routed/.test(e.message) && !e.message.includes('--enable-return-routed-experts') ? ` (${this.engine.enableHint})` : ''}`;
    return `${this.label}: ${(e as Error)?.message ?? String(e)}`;
  }

  private healthy(problem: string | undefined): void {
    if (problem === this.problem) return;
    this.problem = problem;
    for (const l of this.listeners) l(problem);
  }
}

/** Timeouts from the environment (tests shorten them): MOE_LENS_REMOTE_TIMEOUT_MS, MOE_LENS_REMOTE_RETRIES. */
function policyFromEnv(): RetryPolicy {
  const n = (v: string | undefined, d: number) => (v !== undefined && Number.isFinite(Number(v)) && Number(v) >= 0 ? Number(v) : d);
  return {
    ...defaultRetryPolicy,
    timeoutMs: n(process.env.MOE_LENS_REMOTE_TIMEOUT_MS, defaultRetryPolicy.timeoutMs),
    retries: n(process.env.MOE_LENS_REMOTE_RETRIES, defaultRetryPolicy.retries),
  };
}
