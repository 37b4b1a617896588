// Re-analysis after an edit that keeps a prefix of the tokens: the KV cache of the unchanged prefix is kept and only
// the tokens from the first change on run through the model (a one-token edit at the end costs one or two tokens of
// compute, not the whole document). Same output as analyzeText up to float rounding (the cached and the full forward
// multiply in different shapes). Tokenisation is analyzer.ts's encodePrefix, so both paths cut long texts alike.
// Steering without baseline is supported here; the server (server/lsp/documentAnalyses.ts) gets the baseline as a
// second, unsteered incremental analysis, so withBaseline — a full pass here — is only for other callers.
import type { RoutingResult } from '../../common/protocol';
import { layerIndex, slotIndex } from '../../common/routingLayout';
import type { BackendCache, ForwardResult, ModelBackend } from '../model/backend';
import { tokenAt } from '../../common/tokens';
import { biasFromRules, steeringKey } from '../routing/expertBias';
import { analyzeText, CancelledError, emptyResult, encodePrefix, routerEntropy, tokenSurprisal, type AnalyzeOptions } from './analyzer';

/** A result plus what continuing it needs: the KV cache of every window and the steering it was computed under. */
export interface IncrementalAnalysis {
  result: RoutingResult;
  /** one cache per window (windows are independent); empty when the model has no KV cache or ran with a baseline */
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
  if ((steered && opts.withBaseline) || !session.capabilities.kvCache) {
    const result = await analyzeText(session, text, version, opts);
    if (stats) Object.assign(stats, { computed: result.tokens * (steered && opts.withBaseline ? 2 : 1), reused: 0 });
    return { result, caches: [], bytes: 0, key, model: session.modelId };
  }
  // Tokenised exactly as analyzeText does (same safe cut for huge texts), so both paths agree token for token.
  const result = emptyResult(session, version, encodePrefix(session, text, opts.maxTokens), opts.maxTokens, steered);
  const { tokens: T, ids } = result;
  const usable = prev && prev.key === key && prev.model === session.modelId && prev.result.model.contextLength === C && prev.caches.length === Math.ceil(prev.result.tokens / C);
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
    const out = await session.forward(ids.slice(start + local, end), bias, past, { logits: false });
    fillRows(result, out, start, local, L, E, K, V);
    computed += end - start - local;
    caches[w] = out.present!;
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
 * Writes the rows of one forward pass (layer-major, `out.tokens` rows starting at local position `local` of the
 * window that starts at `start`) into the token-major result. The surprisal of a token needs the logits of the token
 * before it: the first row of a resumed window keeps the value already copied from the previous analysis.
 */
function fillRows(r: RoutingResult, out: ForwardResult, start: number, local: number, L: number, E: number, K: number, V: number): void {
  const n = out.tokens;
  for (let j = 0; j < n; j++) {
    const t = start + local + j;
    for (let l = 0; l < L; l++) {
      for (let k = 0; k < K; k++) {
        r.experts[slotIndex(r.model, t, l, k)] = out.expertIds[(l * n + j) * K + k];
        r.weights[slotIndex(r.model, t, l, k)] = out.expertWeights[(l * n + j) * K + k];
      }
      r.entropy[layerIndex(r.model, t, l)] = routerEntropy(out, l * n + j, E);
    }
    if (local + j === 0) r.surprisal[t] = out.firstScored ? tokenSurprisal(out, 0, r.ids[t], V) : 0;
    else if (j > 0) r.surprisal[t] = tokenSurprisal(out, j, r.ids[t], V);
  }
}
