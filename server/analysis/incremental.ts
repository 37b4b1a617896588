// The one analysis engine: the window loop over a document, continuing the KV cache of an unchanged prefix when there
// is one. After an edit only the tokens from the first change on run through the model (a one-token edit at the end
// costs one or two tokens of compute, not the whole document); with no previous analysis it is the full analysis
// (analyzer.ts's analyzeText is this from an empty cache). A backend without a KV cache runs every window in full; a
// routing-only backend (a serving engine) routes the whole text itself. The server (lsp/documentAnalyses.ts) gets a
// steered document's baseline as a second, unsteered incremental analysis; withBaseline does the same in one call.
import type { RoutingResult } from '../../common/protocol';
import type { BackendCache, ModelBackend } from '../model/backend';
import { tokenAt } from '../../common/tokens';
import { biasFromRules, steeringKey } from '../routing/expertBias';
import { addRouterProbs, CancelledError, emptyResult, encodePrefix, fillRows, routeText, type AnalyzeOptions } from './windows';

/** A result plus what continuing it needs: the KV cache of every window and the steering it was computed under. */
export interface IncrementalAnalysis {
  result: RoutingResult;
  /** one cache per window (windows are independent); empty when the backend has no KV cache or ran with a baseline */
  caches: BackendCache[];
  /** bytes those caches hold (ModelBackend.cacheBytes) */
  bytes: number;
  key: string;
  /** ModelBackend.modelId (sha256 of the graph): a cache from other weights is never continued, even under the same name */
  model: string;
}

/** Bytes held by the KV caches of an analysis (what keeping it for the next edit costs). */
export function cacheBytes(a: IncrementalAnalysis): number {
  return a.bytes;
}

/** What the last run computed: for the benchmark and tests (how many tokens went through the model). */
export interface IncrementalStats {
  /** tokens run through the model */
  computed: number;
  /** tokens whose results were reused from the previous analysis */
  reused: number;
}

/** Length of the common prefix of two id lists. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Where to resume after an edit, for windows of `context` tokens: the first changed token is `prefix`; its window is
 * re-run from one token earlier (the logits of the token before the change give the changed token's surprisal), from
 * the window start when the change is at the start. Returns the window and the local position to resume at, or
 * undefined when nothing changed inside the new length (the new ids are a prefix of the old ones).
 */
export function resumePoint(prefix: number, newLength: number, context: number): { window: number; local: number } | undefined {
  if (prefix >= newLength) return undefined;
  const window = Math.floor(prefix / context);
  const lp = prefix - window * context;
  return { window, local: Math.max(0, lp - 1) };
}

/**
 * Analyses `text`, reusing `prev` where the tokens are unchanged. Without `prev` (or after a steering or model change,
 * or with a steered baseline) this is a full pass that also keeps the caches for next time. `prev` is not modified.
 */
export async function analyzeIncremental(
  session: ModelBackend,
  text: string,
  version: number,
  opts: AnalyzeOptions,
  prev?: IncrementalAnalysis,
  stats?: IncrementalStats,
): Promise<IncrementalAnalysis> {
  const started = performance.now();
  const { layers: L, experts: E, topK: K, contextLength: C, vocabSize: V } = session.info;
  const key = steeringKey(opts.rules);
  const steered = opts.rules.length > 0;
  if (session.routeText) {
    const result = await routeText(session, text, version, opts);
    if (stats) Object.assign(stats, { computed: result.tokens, reused: 0 });
    return { result, caches: [], bytes: 0, key, model: session.modelId };
  }
  if (steered && opts.withBaseline) return withBaseline(session, text, version, opts, stats);
  // Tokenised once for every path (encodePrefix: the same safe cut for huge texts).
  const result = emptyResult(session, version, encodePrefix(session, text, opts.maxTokens), opts.maxTokens, steered);
  const { tokens: T, ids } = result;
  const kv = session.capabilities.kvCache;
  const usable = kv && prev && prev.key === key && prev.model === session.modelId && prev.result.model.contextLength === C && prev.caches.length === Math.ceil(prev.result.tokens / C);
  const prefix = usable ? commonPrefix(prev.result.ids, ids) : 0;
  // Reuse everything before the first recomputed token (copied: prev stays valid for other edits).
  const resume = resumePoint(prefix, T, C) ?? { window: Math.ceil(T / C), local: 0 };
  const keep = Math.min(T, resume.window * C + resume.local);
  if (usable && keep > 0) {
    const p = prev.result;
    copyPrefix(result.experts, p.experts, keep * L * K);
    copyPrefix(result.weights, p.weights, keep * L * K);
    copyPrefix(result.entropy, p.entropy, keep * L);
    copyPrefix(result.surprisal, p.surprisal, keep);
    if (resume.local > 0) result.surprisal[keep] = p.surprisal[keep]; // its logits row is not recomputed
  }
  const caches: BackendCache[] = usable ? prev.caches.slice(0, resume.window) : [];
  const bias = biasFromRules(opts.rules, session.info, session.manifest);
  let computed = 0;
  const count = Math.ceil(T / C);
  const priority = opts.priorityOffset === undefined ? -1 : Math.floor(tokenAt(result.offsets, opts.priorityOffset) / C);
  const order = windowOrder(resume.window, count, priority);
  // Windows whose tokens are final: those before the resume point (copied) and those run so far.
  const done = Array.from({ length: count }, (_, w) => w < resume.window);
  for (const [i, w] of order.entries()) {
    await opts.beforeWindow?.();
    if (opts.isCancelled?.()) throw new CancelledError();
    const start = w * C;
    const end = Math.min(T, start + C);
    const local = w === resume.window && usable ? resume.local : 0;
    const past = local > 0 ? session.truncateCache(prev!.caches[w], local) : undefined;
    const run = () => session.forward(ids.slice(start + local, end), bias, past, { logits: false, cache: opts.keepCaches !== false });
    // a scheduled call may wait a while for its turn: cancelled meanwhile, it never runs
    const out = await (opts.schedule ? opts.schedule(() => (opts.isCancelled?.() ? Promise.reject(new CancelledError()) : run())) : run());
    fillRows(result, out, start, local, L, E, K, V);
    if (opts.routerProbSums) addRouterProbs(opts.routerProbSums, out, L, E);
    computed += end - start - local;
    if (kv && opts.keepCaches !== false) caches[w] = out.present;
    done[w] = true;
    if (i < order.length - 1 && opts.onWindow) {
      // messages that arrived during this window first: an edit among them makes this partial result obsolete
      await opts.beforeWindow?.();
      if (opts.isCancelled?.()) throw new CancelledError();
      const block = finalBlock(done, priority >= 0 ? priority : 0);
      if (block) opts.onWindow(result, block[0] * C, Math.min(T, block[1] * C));
    }
  }
  // New ids are a prefix of the old ones: the last window's cache may hold extra positions, which the next resume
  // truncates away (it never resumes past the ids both versions share).
  if (stats) Object.assign(stats, { computed, reused: T - computed });
  result.elapsedMs = Math.round(performance.now() - started);
  const bytes = caches.reduce((n, c) => n + session.cacheBytes(c), 0);
  return { result, caches, bytes, key, model: session.modelId };
}

/**
 * The windows to run, `first` to `count - 1`: in order, except that `priority` (the window on screen) runs first when
 * it is among them. Windows are independent (each starts without history), so the order changes nothing but what
 * is ready first.
 */
export function windowOrder(first: number, count: number, priority: number): number[] {
  const all = Array.from({ length: Math.max(0, count - first) }, (_, i) => first + i);
  return priority > first && priority < count ? [priority, ...all.filter((w) => w !== priority)] : all;
}

/** The run [first, last + 1) of done windows around `anchor` (the window on screen, else 0); undefined if not done. */
export function finalBlock(done: readonly boolean[], anchor: number): [number, number] | undefined {
  if (!done[anchor]) return undefined;
  let a = anchor, b = anchor + 1;
  while (a > 0 && done[a - 1]) a--;
  while (b < done.length && done[b]) b++;
  return [a, b];
}

function copyPrefix(dst: number[], src: readonly number[], n: number): void {
  for (let i = 0; i < n; i++) dst[i] = src[i];
}

/**
 * A steered analysis with its unsteered baseline (RoutingResult.baselineExperts): two passes of the engine, each from
 * an empty cache; no caches are kept (the server continues the two passes separately instead).
 */
async function withBaseline(session: ModelBackend, text: string, version: number, opts: AnalyzeOptions, stats?: IncrementalStats): Promise<IncrementalAnalysis> {
  const started = performance.now();
  const [s1, s2]: IncrementalStats[] = [{ computed: 0, reused: 0 }, { computed: 0, reused: 0 }];
  const main = await analyzeIncremental(session, text, version, { ...opts, withBaseline: false }, undefined, s1);
  const base = await analyzeIncremental(session, text, version, { ...opts, rules: [], withBaseline: false, onWindow: undefined, routerProbSums: undefined }, undefined, s2);
  if (stats) Object.assign(stats, { computed: s1.computed + s2.computed, reused: 0 });
  const result = { ...main.result, baselineExperts: base.result.experts, elapsedMs: Math.round(performance.now() - started) };
  return { result, caches: [], bytes: 0, key: main.key, model: session.modelId };
}
