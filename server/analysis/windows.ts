// What every analysis shares: its options, tokenisation (encodePrefix, one safe cut for every path), the result
// skeleton, partial results, and the one place the graph's layer-major rows become the token-major result (fillRows).
// The engine itself — the window loop, with or without a KV cache to continue — is incremental.ts; analyzer.ts's
// analyzeText is that engine from an empty cache.
import type { RoutingResult, SteeringRule } from '../../common/protocol';
import { layerIndex, layerMajorIndex, slotIndex } from '../../common/routingLayout';
import { BackendCancelledError, type ForwardResult, type ModelBackend } from '../model/backend';
import { entropyNats, softmax, surprisalBits } from '../routing/math';

export interface AnalyzeOptions {
  /** analyse at most this many tokens (moeLens.maxTokens) */
  maxTokens: number;
  rules: readonly SteeringRule[];
  /** when steered, also run the unsteered model and report its experts as baselineExperts */
  withBaseline?: boolean;
  /** false: the KV caches are neither fetched from the model nor kept (a pass nobody continues: analyzeText) */
  keepCaches?: boolean;
  /** polled between model calls: a newer document version makes this one obsolete */
  isCancelled?: () => boolean;
  /** awaited before each model call, before isCancelled (the server handles the messages that arrived meanwhile) */
  beforeWindow?: () => Promise<void>;
  /**
   * runs each model call (one window): background work (expert labels) passes the server's model queue here, so that
   * its windows wait for the documents' analyses instead of interleaving with them; absent: called directly
   */
  schedule?: <T>(modelCall: () => Promise<T>) => Promise<T>;
  /**
   * called after each window but the last with the result so far and the token range [from, to) of it that is final
   * and contiguous: lets the server show a long document's windows while the rest run
   */
  onWindow?: (result: RoutingResult, from: number, to: number) => void;
  /** a document offset on screen: its window runs first (windows are independent: each starts without history) */
  priorityOffset?: number;
  /**
   * when given ([L*E]): the router's probability per expert (softmax of the raw logits) is added here for every token,
   * for the statistics' p_i (moe-lens stats); the result itself does not carry full router distributions
   */
  routerProbSums?: Float64Array;
}

/** Tokens [from, to) of an analysis in progress, as a result of their own (RoutingResult.partial, firstToken). */
export function partialResult(r: RoutingResult, from: number, to: number): RoutingResult {
  const { layers: L, topK: K } = r.model;
  const out: RoutingResult = {
    ...r,
    tokens: to - from,
    offsets: r.offsets.slice(2 * from, 2 * to),
    ids: r.ids.slice(from, to),
    experts: r.experts.slice(from * L * K, to * L * K),
    weights: r.weights.slice(from * L * K, to * L * K),
    entropy: r.entropy.slice(from * L, to * L),
    surprisal: r.surprisal.slice(from, to),
    partial: true,
    ...(from > 0 ? { firstToken: from } : {}),
  };
  delete out.baselineExperts;
  delete out.incremental;
  return out;
}

export class CancelledError extends Error {
  constructor() {
    super('analysis cancelled');
    this.name = 'CancelledError';
  }
}

/** Tokens average 3–4 UTF-16 units in code and prose: a prefix this many units per token usually holds enough. */
const MAX_CHARS_PER_TOKEN = 8;

/**
 * The last position p ≤ limit where the text can be cut without changing how text[0, p) tokenises. GPT-2's byte-level
 * pre-tokenizer regex splits text into pieces and BPE merges stay inside a piece, so p is safe where a piece boundary
 * does not depend on what follows: before a single space between two non-spaces ("a b": no piece but " b" holds a
 * space, and it starts at p), after the "\n" of "x\ny", or between "\r" and "\n" of "x\r\ny" (the regex's one
 * lookahead, `\s+(?!\S)`, decides those the same on both sides). -1 when there is none.
 * test/model/analyzer.test.ts checks this against the real tokenizer.
 */
export function safeCut(text: string, limit: number): number {
  const ws = (i: number) => i >= text.length || /\s/u.test(text[i]);
  for (let p = Math.min(limit, text.length - 1); p >= 2; p--) {
    const beforeSpace = text[p] === ' ' && !ws(p - 1) && !ws(p + 1);
    const afterLf = text[p - 1] === '\n' && !ws(p - 2) && !ws(p);
    const withinCrLf = text[p - 1] === '\r' && text[p] === '\n' && !ws(p - 2) && !ws(p + 1);
    if (beforeSpace || afterLf || withinCrLf) return p;
  }
  return -1;
}

/**
 * Tokens of the text — all of them, or a prefix of at least maxTokens when the text is long; `more` says the text
 * goes on past the returned tokens. A long text is tokenised only up to a safe cut point (safeCut) when that prefix
 * already holds enough tokens. A long text with no safe cut (one huge run of symbols) is cut at a generous length:
 * its first maxTokens tokens could then differ from the whole text's only if BPE merges at the cut reached back
 * across more than maxTokens tokens of one piece. Exported so that every analysis path tokenises the same way.
 */
export function encodePrefix(session: Pick<ModelBackend, 'tokenizer'>, text: string, maxTokens: number): { ids: number[]; offsets: number[]; more: boolean } {
  const limit = (maxTokens + 1) * MAX_CHARS_PER_TOKEN;
  if (text.length > limit) {
    const safe = safeCut(text, limit);
    const p = safe > 0 ? safe : 4 * limit;
    if (p < text.length) {
      const enc = session.tokenizer.encode(text.slice(0, p));
      if (enc.ids.length >= (safe > 0 ? maxTokens : 2 * maxTokens)) {
        const keep = safe > 0 ? enc.ids.length : maxTokens; // without a safe cut, only tokens far from it are kept
        return { ids: enc.ids.slice(0, keep), offsets: enc.offsets.slice(0, 2 * keep), more: true };
      }
    }
  }
  return { ...session.tokenizer.encode(text), more: false };
}

/** A result for the first maxTokens tokens of `enc`, its per-token arrays allocated and still to be filled. */
export function emptyResult(session: ModelBackend, version: number, enc: { ids: number[]; offsets: number[]; more: boolean }, maxTokens: number, steered: boolean): RoutingResult {
  const { layers: L, topK: K, contextLength: C } = session.info;
  const T = Math.min(enc.ids.length, maxTokens);
  return {
    model: session.info,
    version,
    tokens: T,
    offsets: enc.offsets.slice(0, 2 * T),
    ids: enc.ids.slice(0, T),
    experts: new Array(T * L * K),
    weights: new Array(T * L * K),
    entropy: new Array(T * L),
    surprisal: new Array(T),
    steered,
    windows: Math.max(1, Math.ceil(T / C)),
    truncated: enc.more || enc.ids.length > T,
    elapsedMs: 0,
  };
}

/** A routing-only backend (a serving engine) analyses the text itself; its cancellation is this module's. */
export async function routeText(session: ModelBackend, text: string, version: number, opts: AnalyzeOptions): Promise<RoutingResult> {
  if (opts.rules.length > 0) throw new Error(`steering is not available: ${session.capabilities.steeringUnavailable ?? 'this backend cannot steer'}`);
  if (opts.isCancelled?.()) throw new CancelledError();
  try {
    return await session.routeText!(text, version, { maxTokens: opts.maxTokens, isCancelled: opts.isCancelled });
  } catch (e) {
    if (e instanceof BackendCancelledError) throw new CancelledError();
    throw e;
  }
}

/** Adds softmax(raw router logits) of every token of a forward pass to sums[l*E + e]. */
export function addRouterProbs(sums: Float64Array, out: ForwardResult, L: number, E: number): void {
  for (let l = 0; l < L; l++) {
    for (let j = 0; j < out.tokens; j++) {
      const p = softmax(out.routerLogits, layerMajorIndex(out.tokens, l, j, E), E);
      for (let e = 0; e < E; e++) sums[l * E + e] += p[e];
    }
  }
}

/**
 * Router entropy (nats) of row `row` = l·T + j of a forward pass: the graph's router_entropy output when it has one
 * (imported models: the server only copies), else computed here from the raw router logits (same formula: softmax
 * over all E experts, before the steering bias).
 */
export function routerEntropy(out: ForwardResult, row: number, E: number): number {
  return out.routerEntropy ? out.routerEntropy[row] : entropyNats(out.routerLogits, row * E, E);
}

/** Bits for row j > 0 of a forward pass (or row 0 when out.firstScored): from the graph's token log-probabilities, else a log-sum-exp over the logits. */
export function tokenSurprisal(out: ForwardResult, j: number, id: number, V: number): number {
  return out.tokenLogprobs ? -out.tokenLogprobs[j] / Math.LN2 : surprisalBits(out.logits, id, (j - 1) * V, V);
}

/**
 * Writes the rows of one forward pass (layer-major, `out.tokens` rows starting at local position `local` of the
 * window that starts at `start`) into the token-major result. The surprisal of a token needs the logits of the token
 * before it: the first row of a resumed window keeps the value already copied from the previous analysis.
 */
export function fillRows(r: RoutingResult, out: ForwardResult, start: number, local: number, L: number, E: number, K: number, V: number): void {
  const n = out.tokens;
  for (let j = 0; j < n; j++) {
    const t = start + local + j;
    for (let l = 0; l < L; l++) {
      // the graph's outputs are layer-major: row (l, j); the result is token-major
      const row = layerMajorIndex(n, l, j);
      for (let k = 0; k < K; k++) {
        r.experts[slotIndex(r.model, t, l, k)] = out.expertIds[layerMajorIndex(n, l, j, K, k)];
        r.weights[slotIndex(r.model, t, l, k)] = out.expertWeights[layerMajorIndex(n, l, j, K, k)];
      }
      r.entropy[layerIndex(r.model, t, l)] = routerEntropy(out, row, E);
    }
    if (local + j === 0) r.surprisal[t] = out.firstScored ? tokenSurprisal(out, 0, r.ids[t], V) : 0;
    else if (j > 0) r.surprisal[t] = tokenSurprisal(out, j, r.ids[t], V);
  }
}
